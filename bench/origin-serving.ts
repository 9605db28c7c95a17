/**
 * Helpers of bench/origin.ts for segment serving: a 10-minute 720p recording ingested once into an
 * FsStore (kept beside the bench media), nginx serving that store's object files, the origin in its own
 * process, wrk with a Lua script of random fragment byte ranges, and a summary of a CPU profile.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { multihashFromHex, multihashToHex } from '@dreamdb/engine';
import { FsStore } from '@dreamdb/engine/node';
import { trackEntries } from '@dreamdb/engine/query';
import { objectKey, Session, SpaceStore } from '@dreamdb/engine/store';
import { ingest } from '@dreamdb/packager';
import { BENCH_MEDIA, recording } from './lib.ts';

export const MEDIA = BENCH_MEDIA;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SPACE = 'bench';

/** One fragment as both servers name it. */
export interface Fragment {
  readonly hash: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The recording ingested (remuxed, 2 s fragments) into an FsStore, kept in the media directory so later
 * runs skip the ingest; its video fragments' byte ranges, its video CMAF header and first fragment.
 */
export async function servingStore(
  seconds: number,
): Promise<{ dir: string; fragments: Fragment[]; init: Uint8Array; first: Uint8Array }> {
  const dir = join(MEDIA, `origin-store-talk-720p-${seconds}s`);
  if (!existsSync(dir)) {
    const input = recording(seconds);
    console.log(`ingesting ${input} into ${dir} (once)…`);
    rmSync(`${dir}.part`, { recursive: true, force: true });
    const store = await FsStore.open(`${dir}.part`);
    await ingest(new Session(new SpaceStore(store, SPACE)), input, { timeline: 's1', remuxOnly: true });
    await store.close();
    renameSync(`${dir}.part`, dir);
  }
  const store = await FsStore.open(dir);
  try {
    const session = new Session(new SpaceStore(store, SPACE));
    const main = await session.resolve('main');
    const video = main?.manifest.tracks.find((t) => t.kind === 'stream' && t.modality.startsWith('video'));
    if (!video) throw new Error(`${dir} has no video track; delete it to ingest again`);
    const fragments: Fragment[] = [];
    for await (const e of trackEntries(session, video))
      fragments.push({ hash: multihashToHex(e.object), start: e.start, end: e.end });
    const first = fragments[0]!;
    const head = await store.get(objectKey(SPACE, multihashFromHex(first.hash)), first);
    return { dir, fragments, init: await session.store.getObject(video.init!), first: head.body };
  } finally {
    await store.close();
  }
}

/** A port nothing listens on now (the server started next binds it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${what} did not answer ${url}`);
}

function stopper(child: ChildProcess, signal: NodeJS.Signals): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
}

/** A running server: where it listens and how to stop it. */
export interface Running {
  readonly base: string;
  /** The same process's token-checking origin, when started with an issuer. */
  readonly tokenBase?: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * nginx (one worker, sendfile) serving the store's bucket directory as files, so
 * /spaces/<space>/objects/<hash> is the very file the origin reads. Not a daemon; everything in `work`.
 */
export function startNginx(storeDir: string, work: string): Promise<Running> {
  return startStaticNginx(join(storeDir, 'buckets', 'dreamdb'), work);
}

/**
 * nginx (one worker, sendfile) serving a directory as static files, with the HLS/DASH media types and
 * CORS (a page on another loopback port reads them), like a static origin of a CDN.
 */
export async function startStaticNginx(root: string, work: string): Promise<Running> {
  const port = await freePort();
  const temp = (name: string) => join(work, name);
  writeFileSync(
    join(work, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root root;\n' : ''}daemon off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log ${temp('nginx-access.log')};
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types {
    application/vnd.apple.mpegurl m3u8;
    application/dash+xml mpd;
    video/iso.segment m4s;
    video/mp4 mp4;
    text/html html;
    text/javascript js;
  }
  default_type video/mp4;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    add_header Access-Control-Allow-Origin * always;
  }
}
`,
  );
  const child = spawn(
    '/usr/sbin/nginx',
    ['-p', work, '-e', temp('nginx-error.log'), '-c', join(work, 'nginx.conf')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/`, child, 'nginx');
  // SIGQUIT: graceful stop of master and worker.
  return { base, pid: child.pid!, stop: stopper(child, 'SIGQUIT') };
}

/** The origin over the store in a child process (bench/origin-server.ts), optionally CPU-profiled. */
export async function startOrigin(
  storeDir: string,
  profileDir?: string,
  issuerHex?: string,
): Promise<Running> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      join(ROOT, 'bench', 'origin-server.ts'),
      storeDir,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(issuerHex && { env: { ...process.env, DREAMDB_BENCH_ISSUER: issuerHex } }),
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`origin exited (${code}) before listening`)));
  });
  const { port, tokenPort } = JSON.parse(first) as { port: number; tokenPort?: number };
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/v0/health`, child, 'origin');
  return {
    base,
    ...(tokenPort && { tokenBase: `http://127.0.0.1:${tokenPort}` }),
    pid: child.pid!,
    stop: stopper(child, 'SIGTERM'),
  };
}

/**
 * A wrk script: every request a random fragment of the list (each wrk thread its own fixed seed, so
 * both servers get the same sequence), by Range; `done` prints the totals as one JSON line.
 */
export function wrkScript(
  file: string,
  fragments: readonly Fragment[],
  path: (hash: string) => string,
): void {
  const list = fragments.map((f) => `{"${path(f.hash)}","bytes=${f.start}-${f.end - 1}"}`).join(',\n');
  writeFileSync(
    file,
    `local list = {
${list}
}
local reqs = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(7919 * id)
  for i, f in ipairs(list) do
    reqs[i] = wrk.format("GET", f[1], { ["Range"] = f[2] })
  end
end
function request()
  return reqs[math.random(#reqs)]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"bytes":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`,
  );
}

/** What one wrk run measured. */
export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** wrk -t2 -c64 against `base` for `seconds`. */
export function runWrk(base: string, script: string, seconds: number, connections = 64): WrkResult {
  const result = spawnSync(
    '/usr/bin/wrk',
    ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `${base}/`],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const line = result.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (result.status !== 0 || !line) throw new Error(`wrk failed: ${result.stderr}${result.stdout}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
  const s = r.us! / 1e6;
  return {
    requestsPerSecond: r.requests! / s,
    megabytesPerSecond: r.bytes! / s / 1e6,
    requests: r.requests!,
    errors: r.connect! + r.read! + r.write! + r.status! + r.timeout!,
    p50Ms: r.p50! / 1000,
    p99Ms: r.p99! / 1000,
  };
}

/** The counters of a Prometheus text page, by name (labels kept in the name). */
export async function scrape(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Self time of a CPU profile by function and by where the code lives, as printable lines. */
export function profileSummary(dir: string, top = 25): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [`no .cpuprofile in ${dir}`];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, '').replace(ROOT, '');
    const name = `${functionName || '(anonymous)'} ${where ? `${where.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`;
    self.set(name, (self.get(name) ?? 0) + us);
    const place = !url
      ? functionName.startsWith('(')
        ? functionName
        : '(native)'
      : url.startsWith('node:')
        ? 'node: internals'
        : (/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? where.split('/').slice(0, 3).join('/'));
    area.set(place, (area.get(place) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`CPU profile of the origin (${file}, ${(total / 1e6).toFixed(1)} s sampled), self time:`];
  for (const [name, us] of [...area].sort((a, b) => b[1] - a[1]).slice(0, 12))
    lines.push(`  ${pct(us)}  ${name}`);
  lines.push('  top functions:');
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(us)}  ${name}`);
  return lines;
}
