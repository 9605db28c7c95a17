/**
 * HTTP/2 vs HTTP/1.1 between the engine and the object store (spec 0005 §6, OQ-29): the same client
 * (HttpStore, undici) against the embedded store in its own process, over HTTP/1.1 keep-alive (the
 * baseline) and over h2c (HTTP/2 with prior knowledge), in the same run: 4 KiB PUTs and GETs (32 in
 * flight), 64 MiB PUTs and GETs (one at a time), and the engine's own paths: publishing event items,
 * writing stream fragments (spill + publish, as the packager does) and cold 1-second range queries.
 * Each row prints its throughput beside HTTP/1.1's as a ratio, with p99 latency (per request, or per
 * query for ranges) beside it.
 * Run: npm run bench -- http2   (DREAMDB_BENCH_SMALL=2000 for a quicker run)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashBytes } from '@dreamdb/engine';
import { HttpStore } from '@dreamdb/engine/node';
import { range } from '@dreamdb/engine/query';
import { type ObjectStore, objectKey, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, spill, Writer } from '@dreamdb/engine/write';
import { detectionWriter, quantile, timed } from './lib.ts';

const SMALL = Number(process.env.DREAMDB_BENCH_SMALL ?? 4000);
/** Rounds per path, HTTP/1.1 and h2c taking turns; the median round is printed (the machine is shared). */
const ROUNDS = Number(process.env.DREAMDB_BENCH_ROUNDS ?? 3);
const LARGE = 64 << 20;
const LARGE_OPS = 4;
const IN_FLIGHT = 32;
const EVENTS = 300_000;
const FRAGMENTS = 192; // of 512 KiB: 96 MiB of media, spilled every 16 MiB
const RANGES = 300;
const MS = 1_000_000n;
const PROTOCOLS = ['h1', 'h2c'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-bench-http2-'));
let server: ChildProcess | undefined;

/** The embedded store in a process of its own (as `dreamdb store serve` runs it), from the sources. */
function startStore(): Promise<string> {
  const script = `import { startStoreServer } from '@dreamdb/engine/node';
const s = await startStoreServer({ dir: ${JSON.stringify(join(dir, 'store'))} });
console.log('listening at ' + s.url + '/');`;
  server = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script],
    {
      cwd: join(import.meta.dirname, '../engine'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    server!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = / at (http:\/\/[^/\s]+)\//.exec(out);
      if (match) resolve(match[1]!);
    });
    server!.on('exit', (status) => reject(new Error(`the store exited ${status}: ${out}`)));
  });
}

/** An ObjectStore that records every request's latency (ms). */
class TimedStore implements ObjectStore {
  latencies: number[] = [];
  constructor(private readonly inner: HttpStore) {}
  get name() {
    return this.inner.name;
  }
  private async time<T>(op: Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await op;
    this.latencies.push(performance.now() - start);
    return result;
  }
  get: ObjectStore['get'] = (key, range) => this.time(this.inner.get(key, range));
  head: ObjectStore['head'] = (key) => this.time(this.inner.head(key));
  put: ObjectStore['put'] = (key, body, options) => this.time(this.inner.put(key, body, options));
  delete: ObjectStore['delete'] = (key) => this.time(this.inner.delete(key));
  list: ObjectStore['list'] = (prefix, options) => this.time(this.inner.list(prefix, options));
}

interface Measure {
  value: number;
  unit: string;
  p99: number;
  p99unit: string;
}

/** Run `count` operations with `IN_FLIGHT` at a time; requests/s and p99 request latency. */
async function pump(store: TimedStore, count: number, op: (i: number) => Promise<unknown>): Promise<Measure> {
  store.latencies = [];
  let next = 0;
  const seconds = await timed(() =>
    Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) await op(next++);
      }),
    ),
  );
  return { value: count / seconds, unit: 'req/s', p99: quantile(store.latencies, 0.99), p99unit: 'ms' };
}

/** One at a time, `LARGE_OPS` times: MB/s and p99 (here: the slowest) request latency. */
async function serial(store: TimedStore, op: (i: number) => Promise<unknown>): Promise<Measure> {
  store.latencies = [];
  const seconds = await timed(async () => {
    for (let i = 0; i < LARGE_OPS; i++) await op(i);
  });
  return {
    value: (LARGE_OPS * LARGE) / seconds / 1e6,
    unit: 'MB/s',
    p99: quantile(store.latencies, 0.99),
    p99unit: 'ms',
  };
}

/** Event items published through the engine (buckets, index pages, manifest: 16 uploads in flight). */
async function publishEvents(store: TimedStore, space: string): Promise<Measure> {
  const writer = detectionWriter();
  for (let i = 0; i < EVENTS; i++)
    writer.write('run', 'det', [{ tick: BigInt(i) * 10n * MS, payload: { label: 'cup', score: i % 1000 } }]);
  store.latencies = [];
  const seconds = await timed(() =>
    publish(new Session(new SpaceStore(store, space)), writer, { ref: 'main' }),
  );
  return { value: EVENTS / seconds, unit: 'items/s', p99: quantile(store.latencies, 0.99), p99unit: 'ms' };
}

/** Stream fragments written as the packager writes them: spilled every 16 MiB, then published. */
async function writeFragments(store: TimedStore, space: string, fragment: Uint8Array): Promise<Measure> {
  const session = new Session(new SpaceStore(store, space));
  const writer = new Writer().timeline({ name: 'run' }).track({
    timeline: 'run',
    name: 'video',
    kind: 'stream',
    modality: 'video.h264',
    rate: { num: 90_000n, den: 1n },
    codecs: 'avc1.64001f',
    init: hashBytes(fragment.subarray(0, 64)),
  });
  store.latencies = [];
  const seconds = await timed(async () => {
    for (let i = 0; i < FRAGMENTS; i++) {
      // Each fragment differs (its first bytes), as real media does: no bucket is stored twice.
      const bytes = fragment.slice();
      new DataView(bytes.buffer).setUint32(0, i);
      writer.write('run', 'video', [{ tick: BigInt(i) * 2000n * MS, duration: 2000n * MS, payload: bytes }]);
      if (writer.stagedBytes('run', 'video') >= 16 << 20)
        await spill(session, writer, 'run', 'video', { wait: false });
    }
    await publish(session, writer, { ref: 'main' });
  });
  return {
    value: (FRAGMENTS * fragment.length) / seconds / 1e6,
    unit: 'MB/s',
    p99: quantile(store.latencies, 0.99),
    p99unit: 'ms',
  };
}

/** Cold 1-second range queries over the published events: a new session each (index pages fetched). */
async function ranges(store: TimedStore, space: string): Promise<Measure> {
  const times: number[] = [];
  let seed = 42;
  const seconds = await timed(async () => {
    for (let q = 0; q < RANGES; q++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const t0 = BigInt(Math.floor((seed / 2 ** 32) * (EVENTS / 100 - 1) * 1000)) * MS;
      const start = performance.now();
      const session = new Session(new SpaceStore(store, space));
      const main = (await session.resolve('main'))!;
      await range(session, main, { timeline: 'run', t0, t1: t0 + 1000n * MS });
      times.push(performance.now() - start);
    }
  });
  return { value: RANGES / seconds, unit: 'queries/s', p99: quantile(times, 0.99), p99unit: 'ms/query' };
}

try {
  const url = await startStore();
  const stores = Object.fromEntries(
    PROTOCOLS.map((protocol) => [
      protocol,
      new TimedStore(new HttpStore({ endpoint: url, bucket: 'dreamdb', protocol, connections: IN_FLIGHT })),
    ]),
  ) as Record<Protocol, TimedStore>;
  // Each protocol writes objects of its own: no PUT finds its object already there.
  const small = Object.fromEntries(
    PROTOCOLS.map((p) => {
      const bodies: Uint8Array[] = Array.from({ length: SMALL * ROUNDS }, () => randomBytes(4096));
      return [p, { bodies, keys: bodies.map((b) => objectKey('bench', hashBytes(b))) }];
    }),
  ) as Record<Protocol, { bodies: Uint8Array[]; keys: string[] }>;
  const large = randomBytes(LARGE);
  const fragment = randomBytes(512 * 1024);
  // Warm-up: connections open, code compiled, on both protocols.
  for (const p of PROTOCOLS)
    await pump(stores[p], 500, (i) => stores[p].put(`warm/${p}/${i}`, small[p].bodies[i]!));

  const rows: { name: string; p: Protocol; m: Measure; spread: [number, number] }[] = [];
  const measure = async (
    name: string,
    run: (p: Protocol, store: TimedStore, round: number) => Promise<Measure>,
  ) => {
    const rounds: Record<Protocol, Measure[]> = { h1: [], h2c: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with the other protocol, so neither always runs first.
      const order = round % 2 === 0 ? PROTOCOLS : [...PROTOCOLS].reverse();
      for (const p of order) rounds[p].push(await run(p, stores[p], round));
    }
    for (const p of PROTOCOLS) {
      const sorted = rounds[p].sort((a, b) => a.value - b.value);
      rows.push({
        name,
        p,
        m: sorted[Math.floor(sorted.length / 2)]!,
        spread: [sorted[0]!.value, sorted.at(-1)!.value],
      });
    }
  };
  const at = (round: number, i: number) => round * SMALL + i;
  await measure('PUT 4 KiB (content, If-None-Match)', (p, s, r) =>
    pump(s, SMALL, (i) => s.put(small[p].keys[at(r, i)]!, small[p].bodies[at(r, i)]!, { ifNoneMatch: '*' })),
  );
  await measure('GET 4 KiB', (p, s, r) => pump(s, SMALL, (i) => s.get(small[p].keys[at(r, i)]!)));
  await measure('PUT 64 MiB', (p, s, r) => serial(s, (i) => s.put(`large/${p}/${r}/${i}`, large)));
  await measure('GET 64 MiB', (p, s, r) => serial(s, (i) => s.get(`large/${p}/${r}/${i}`)));
  await measure(`engine: publish ${EVENTS / 1000}k event items`, (p, s, r) =>
    publishEvents(s, `events-${p}-${r}`),
  );
  await measure(`engine: ${FRAGMENTS} fragments of 512 KiB, spill + publish`, (p, s, r) =>
    writeFragments(s, `media-${p}-${r}`, fragment),
  );
  await measure('engine: 1-second range, cold session', (p, s, r) => ranges(s, `events-${p}-${r}`));
  await Promise.all(PROTOCOLS.map((p) => (stores[p] as unknown as { inner: HttpStore }).inner.close()));

  console.log(
    `\nHttpStore over HTTP/1.1 (baseline, up to ${IN_FLIGHT} connections) vs h2c (one connection), embedded store in its own process; median of ${ROUNDS} rounds [min–max]`,
  );
  console.log(
    `${'path'.padEnd(52)}${'protocol'.padEnd(10)}${'figure'.padStart(12)}  ${'unit'.padEnd(10)}${'ratio'.padStart(7)}${'p99'.padStart(10)}  unit`,
  );
  for (const row of rows) {
    const base = rows.find((r) => r.name === row.name && r.p === 'h1')!.m;
    const { value, unit, p99, p99unit } = row.m;
    console.log(
      `${row.name.padEnd(52)}${(row.p === 'h1' ? 'HTTP/1.1' : 'h2c').padEnd(10)}${value.toFixed(value >= 100 ? 0 : 1).padStart(12)}  ${unit.padEnd(10)}${`${(value / base.value).toFixed(2)}x`.padStart(7)}${p99.toFixed(1).padStart(10)}  ${p99unit.padEnd(9)}  [${row.spread.map((v) => v.toFixed(v >= 100 ? 0 : 1)).join('–')}]`,
    );
  }
  console.log('(ratio: figure / the same path over HTTP/1.1; p99 of request latency, or of query latency)');
} finally {
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
