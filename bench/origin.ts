/**
 * The origin (issue 6), each figure beside a baseline measured in the same run:
 * 1. Segment serving: wrk (2 threads, 64 connections) asks for random ~0.8 MB video fragments of a
 *    10-minute 720p recording by byte range, from nginx (1 worker, sendfile) serving the FsStore's object
 *    files, then from the origin in a process of its own over that very store: req/s and MB/s, and the
 *    origin's byte-cache hit rate from /metrics. Goal: >= 1.0x nginx. The same requests with a token in
 *    their URLs to a token-checking origin in that process: goal >= 0.95x of the open origin.
 * 2. Playlist generation for a 24-hour timeline (43,200 fragments of 2 s, in memory): ms per GET of the
 *    HLS media playlist (and the DASH MPD when that route answers), warm and cold, beside walking the
 *    same index with trackEntries. Goal: p99 < 20 ms.
 * 3. Seek resolution at random ticks of that timeline: seekEntry and the HTTP seek route, beside a binary
 *    search over the ticks in a sorted array. Goal: p99 < 2 ms warm.
 * Run: npm run bench -- origin
 *   DREAMDB_BENCH_MINUTES=10 (recording), DREAMDB_BENCH_WRK_SECONDS=10,
 *   DREAMDB_BENCH_PROFILE=1: one more origin run under `node --cpu-prof`, summarized (self time);
 *   DREAMDB_BENCH_SKIP_SERVING=1 / DREAMDB_BENCH_SKIP_DAY=1: leave out part 1 / parts 2 and 3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Track, toHex } from '@dreamdb/engine';
import { issueToken, newIssuerKey } from '@dreamdb/engine/access';
import { seekEntry, trackEntries } from '@dreamdb/engine/query';
import { type MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { serve } from '@hono/node-server';
import { createOrigin } from '../server/src/origin/app.ts';
import { printTable, quantile, type Row } from './lib.ts';
import { DAY_FRAGMENTS, dayTimeline, floorIndex, random, SECOND, sample } from './origin-day.ts';
import {
  type Fragment,
  profileSummary,
  runWrk,
  SPACE,
  scrape,
  servingStore,
  startNginx,
  startOrigin,
  type WrkResult,
  wrkScript,
} from './origin-serving.ts';

const MINUTES = Number(process.env.DREAMDB_BENCH_MINUTES ?? 10);
/** Seconds of wrk per server, in ROUNDS turns each. */
const WRK_SECONDS = Number(process.env.DREAMDB_BENCH_WRK_SECONDS ?? 12);
const ROUNDS = 3;
const PROFILE = process.env.DREAMDB_BENCH_PROFILE === '1';
/** Most ms spent sampling one playlist series (at least 5 samples are taken). */
const BUDGET = 6000;
const work = mkdtempSync(join(tmpdir(), 'dreamdb-bench-origin-'));

const ms = (x: number) => `${x.toFixed(2)} ms`;

async function serving(): Promise<void> {
  const { dir, fragments } = await servingStore(MINUTES * 60);
  const sizes = fragments.map((f) => f.end - f.start);
  const mean = sizes.reduce((s, x) => s + x, 0) / sizes.length;
  const buckets = new Set(fragments.map((f) => f.hash)).size;
  console.log(
    `serving: ${fragments.length} video fragments of ${MINUTES} min 720p in ${buckets} buckets, mean ${(mean / 1e3).toFixed(0)} KB (min ${(Math.min(...sizes) / 1e3).toFixed(0)}, max ${(Math.max(...sizes) / 1e3).toFixed(0)}); wrk -t2 -c64, ${ROUNDS} rounds of ${WRK_SECONDS / ROUNDS} s per server taking turns, after a 3 s warm-up of each`,
  );
  const nginxScript = join(work, 'nginx.lua');
  const originScript = join(work, 'origin.lua');
  wrkScript(nginxScript, fragments, (hash) => `/spaces/${SPACE}/objects/${hash}`);
  wrkScript(originScript, fragments, (hash) => `/objects/${SPACE}/${hash}.m4s`);
  // The same requests to the same process's token-checking origin, each with a read token in its URL as
  // playlists served to a token write them (spec 0018 §4.3).
  const issuer = newIssuerKey();
  const token = issueToken(issuer, {
    tenant: 'default',
    rights: ['read'],
    spaces: [SPACE],
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const tokenScript = join(work, 'token.lua');
  wrkScript(tokenScript, fragments, (hash) => `/objects/${SPACE}/${hash}.m4s?token=${token}`);

  // Rounds that take turns (nginx, then the origin), so a neighbour's load on this VM falls on both.
  const nginx = await startNginx(dir, work);
  let origin = await startOrigin(dir, undefined, toHex(issuer.publicKey));
  const nginxRuns: WrkResult[] = [];
  const originRuns: WrkResult[] = [];
  const tokenRuns: WrkResult[] = [];
  let before: Map<string, number>;
  let after: Map<string, number>;
  try {
    await sameBytes(nginx.base, origin.base, fragments);
    runWrk(nginx.base, nginxScript, 3);
    runWrk(origin.base, originScript, 3);
    runWrk(origin.tokenBase!, tokenScript, 3);
    before = await scrape(origin.base);
    for (let round = 0; round < ROUNDS; round++) {
      nginxRuns.push(runWrk(nginx.base, nginxScript, WRK_SECONDS / ROUNDS));
      originRuns.push(runWrk(origin.base, originScript, WRK_SECONDS / ROUNDS));
      tokenRuns.push(runWrk(origin.tokenBase!, tokenScript, WRK_SECONDS / ROUNDS));
    }
    after = await scrape(origin.base);
  } finally {
    await nginx.stop();
    await origin.stop();
  }
  const nginxResult = combine(nginxRuns);
  const originResult = combine(originRuns);
  const tokenResult = combine(tokenRuns);
  const ratios = originRuns.map((r, i) => r.requestsPerSecond / nginxRuns[i]!.requestsPerSecond);
  console.log(`per-round ratios (origin / nginx req/s): ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}`);
  const tokenRatios = tokenRuns.map((r, i) => r.requestsPerSecond / originRuns[i]!.requestsPerSecond);
  console.log(
    `token checks: ${(tokenResult.requestsPerSecond / originResult.requestsPerSecond).toFixed(2)}x of the open origin's req/s (goal >= 0.95x; rounds ${tokenRatios.map((r) => `${r.toFixed(2)}x`).join(', ')})`,
  );
  const row = (name: string, r: WrkResult, base?: WrkResult): Row => ({
    name,
    value: r.requestsPerSecond,
    unit: 'req/s',
    note: `${r.megabytesPerSecond.toFixed(0)} MB/s${base ? ` (${(r.megabytesPerSecond / base.megabytesPerSecond).toFixed(2)}x)` : ''}, latency p50 ${ms(r.p50Ms)} p99 ${ms(r.p99Ms)} (worst round)${r.errors ? `, ${r.errors} ERRORS` : ''}`,
  });
  printTable(
    'Segment serving: random fragment byte ranges, wrk -t2 -c64 on loopback (goal >= 1.0x nginx)',
    [
      row('nginx 1.22, 1 worker, sendfile, same files', nginxResult),
      row('dreamdb origin (Hono, own process, FsStore)', originResult, nginxResult),
      row('dreamdb origin checking a token on every request', tokenResult, nginxResult),
    ],
    'nginx 1.22, 1 worker, sendfile, same files',
  );
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const hits = delta('dreamdb_cache_hits_total');
  const misses = delta('dreamdb_cache_misses_total');
  console.log(
    `origin byte cache during the measured run: hit rate ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}% (${hits} hits, ${misses} misses, ${delta('dreamdb_cache_prefetches_total')} prefetches, ${delta('dreamdb_cache_prefetch_hits_total')} prefetch hits, ${delta('dreamdb_cache_evictions_total')} evictions); since start ${(100 * (after.get('dreamdb_cache_hit_ratio') ?? 0)).toFixed(1)}%; store GETs ${delta('dreamdb_store_requests_total{op="get"}')}, HEADs ${delta('dreamdb_store_requests_total{op="head"}')}; ${((after.get('dreamdb_cache_bytes') ?? 0) / 2 ** 20).toFixed(0)} MiB held`,
  );

  if (PROFILE) {
    const profileDir = join(work, 'profile');
    origin = await startOrigin(dir, profileDir);
    try {
      runWrk(origin.base, originScript, 3);
      const profiled = runWrk(origin.base, originScript, WRK_SECONDS);
      console.log(
        `\nprofiled origin run: ${profiled.requestsPerSecond.toFixed(0)} req/s (under --cpu-prof; 3 s warm-up included in the profile)`,
      );
    } finally {
      await origin.stop();
    }
    for (const line of profileSummary(profileDir)) console.log(line);
  }
}

/** Several wrk runs as one: requests and bytes over their total time; latencies the worst run's. */
function combine(runs: readonly WrkResult[]): WrkResult {
  const seconds = runs.reduce((s, r) => s + r.requests / r.requestsPerSecond, 0);
  const requests = runs.reduce((s, r) => s + r.requests, 0);
  const megabytes = runs.reduce((s, r) => s + (r.megabytesPerSecond * r.requests) / r.requestsPerSecond, 0);
  return {
    requestsPerSecond: requests / seconds,
    megabytesPerSecond: megabytes / seconds,
    requests,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
  };
}

/** A few ranges from both servers: 206, the same bytes, the length asked for. */
async function sameBytes(nginx: string, origin: string, fragments: readonly Fragment[]): Promise<void> {
  for (const f of [fragments[0]!, fragments[Math.floor(fragments.length / 2)]!, fragments.at(-1)!]) {
    const range = { range: `bytes=${f.start}-${f.end - 1}` };
    const a = await fetch(`${nginx}/spaces/${SPACE}/objects/${f.hash}`, { headers: range });
    const b = await fetch(`${origin}/objects/${SPACE}/${f.hash}.m4s`, { headers: range });
    const [x, y] = [Buffer.from(await a.arrayBuffer()), Buffer.from(await b.arrayBuffer())];
    if (a.status !== 206 || b.status !== 206 || x.length !== f.end - f.start || !x.equals(y))
      throw new Error(
        `nginx (${a.status}, ${x.length} B) and the origin (${b.status}, ${y.length} B) differ`,
      );
  }
}

async function day(): Promise<void> {
  // The recording's CMAF header and first fragment, for routes that parse them (DASH).
  const media = await servingStore(MINUTES * 60);
  const built = process.hrtime.bigint();
  const { store, ticks } = await dayTimeline(media);
  console.log(
    `\n24-hour timeline: ${DAY_FRAGMENTS} fragments of 2 s written and published in ${(Number(process.hrtime.bigint() - built) / 1e9).toFixed(1)} s (memory store)`,
  );
  const session = new Session(new SpaceStore(store, SPACE));
  const main = (await session.resolve('main'))!;
  const track = main.manifest.tracks.find((t) => t.name === 'video')!;
  console.log(`index: ${track.index!.count} entries, height ${track.index!.height}`);
  const walk = async () => {
    let n = 0;
    for await (const _ of trackEntries(session, track)) n++;
    if (n !== DAY_FRAGMENTS) throw new Error(`walked ${n} entries`);
  };
  await walk();

  // One origin for the warm figures, also on loopback HTTP (keep-alive) from this process.
  const warm = createOrigin({ store });
  const server = serve({ fetch: warm.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  // The cold samples leave the keep-alive socket idle longer than Node's default 5 s: the server would
  // close it while the agent reuses it (ECONNRESET).
  (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 10 * 60_000;
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const http = (path: string) =>
    new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, agent }, (res) => {
        let n = 0;
        res.on('data', (chunk: Buffer) => {
          n += chunk.length;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(n) : reject(new Error(`${path}: ${res.statusCode}`)),
        );
      })
        .on('error', reject)
        .end();
    });
  try {
    // Seeks first: the playlists' garbage would otherwise be collected during them.
    await seeks(store, ticks, session, track, warm, http);
    await playlists(store, walk, warm, http);
  } finally {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

type Http = (path: string) => Promise<number>;
type Origin = ReturnType<typeof createOrigin>;

/** Seek at random ticks: floor in a sorted array, seekEntry, the HTTP route in-process and on loopback. */
async function seeks(
  store: MemoryStore,
  ticks: BigInt64Array,
  session: Session,
  track: Track,
  warm: Origin,
  http: Http,
): Promise<void> {
  const end = Number(ticks.at(-1)! + 2n * SECOND);
  const place = random(42);
  const places = Array.from({ length: 2000 }, () => BigInt(Math.floor(place() * end)));
  const us = (xs: number[]) => xs.map((x) => x * 1000);
  let sink = 0;
  const array = us(
    await sample(places.length, (i) => {
      sink += floorIndex(ticks, places[i]!);
    }),
  );
  const direct = us(
    await sample(places.length, async (i) => {
      const e = await seekEntry(session, track, places[i]!);
      if (e?.tick !== ticks[floorIndex(ticks, places[i]!)]) throw new Error(`seek ${places[i]} went wrong`);
    }),
  );
  const cold = us(
    await sample(
      200,
      async (i) => {
        const fresh = new Session(new SpaceStore(store, SPACE));
        const r = (await fresh.resolve('main'))!;
        sink += (await seekEntry(fresh, r.manifest.tracks[0]!, places[i]!)) ? 1 : 0;
      },
      BUDGET,
    ),
  );
  const seekPath = (i: number) => `/v0/spaces/bench/timelines/day/seek?t=${places[i]}`;
  // Warm: the index pages of every place asked for are in the origin's session.
  for (let i = 0; i < places.length; i++) await warm.request(seekPath(i));
  const route = us(
    await sample(places.length, async (i) => {
      const res = await warm.request(seekPath(i));
      const body = (await res.json()) as { tracks: { tick: string }[] };
      if (BigInt(body.tracks[0]!.tick) !== ticks[floorIndex(ticks, places[i]!)])
        throw new Error(`seek route at ${places[i]} went wrong`);
    }),
  );
  const overHttp = us(await sample(places.length, (i) => http(seekPath(i))));
  const row = (name: string, xs: number[], note = ''): Row => ({
    name,
    value: quantile(xs, 0.5),
    unit: 'µs p50',
    note: `p99 ${quantile(xs, 0.99).toFixed(xs === array ? 2 : 0)} µs (n=${xs.length})${note}`,
  });
  const rows: Row[] = [
    row('baseline: binary search over a sorted BigInt64Array', array, "; the timer's own cost included"),
    row('seekEntry, warm session', direct),
    row('seekEntry, cold (new session + resolve each)', cold),
    row('seek route, app.request, warm', route),
    row('seek route, loopback HTTP keep-alive, warm', overHttp),
  ];
  printTable(
    `Seek at ${places.length} random ticks of the 24-hour timeline (lower is better; goal p99 < 2 ms warm)`,
    rows,
    rows[0]!.name,
  );
  if (sink < 0) console.log(sink);
}

/** GETs of the 24-hour timeline's HLS media playlist (and DASH MPD), beside walking its index. */
async function playlists(
  store: MemoryStore,
  walk: () => Promise<void>,
  warm: Origin,
  http: Http,
): Promise<void> {
  const walkMs = await sample(50, walk, BUDGET);
  const playlist = '/hls/bench/main/day/video.m3u8';
  const mpd = '/dash/bench/main/day/manifest.mpd';
  const get = async (app: Origin, path: string, encoding?: string) => {
    const res = await app.request(path, encoding ? { headers: { 'accept-encoding': encoding } } : {});
    const body = await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString().slice(0, 200)}`);
    return body.byteLength;
  };
  const bytes = await get(warm, playlist);
  const gzBytes = await get(warm, playlist, 'gzip');
  const brBytes = await get(warm, playlist, 'br');
  const hlsWarm = await sample(50, () => get(warm, playlist), BUDGET);
  const hlsCold = await sample(20, () => get(createOrigin({ store }), playlist), BUDGET);
  const hlsGzip = await sample(20, () => get(warm, playlist, 'gzip'), BUDGET);
  const hlsBr = await sample(20, () => get(warm, playlist, 'br, gzip'), BUDGET);
  const hlsHttp = await sample(50, () => http(playlist), BUDGET);

  /** A series as its p50 row, with p99 (or the max of few samples), the count and any extra. */
  const series = (name: string, xs: number[], extra = ''): Row => ({
    name,
    value: quantile(xs, 0.5),
    unit: 'ms p50',
    note: `${xs.length >= 50 ? `p99 ${ms(quantile(xs, 0.99))}` : `max ${ms(quantile(xs, 1))}`} (n=${xs.length})${extra}`,
  });
  const rows: Row[] = [
    series('baseline: walk the index (trackEntries), warm', walkMs),
    series('HLS media playlist, warm (kept by ETag)', hlsWarm, `; ${(bytes / 1e6).toFixed(2)} MB`),
    series('HLS media playlist, cold: generated (new origin each)', hlsCold),
    series('HLS media playlist, warm, gzip', hlsGzip, `; ${(gzBytes / 1e3).toFixed(0)} KB`),
    series('HLS media playlist, warm, br', hlsBr, `; ${(brBytes / 1e3).toFixed(0)} KB`),
    series('HLS media playlist, warm, loopback HTTP', hlsHttp),
  ];
  const dash = await warm.request(mpd);
  if (dash.status === 200) {
    const dashBytes = (await dash.arrayBuffer()).byteLength;
    const dashWarm = await sample(50, () => get(warm, mpd), BUDGET);
    const dashCold = await sample(20, () => get(createOrigin({ store }), mpd), BUDGET);
    rows.push(
      series('DASH MPD, warm (kept by ETag)', dashWarm, `; ${(dashBytes / 1e6).toFixed(2)} MB`),
      series('DASH MPD, cold: generated (new origin each)', dashCold),
    );
  } else {
    const text = (await dash.text()).slice(0, 160);
    console.log(`DASH MPD: ${mpd} answers ${dash.status} (${text}); skipped`);
  }
  printTable(
    `Playlist of a 24-hour timeline (${DAY_FRAGMENTS} fragments; app.request unless said; lower is better; goal p99 < 20 ms)`,
    rows,
    rows[0]!.name,
  );
}

try {
  if (process.env.DREAMDB_BENCH_SKIP_SERVING !== '1') await serving();
  if (process.env.DREAMDB_BENCH_SKIP_DAY !== '1') await day();
} finally {
  rmSync(work, { recursive: true, force: true });
}
