/**
 * Ingest and range queries at scale (issue 4): N small event items (10 ms apart, one track, 60-second
 * buckets) written and published through the engine, first into the in-memory store (engine cost alone)
 * then into the embedded store over HTTP (h2c); then 1-second range queries at random places, cold (new
 * session) and warm, with object GETs per query. The baseline in the same run is cbor-x encoding the same
 * items with no index at all (the cost floor of turning items into bytes).
 * Run: npm run bench -- ingest   (DREAMDB_BENCH_ITEMS=10000000 for the full 10M; default 1M)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpStore, startStoreServer } from '@dreamdb/engine/node';
import { range } from '@dreamdb/engine/query';
import { CountingStore, MemoryStore, type ObjectStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish } from '@dreamdb/engine/write';
import { Encoder } from 'cbor-x';
import { detectionWriter, printTable, type Row, timed } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 1_000_000);
const QUERIES = 500;
const MS = 1_000_000n;
const LABELS = ['person', 'car', 'dog', 'bicycle', 'cup'];

function items(from: number, to: number) {
  const out = [];
  for (let i = from; i < to; i++)
    out.push({
      tick: BigInt(i) * 10n * MS,
      payload: { label: LABELS[i % 5]!, score: (i % 1000) / 1000 + 0.0005 },
    });
  return out;
}

async function ingest(store: ObjectStore, n = N) {
  const space = new SpaceStore(store, 'bench');
  const writer = detectionWriter();
  let published: Awaited<ReturnType<typeof publish>> | undefined;
  const usage = process.resourceUsage();
  // The items are made batch by batch outside the clock: only the engine's work is timed.
  let writeSeconds = 0;
  for (let i = 0; i < n; i += 100_000) {
    const batch = items(i, Math.min(n, i + 100_000));
    writeSeconds += await timed(() => {
      writer.write('run', 'det', batch);
    });
  }
  const publishSeconds = await timed(async () => {
    published = await publish(new Session(space), writer, { ref: 'main' });
  });
  const after = process.resourceUsage();
  // Kernel time is mostly first-touch page faults on fresh memory (costly on this VM, ~5 ms per MiB).
  const kernel = {
    seconds: (after.systemCPUTime - usage.systemCPUTime) / 1e6,
    faults: after.minorPageFault - usage.minorPageFault,
  };
  return { published: published!, writeSeconds, publishSeconds, kernel };
}

const rows: Row[] = [];
const plain = new Encoder({ useRecords: false });
let floor = 0;
for (let i = 0; i < N; i += 100_000) {
  const batch = items(i, Math.min(N, i + 100_000));
  floor += await timed(() => {
    for (const item of batch) plain.encode(item.payload);
  });
}
rows.push({ name: 'baseline: cbor-x encode of the payloads only', value: N / floor, unit: 'items/s' });

await ingest(new MemoryStore(), 300_000); // warm-up: compiled code, not the first run's compiler
const memory = await ingest(new MemoryStore());
rows.push({ name: 'write (validate + encode + stage)', value: N / memory.writeSeconds, unit: 'items/s' });
rows.push({
  name: 'publish into memory (buckets + index + manifest)',
  value: N / memory.publishSeconds,
  unit: 'items/s',
});
rows.push({
  name: 'write + publish, memory store',
  value: N / (memory.writeSeconds + memory.publishSeconds),
  unit: 'items/s',
});

console.log(
  `memory run: ${memory.kernel.seconds.toFixed(1)} s of ${(memory.writeSeconds + memory.publishSeconds).toFixed(1)} s in the kernel (${memory.kernel.faults} page faults)`,
);
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-bench-ingest-'));
const server = await startStoreServer({ dir });
const http = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h2c' });
try {
  const embedded = await ingest(http);
  rows.push({
    name: 'write + publish, embedded store over h2c',
    value: N / (embedded.writeSeconds + embedded.publishSeconds),
    unit: 'items/s',
  });
  const det = embedded.published.manifest.tracks.find((t) => t.name === 'det')!;
  let listed = 0;
  for (let token: string | undefined, first = true; first || token; first = false) {
    const page = await http.list('spaces/bench/objects/', token === undefined ? {} : { token });
    listed += page.objects.length;
    token = page.nextToken;
  }
  printTable(
    `Ingest of ${N} event items into one track`,
    rows,
    'baseline: cbor-x encode of the payloads only',
  );
  console.log(
    `objects written: ${embedded.published.objectsWritten} (${(embedded.published.bytesWritten / 2 ** 20).toFixed(1)} MiB, ${(embedded.published.bytesWritten / N).toFixed(1)} bytes/item); index height ${det.index!.height}; ${listed} objects in the store`,
  );

  // Range queries: 1 s at random places; cold = a new session each time, warm = one session.
  const counting = new CountingStore(http);
  const span = Number(det.index!.last / MS) - 1000;
  const latencies = { cold: [] as number[], warm: [] as number[] };
  const gets = { cold: [] as number[], warm: [] as number[] };
  const warmSession = new Session(new SpaceStore(counting, 'bench'));
  const warmMain = (await warmSession.resolve('main'))!;
  let seed = 42;
  for (let q = 0; q < QUERIES; q++) {
    // Uniformly random places (a seeded LCG): evenly spaced ones fall into step with bucket windows.
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const t0 = BigInt(Math.floor((seed / 2 ** 32) * span)) * MS;
    for (const mode of ['cold', 'warm'] as const) {
      const session = mode === 'cold' ? new Session(new SpaceStore(counting, 'bench')) : warmSession;
      const main = mode === 'cold' ? (await session.resolve('main'))! : warmMain;
      counting.reset();
      const seconds = await timed(() => range(session, main, { timeline: 'run', t0, t1: t0 + 1000n * MS }));
      latencies[mode].push(seconds * 1000);
      gets[mode].push(counting.counts.get);
      if (mode === 'warm') {
        counting.reset();
        const again = await timed(() => range(session, main, { timeline: 'run', t0, t1: t0 + 1000n * MS }));
        latencies.warm[latencies.warm.length - 1] = again * 1000;
        gets.warm[gets.warm.length - 1] = counting.counts.get;
      }
    }
  }
  const pct = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  for (const mode of ['cold', 'warm'] as const) {
    console.log(
      `1-second range, ${mode}: p50 ${pct(latencies[mode], 0.5).toFixed(2)} ms, p99 ${pct(latencies[mode], 0.99).toFixed(2)} ms, object GETs per query: p99 ${pct(gets[mode], 0.99)}, max ${Math.max(...gets[mode])}, mean ${(gets[mode].reduce((s, x) => s + x, 0) / QUERIES).toFixed(2)} (index height ${det.index!.height})`,
    );
  }
} finally {
  await http.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
