/**
 * The DreamDB runs of `npm run bench -- search`: DreamDB's `dreamdb.lsh-cosine` index over `data.vectors`,
 * one SearchRun per setting, printed by search.ts beside hnswlib-node.
 *
 * Two levels:
 * - the index alone (LshTables, what a reader holds once a track's segments are loaded), for several
 *   table/bit/probe/re-rank settings. The keys of a T-table index are the first T tables of any larger one
 *   with the same seed and bits (0004 §3), so each bit width is hashed once, for its largest table count;
 * - the whole path (DREAMDB_BENCH_VERB, default on): every vector written as an item and published to a
 *   memory store (keys, segments, buckets, time index), the `search` verb answering one query at a time
 *   (hits with their items), then one more bucket of 1,000 vectors appended: time, objects and bytes
 *   written (an append rewrites only new and merged segments).
 *
 * DREAMDB_BENCH_LSH="16x16:9:all,16x16:17:1000" picks the settings (tables x bits : probes : rerank).
 */

import { encodeVector } from '@dreamdb/engine';
import { LSH_COSINE, trackIndex } from '@dreamdb/engine/indexes';
import {
  defaultSpatialIndex,
  LshHasher,
  type LshParams,
  LshTables,
  type SpatialIndex,
  spatialIndexToCbor,
} from '@dreamdb/engine/indexes/lsh';
import { search } from '@dreamdb/engine/query';
import { CountingStore, MemoryStore, type Resolved, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, Writer } from '@dreamdb/engine/write';
import { recallAt10, type SearchData, type SearchRun, type Truth, timeQueries } from './search-data.ts';

const SEED = new Uint8Array(32).fill(42);
const DEFAULT_SETTINGS = '8x16:17:300,16x16:17:300,32x16:17:300,32x16:17:500,16x16:9:all';

interface Setting {
  tables: number;
  bits: number;
  probes: number;
  rerank?: number;
}

function settings(): Setting[] {
  return (process.env.DREAMDB_BENCH_LSH ?? DEFAULT_SETTINGS).split(',').map((s) => {
    const [shape, probes, rerank] = s.split(':');
    const [tables, bits] = shape!.split('x').map(Number);
    return {
      tables: tables!,
      bits: bits!,
      probes: Number(probes),
      ...(rerank && rerank !== 'all' && { rerank: Number(rerank) }),
    };
  });
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export async function dreamdbRuns(data: SearchData, truth: Truth): Promise<SearchRun[]> {
  const runs: SearchRun[] = [];
  const { n, dim, vectors } = data;
  const wanted = settings();
  // Keys per bit width, for the largest table count asked (table-major: keys[t·n + row]).
  const keysByBits = new Map<number, { tables: number; keys: Uint32Array; ms: number }>();
  for (const bits of new Set(wanted.map((s) => s.bits))) {
    const tables = Math.max(...wanted.filter((s) => s.bits === bits).map((s) => s.tables));
    const params: LshParams = { dimension: dim, tables, bits, probes: 1, seed: SEED };
    const t0 = performance.now();
    const keys = new LshHasher(params).keysOf(vectors, n);
    const ms = performance.now() - t0;
    keysByBits.set(bits, { tables, keys, ms });
    console.log(
      `lsh keys: ${tables} tables x ${bits} bits for ${n} vectors in ${(ms / 1000).toFixed(1)} s (${((ms * 1e6) / n / tables / 1000).toFixed(2)} s per million vectors per table)`,
    );
  }
  for (const s of wanted) {
    const all = keysByBits.get(s.bits)!;
    const params: LshParams = {
      dimension: dim,
      tables: s.tables,
      bits: s.bits,
      probes: s.probes,
      seed: SEED,
    };
    const heapBefore = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const tables = new LshTables(params, vectors, n, all.keys.subarray(0, s.tables * n));
    const tablesMs = performance.now() - t0;
    const bytes = process.memoryUsage().arrayBuffers - heapBefore;
    const timed = await timeQueries(data, (query) => {
      const hits = tables.search(query, { k: 10, ...(s.rerank !== undefined && { rerank: s.rerank }) });
      return Uint32Array.from(hits, (h) => h.ordinal);
    });
    const keysMs = (all.ms * s.tables) / all.tables;
    runs.push({
      name: `dreamdb lsh ${s.tables}x${s.bits} probes ${s.probes} rerank ${s.rerank ?? 'all'}`,
      buildMs: keysMs + tablesMs,
      qps: timed.qps,
      recall: recallAt10(timed.results, truth),
      note: `keys ${(keysMs / 1000).toFixed(1)} s + tables ${(tablesMs / 1000).toFixed(1)} s, +${mib(bytes)} beside the vectors`,
    });
    console.log(
      `${runs.at(-1)!.name}: recall ${runs.at(-1)!.recall.toFixed(3)}, ${timed.qps.toFixed(0)} QPS`,
    );
  }
  if (process.env.DREAMDB_BENCH_VERB !== '0') runs.push(...(await verbRuns(data, truth)));
  return runs;
}

const SECOND = 1_000_000_000n;

/**
 * Write rows [from, to) as items of the vector track, one second apart, and publish. A new track gets the
 * LSH index, or with `index: 'default'` what a vector track gets when it names none (the graph).
 */
export async function publishRows(
  session: Session,
  base: Resolved | undefined,
  data: SearchData,
  from: number,
  to: number,
  index: 'lsh' | 'default' = 'lsh',
) {
  const writer = new Writer(base);
  if (!base)
    writer.timeline({ name: 'bench', genesis: 0n }).track({
      timeline: 'bench',
      name: 'emb',
      kind: 'event',
      modality: `vector.f32;dim=${data.dim}`,
      bucketDuration: 600n * SECOND,
      ...(index === 'lsh' && {
        indexes: {
          [LSH_COSINE]: { params: spatialIndexToCbor(defaultSpatialIndex(data.dim)), segments: [] },
        },
      }),
    });
  const batch = 10_000;
  for (let at = from; at < to; at += batch) {
    const items = [];
    for (let row = at; row < Math.min(to, at + batch); row++)
      items.push({
        tick: BigInt(row) * SECOND,
        payload: encodeVector(data.vectors.subarray(row * data.dim, (row + 1) * data.dim)),
      });
    writer.write('bench', 'emb', items);
  }
  return publish(session, writer, { ref: 'main' });
}

/** The whole path: publish every vector, query through the verb, append one bucket. */
async function verbRuns(data: SearchData, truth: Truth): Promise<SearchRun[]> {
  const store = new CountingStore(new MemoryStore());
  const session = new Session(new SpaceStore(store, 'bench'));
  const appendRows = 1000;
  let t0 = performance.now();
  const main = await publishRows(session, undefined, data, 0, data.n);
  const publishMs = performance.now() - t0;
  const track = main.manifest.tracks.find((t) => t.name === 'emb')!;
  const lsh = trackIndex<SpatialIndex>(track, LSH_COSINE)!;
  console.log(
    `publish of ${data.n} vectors (LSH index ${lsh.params.tables}x${lsh.params.bits}, probes ${lsh.params.probes}): ${(publishMs / 1000).toFixed(1)} s, ${lsh.record.segments.length} segments`,
  );
  t0 = performance.now();
  await search(session, main, {
    timeline: 'bench',
    track: 'emb',
    vector: data.queryVectors.subarray(0, data.dim),
    k: 10,
  });
  const loadMs = performance.now() - t0;
  const results: Uint32Array[] = [];
  t0 = performance.now();
  for (let q = 0; q < data.queries; q++) {
    const hits = await search(session, main, {
      timeline: 'bench',
      track: 'emb',
      vector: data.queryVectors.subarray(q * data.dim, (q + 1) * data.dim),
      k: 10,
    });
    results.push(Uint32Array.from(hits, (h) => Number(h.tick / SECOND)));
  }
  const qps = (data.queries * 1000) / (performance.now() - t0);

  // One more bucket of new vectors (rows taken from the start again, at new ticks): what an append costs.
  const before = { ...store.counts };
  const extra: SearchData = {
    ...data,
    n: data.n + appendRows,
    vectors: new Float32Array((data.n + appendRows) * data.dim),
  };
  extra.vectors.set(data.vectors);
  extra.vectors.set(data.vectors.subarray(0, appendRows * data.dim), data.n * data.dim);
  t0 = performance.now();
  const appended = await publishRows(session, main, extra, data.n, data.n + appendRows);
  const appendMs = performance.now() - t0;
  return [
    {
      name: 'dreamdb search verb (default index, memory store)',
      buildMs: publishMs,
      qps,
      recall: recallAt10(results, truth),
      note: `publish ${(publishMs / 1000).toFixed(1)} s incl. buckets and time index; first query loads segments ${(loadMs / 1000).toFixed(1)} s; append of ${appendRows}: ${appendMs.toFixed(0)} ms, ${appended.objectsWritten} objects, ${mib(appended.bytesWritten)} written, ${store.counts.get - before.get} GETs`,
    },
  ];
}
