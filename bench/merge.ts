/**
 * Merging branches of a big track (issue 8): a 10M-event track; branch a adds 100k events among the old
 * ones in one stretch of time, branch b 100k in another; then b is merged into a, from a cold session.
 * Reported: the merge's time and the objects it reads and writes, against the naive path in the same
 * run (read every entry of both versions and build the merged index from scratch), which is what a
 * merge without shared pages would cost. Also the branch publishes (writes among old items: editTree).
 * Run: npm run bench -- merge   (DREAMDB_BENCH_ITEMS=1000000 for a quick run; default 10M)
 */
import { buildTree } from '@dreamdb/engine/format';
import { type IndexEntry, trackEntries } from '@dreamdb/engine/query';
import { CountingStore, MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { createRef, merge } from '@dreamdb/engine/versions';
import { publish, Writer } from '@dreamdb/engine/write';
import { printTable, type Row, timed } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 10_000_000);
const ADDED = Number(process.env.DREAMDB_BENCH_ADDED ?? 100_000);
const MS = 1_000_000n;
const STEP = 100n * MS; // one event every 100 ms

const counting = new CountingStore(new MemoryStore());
const space = new SpaceStore(counting, 'bench');

function events(from: number, to: number, offset: bigint) {
  const out = [];
  for (let i = from; i < to; i++)
    out.push({ tick: BigInt(i) * STEP + offset, payload: { v: i % 1000, ok: true } });
  return out;
}

// The 10M-event track, written in batches (not timed: the ingest bench measures that).
const writer = new Writer().timeline({ name: 'run' }).track({
  timeline: 'run',
  name: 'imu',
  kind: 'event',
  modality: 'sensor.imu',
  bucketDuration: 60_000n * MS,
});
for (let i = 0; i < N; i += 500_000) writer.write('run', 'imu', events(i, Math.min(N, i + 500_000), 0n));
const setup = new Session(space);
const root = await publish(setup, writer, { ref: 'main' });
console.log(`track: ${N} events, index height ${root.manifest.tracks[0]!.index!.height}`);
await createRef(setup, 'heads/a', 'main');
await createRef(setup, 'heads/b', 'main');

/** Publish `ADDED` events among the old ones starting at event `at`, on a branch, from a cold session. */
async function branchWrite(ref: string, at: number, offset: bigint) {
  const session = new Session(space);
  const w = new Writer(await session.resolve(ref));
  w.write('run', 'imu', events(at, at + ADDED, offset));
  const before = { ...counting.counts };
  let objects = 0;
  const seconds = await timed(async () => {
    objects = (await publish(session, w, { ref })).objectsWritten;
  });
  return { seconds, gets: counting.counts.get - before.get, objects };
}
const a = await branchWrite('heads/a', Math.floor(N * 0.2), 50n * MS);
const b = await branchWrite('heads/b', Math.floor(N * 0.6), 25n * MS);

// The merge, from a cold session: only what it reads is fetched.
const session = new Session(space);
const before = { ...counting.counts };
let merged: Awaited<ReturnType<typeof merge>> | undefined;
const mergeSeconds = await timed(async () => {
  merged = await merge(session, { into: 'heads/a', from: ['heads/b'] });
});
const mergeGets = counting.counts.get - before.get;
const mergePuts = counting.counts.put - before.put;
const track = merged!.manifest.tracks[0]!;
if (merged!.outcome !== 'merge' || track.index!.count !== N + 2 * ADDED)
  throw new Error(`the merge lost items: ${track.index!.count} of ${N + 2 * ADDED}`);

// The naive path: every entry of both versions read, the union indexed from scratch.
const naive = new Session(space);
const naiveBefore = { ...counting.counts };
let naivePages = 0;
const naiveSeconds = await timed(async () => {
  const union = new Map<bigint, IndexEntry>();
  for (const ref of ['heads/a', 'heads/b']) {
    const version = (await naive.resolve(ref))!;
    for await (const entry of trackEntries(naive, version.manifest.tracks[0]!)) union.set(entry.tick, entry);
  }
  const sorted = [...union.values()].sort((x, y) => (x.tick < y.tick ? -1 : x.tick > y.tick ? 1 : 0));
  naivePages = buildTree('imu', sorted)!.pages.size;
});
const naiveGets = counting.counts.get - naiveBefore.get;

const rows: Row[] = [
  {
    name: 'naive: read both versions whole, rebuild the index',
    value: 1 / naiveSeconds,
    unit: 'merges/s',
    note: `${naiveGets} GETs, ${naivePages} pages built`,
  },
  {
    name: 'merge (diffTrees + editTree), cold session',
    value: 1 / mergeSeconds,
    unit: 'merges/s',
    note: `${mergeSeconds.toFixed(2)} s; ${mergeGets} GETs, ${mergePuts} PUTs (objects written ${merged!.objectsWritten})`,
  },
  {
    name: `branch publish of ${ADDED} events among old ones (a)`,
    value: 1 / a.seconds,
    unit: 'publish/s',
    note: `${a.seconds.toFixed(2)} s; ${a.gets} GETs, ${a.objects} objects written`,
  },
  {
    name: `branch publish of ${ADDED} events among old ones (b)`,
    value: 1 / b.seconds,
    unit: 'publish/s',
    note: `${b.seconds.toFixed(2)} s; ${b.gets} GETs, ${b.objects} objects written`,
  },
];
printTable(`Merge of two branches adding ${ADDED} events each to a ${N}-event track`, rows, rows[0]!.name);
