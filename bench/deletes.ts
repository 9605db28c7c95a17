/**
 * Deletes at scale (spec 0020): an event track of N items (10 ms apart, text-indexed labels) in the
 * in-memory store; then versions with 1% and 10% of its items deleted (as 10-second stretches spread
 * over the track, the way people delete), each against the version with none deleted in the same run:
 * 1-second range queries and windowed text searches (p50, p99, queries/s), the delete's publish time, and
 * compaction (items moved per second, bucket bytes the head no longer reads), both beside the rate at
 * which the same run published the track.
 * Run: npm run bench -- deletes   (DREAMDB_BENCH_ITEMS=10000000 for 10M; default 1M)
 */
import { range, textSearch } from '@dreamdb/engine/query';
import { MemoryStore, type Resolved, Session, SpaceStore } from '@dreamdb/engine/store';
import { compact, deleteItems, publish } from '@dreamdb/engine/write';
import { detectionWriter, quantile, timed } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 1_000_000);
const QUERIES = 400;
const MS = 1_000_000n;
const STRETCH = 1000; // items per deleted stretch: 10 s
const LABELS = ['person', 'car', 'dog', 'bicycle', 'cup'];

const store = new MemoryStore();
const space = new SpaceStore(store, 'bench');
const session = new Session(space);
const writer = detectionWriter();
for (let i = 0; i < N; i += 100_000) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 100_000); j++)
    batch.push({ tick: BigInt(j) * 10n * MS, payload: { label: LABELS[j % 5]!, score: (j % 1000) / 1000 } });
  writer.write('run', 'det', batch);
}
const ingestSeconds = await timed(() => publish(session, writer, { ref: 'main' }));
// The baseline of delete and compaction speed: publishing the same track's items, same run.
const publishRate = N / ingestSeconds;
console.log(`${N} items published in ${ingestSeconds.toFixed(1)} s (${publishRate.toFixed(0)} items/s)`);

/** A branch of main with `fraction` of the items deleted as 10-second stretches spread evenly. */
async function deleted(fraction: number): Promise<{ version: Resolved; seconds: number; count: number }> {
  const ref = `heads/minus-${Math.round(fraction * 100)}`;
  await space.casRef(ref, (await session.resolve('main'))!.hash, undefined);
  const stretches = Math.max(1, Math.round((N * fraction) / STRETCH));
  const every = Math.floor(N / stretches);
  const selectors = Array.from({ length: stretches }, (_, k) => {
    const from = BigInt(k * every + Math.floor(every / 2)) * 10n * MS;
    return { timeline: 'run', track: 'det', from, to: from + BigInt(STRETCH) * 10n * MS };
  });
  let count = 0;
  const seconds = await timed(async () => {
    count = (await deleteItems(session, { ref, selectors })).deleted;
  });
  return { version: (await session.resolve(ref))!, seconds, count };
}

/** Random 1-second ranges and 60-second-window text searches on a version (the same places each time). */
async function measure(version: Resolved) {
  const reader = new Session(space);
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const spanMs = N * 10;
  const ranges: number[] = [];
  const texts: number[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const t0 = BigInt(Math.floor(next() * (spanMs - 1000))) * MS;
    ranges.push(await timed(() => range(reader, version, { timeline: 'run', t0, t1: t0 + 1000n * MS })));
    const w0 = BigInt(Math.floor(next() * Math.max(1, spanMs - 60_000))) * MS;
    texts.push(
      await timed(() =>
        textSearch(reader, version, {
          timeline: 'run',
          query: LABELS[q % 5]!,
          k: 10,
          t0: w0,
          t1: w0 + 60_000n * MS,
        }),
      ),
    );
  }
  const stats = (xs: number[]) => ({
    p50: quantile(xs, 0.5) * 1e3,
    p99: quantile(xs, 0.99) * 1e3,
    qps: xs.length / xs.reduce((s, x) => s + x, 0),
  });
  return { range: stats(ranges), text: stats(texts) };
}

const main = (await session.resolve('main'))!;
await measure(main); // warm the engine (JIT, page caches of shared pages)
const none = await measure(main);
const line = (name: string, m: Awaited<ReturnType<typeof measure>>) => {
  const r = (x: number, b: number) => `${(x / b).toFixed(2)}x`;
  console.log(
    `${name.padEnd(14)} range p50 ${m.range.p50.toFixed(3)} ms p99 ${m.range.p99.toFixed(3)} ms ${m.range.qps.toFixed(0)}/s (${r(m.range.qps, none.range.qps)} of none)` +
      ` | text p50 ${m.text.p50.toFixed(3)} ms p99 ${m.text.p99.toFixed(3)} ms ${m.text.qps.toFixed(0)}/s (${r(m.text.qps, none.text.qps)} of none)`,
  );
};
console.log(`\n${N} events, 1-second ranges and 60-second-window text searches, ${QUERIES} each:`);
line('none deleted', none);
for (const fraction of [0.01, 0.1]) {
  const d = await deleted(fraction);
  const m = await measure(d.version);
  line(`${fraction * 100}% deleted`, m);
  console.log(
    `${''.padEnd(14)} delete of ${d.count} items: ${d.seconds.toFixed(2)} s (${(d.count / d.seconds).toFixed(0)} items/s, ${(d.count / d.seconds / publishRate).toFixed(2)}x of publishing)`,
  );
  let report: Awaited<ReturnType<typeof compact>> | undefined;
  const seconds = await timed(async () => {
    report = await compact(session, { ref: `heads/minus-${Math.round(fraction * 100)}` });
  });
  console.log(
    `${''.padEnd(14)} compact: ${report!.buckets} buckets, ${report!.items} items moved in ${seconds.toFixed(2)} s (${(report!.items / seconds).toFixed(0)} items/s, ${(report!.items / seconds / publishRate).toFixed(2)}x of publishing); ` +
      `bucket bytes ${report!.bytesBefore} -> ${report!.bytesAfter} (${(((report!.bytesBefore - report!.bytesAfter) / report!.bytesBefore) * 100).toFixed(1)}% no longer read by the head)`,
  );
  const after = await measure((await session.resolve(`heads/minus-${Math.round(fraction * 100)}`))!);
  line(`  compacted`, after);
}
