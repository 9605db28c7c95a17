/**
 * The Vamana graph of the graph index (spec 0013: the build and search the index kind runs per segment)
 * against hnswlib-node, usearch and LanceDB (IVF-PQ with refine) on the search bench's clustered data,
 * same run, one thread (LanceDB's index build uses its own threads): build time, memory per
 * vector, and at recall@10 targets 0.90, 0.95 and 0.99 the QPS of the fastest setting of each that reaches
 * the target, as a ratio; then the whole path: the vectors published as a track and the `search` verb's
 * p50 and p99 (warm, memory store).
 * Run: npm run bench -- graph   (defaults: 100k x 128; DREAMDB_BENCH_N, DREAMDB_BENCH_PRESET=768, as
 * search-data.ts; DREAMDB_BENCH_EF_CONSTRUCTION for hnswlib, default 200; DREAMDB_BENCH_VERB=0 skips the verb,
 * DREAMDB_BENCH_BASELINES=hnswlib skips usearch and LanceDB)
 */

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVamana, defaultGraphParams, VamanaSearcher } from '@dreamdb/engine/indexes/graph';
import { search } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import hnswlib from 'hnswlib-node';
import usearch from 'usearch';
import { groundTruth, K, makeData, recallAt10, searchParams, timeQueries } from './search-data.ts';
import { publishRows } from './search-dreamdb.ts';

const params = { ...searchParams(), n: Number(process.env.DREAMDB_BENCH_N ?? 100_000) };

/** Bytes of every file under a directory. */
const directoryBytes = (dir: string): number =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
const data = makeData(params);
const truth = await groundTruth(data);
const { n, dim, vectors } = data;
// The index's defaults (spec 0013 §4) unless DREAMDB_BENCH_R / _L / _ALPHA name others.
const defaults = defaultGraphParams(dim);
const graphParams = {
  degree: Number(process.env.DREAMDB_BENCH_R || defaults.degree),
  buildList: Number(process.env.DREAMDB_BENCH_L || defaults.buildList),
  alpha: Number(process.env.DREAMDB_BENCH_ALPHA || defaults.alphaPercent / 100),
  seed: 7,
};

let t0 = performance.now();
const graph = buildVamana(vectors, dim, graphParams);
const graphMs = performance.now() - t0;
// The graph and its navigation layers (their links: a layer scores its nodes' rows where they lie).
let graphBytes = graph.neighbors.byteLength + graph.counts.byteLength;
for (let g = graph.upper; g; g = g.upper) graphBytes += g.neighbors.byteLength + g.counts.byteLength;
console.log(
  `vamana R ${graphParams.degree} L ${graphParams.buildList} alpha ${graphParams.alpha}: built ${n} x ${dim} in ${(graphMs / 1000).toFixed(1)} s; graph and layers ${(graphBytes / n).toFixed(0)} bytes per vector (+ ${dim * 4} of vector)`,
);
const searcher = new VamanaSearcher(graph, vectors);

const efConstruction = Number(process.env.DREAMDB_BENCH_EF_CONSTRUCTION ?? 200);
const index = new hnswlib.HierarchicalNSW('cosine', dim);
index.initIndex(n, 16, efConstruction, 100);
const rows = Array.from({ length: n }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
t0 = performance.now();
for (let i = 0; i < n; i++) index.addPoint(rows[i]!, i);
const hnswMs = performance.now() - t0;
console.log(
  `hnswlib M 16 efConstruction ${efConstruction}: built in ${(hnswMs / 1000).toFixed(1)} s (build ratio ${(hnswMs / graphMs).toFixed(2)}x: hnswlib time / vamana time)`,
);
const queries = Array.from({ length: data.queries }, (_, q) =>
  Array.from(data.queryVectors.subarray(q * dim, (q + 1) * dim)),
);

const hnsw: { ef: number; qps: number; p99Ms: number; recall: number }[] = [];
for (const ef of [10, 16, 24, 32, 48, 64, 128, 256]) {
  index.setEf(ef);
  const run = await timeQueries(data, (_query, q) =>
    Uint32Array.from(index.searchKnn(queries[q]!, K).neighbors),
  );
  hnsw.push({ ef, qps: run.qps, p99Ms: run.p99Ms, recall: recallAt10(run.results, truth) });
}
console.log(`\n${'run'.padEnd(22)}${'recall@10'.padStart(10)}${'QPS'.padStart(9)}${'p99 ms'.padStart(9)}`);
for (const h of hnsw)
  console.log(
    `${`hnswlib ef ${h.ef}`.padEnd(22)}${h.recall.toFixed(3).padStart(10)}${h.qps.toFixed(0).padStart(9)}${h.p99Ms.toFixed(3).padStart(9)}`,
  );
const vamana: { list: number; qps: number; p99Ms: number; recall: number }[] = [];
for (const list of [10, 16, 24, 32, 48, 64, 128, 256]) {
  const run = await timeQueries(data, (query) => Uint32Array.from(searcher.search(query, K, list).ids));
  // One more pass, untimed, counts the nodes a query expands (timeQueries runs several passes).
  let expanded = 0;
  for (let q = 0; q < data.queries; q++)
    expanded += searcher.search(data.queryVectors.subarray(q * dim, (q + 1) * dim), K, list).expanded;
  const recall = recallAt10(run.results, truth);
  vamana.push({ list, qps: run.qps, p99Ms: run.p99Ms, recall });
  console.log(
    `${`vamana list ${list}`.padEnd(22)}${recall.toFixed(3).padStart(10)}${run.qps.toFixed(0).padStart(9)}${run.p99Ms.toFixed(3).padStart(9)}  (${(expanded / data.queries).toFixed(0)} nodes expanded per query)`,
  );
}
// DREAMDB_BENCH_BASELINES=hnswlib runs hnswlib alone (a second run at 1M: usearch and LanceDB take most of it).
const others = process.env.DREAMDB_BENCH_BASELINES !== 'hnswlib';
// usearch (HNSW in C++ with SIMD kernels): the same M 16 and construction list, one thread; its search
// list is fixed per Index object, so each setting views the saved index with its own.
const usearchRuns: { ef: number; qps: number; p99Ms: number; recall: number }[] = [];
const lanceRuns: { setting: string; qps: number; p99Ms: number; recall: number }[] = [];
if (others) {
  const usearchDir = mkdtempSync(join(tmpdir(), 'dreamdb-usearch-'));
  const usearchFile = join(usearchDir, 'index.usearch');
  const usearchConfig = {
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    multi: false,
    connectivity: 16,
    dimensions: dim,
    expansion_add: efConstruction,
  };
  const built = new usearch.Index({ ...usearchConfig, expansion_search: 64 });
  const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  t0 = performance.now();
  built.add(keys, vectors, 1);
  const usearchMs = performance.now() - t0;
  built.save(usearchFile);
  const usearchBytes = statSync(usearchFile).size;
  console.log(
    `usearch M 16 expansion_add ${efConstruction}: built in ${(usearchMs / 1000).toFixed(1)} s (one thread); ${(usearchBytes / n).toFixed(0)} B per vector as saved`,
  );
  for (const ef of [10, 16, 24, 32, 48, 64, 128]) {
    const viewed = new usearch.Index({ ...usearchConfig, expansion_search: ef });
    viewed.view(usearchFile);
    const run = await timeQueries(data, (query) => {
      const found = viewed.search(query, K, 1);
      return Uint32Array.from(found.keys, Number);
    });
    usearchRuns.push({ ef, qps: run.qps, p99Ms: run.p99Ms, recall: recallAt10(run.results, truth) });
  }
  rmSync(usearchDir, { recursive: true, force: true });

  // LanceDB (IVF-PQ with refine, on its local Lance files), last of the baselines: its worker threads and
  // the garbage of its rows slowed what ran after it. A table of the vectors, the index built by
  // its defaults for partitions and 16-byte codes, queries through its Node client one at a time.
  // Lance logs a deprecation warning per query unless told to keep to errors (read when it loads).
  process.env.LANCEDB_LOG ??= 'error';
  const lancedb = await import('@lancedb/lancedb');
  const lanceDir = mkdtempSync(join(tmpdir(), 'dreamdb-lancedb-'));
  const db = await lancedb.connect(lanceDir);
  const table = await db.createTable(
    'vectors',
    Array.from({ length: n }, (_, i) => ({
      id: i,
      vector: Array.from(vectors.subarray(i * dim, (i + 1) * dim)),
    })),
  );
  t0 = performance.now();
  await table.createIndex('vector', {
    config: lancedb.Index.ivfPq({ distanceType: 'cosine', numSubVectors: Math.max(1, Math.floor(dim / 8)) }),
  });
  const lanceMs = performance.now() - t0;
  const lanceBytes = directoryBytes(lanceDir);
  console.log(
    `LanceDB 0.31 IVF-PQ (${Math.floor(dim / 8)}-byte codes, cosine): index built in ${(lanceMs / 1000).toFixed(1)} s (its own threads); ${(lanceBytes / n).toFixed(0)} B per vector on disk (rows and index)`,
  );
  for (const [nprobes, refine] of [
    [10, 5],
    [20, 10],
    [20, 20],
    [40, 20],
    [40, 50],
    [80, 50],
  ] as const) {
    const run = await timeQueries(
      data,
      async (query) => {
        const rows = await table
          .vectorSearch(query)
          .distanceType('cosine')
          .nprobes(nprobes)
          .refineFactor(refine)
          .limit(K)
          .select(['id'])
          .toArray();
        return Uint32Array.from(rows, (r) => r.id as number);
      },
      1,
      0,
    );
    lanceRuns.push({
      setting: `nprobes ${nprobes} refine ${refine}`,
      qps: run.qps,
      p99Ms: run.p99Ms,
      recall: recallAt10(run.results, truth),
    });
  }
  table.close();
  db.close();
  rmSync(lanceDir, { recursive: true, force: true });
}
for (const u of usearchRuns)
  console.log(
    `${`usearch ef ${u.ef}`.padEnd(22)}${u.recall.toFixed(3).padStart(10)}${u.qps.toFixed(0).padStart(9)}${u.p99Ms.toFixed(3).padStart(9)}`,
  );
for (const l of lanceRuns)
  console.log(
    `${`lancedb ${l.setting}`.padEnd(22)}${l.recall.toFixed(3).padStart(10)}${l.qps.toFixed(0).padStart(9)}${l.p99Ms.toFixed(3).padStart(9)}`,
  );

console.log(
  '\nat recall@10 >= target: the fastest setting of each (one thread, queries in sequence; QPS ratio ours / hnswlib)',
);
for (const target of [0.9, 0.95, 0.99]) {
  const best = <T extends { qps: number; recall: number }>(runs: T[]) =>
    runs.filter((r) => r.recall >= target).sort((a, b) => b.qps - a.qps)[0];
  const v = best(vamana);
  const h = best(hnsw);
  const u = best(usearchRuns);
  const l = best(lanceRuns);
  const other = (name: string, r: { qps: number; p99Ms: number } | undefined, setting: string) =>
    r
      ? `${name} ${setting} ${r.qps.toFixed(0)} QPS, p99 ${r.p99Ms.toFixed(3)} ms${v ? ` (ours ${(v.qps / r.qps).toFixed(2)}x)` : ''}`
      : `${name} not reached`;
  console.log(
    `  ${target.toFixed(2)}: vamana ${v ? `list ${v.list} ${v.qps.toFixed(0)} QPS, p99 ${v.p99Ms.toFixed(3)} ms` : 'not reached'}; ${other('hnswlib', h, `ef ${h?.ef}`)}; ${other('usearch', u, `ef ${u?.ef}`)}; ${other('lancedb', l, l?.setting ?? '')}`,
  );
}
// hnswlib's memory per vector: the vector, level-0 links (2M + 1 u32) and its label, plus upper levels
// (1/ln M of the nodes, M + 1 links each): what its data layout holds, not a measurement of the heap.
const hnswBytes = 4 * dim + 4 * (2 * 16 + 1) + 8 + (4 * (16 + 1)) / Math.log(16);
console.log(
  `memory per vector: vamana ${(dim * 4 + graphBytes / n + 8).toFixed(0)} B (vector, graph and layers, tick), hnswlib ~${hnswBytes.toFixed(0)} B (by its layout)`,
);

// The whole path: every vector written as an item and published to a memory store (the track's default
// index: the graph), then the `search` verb answering one query at a time, hits with their items.
// DREAMDB_BENCH_VERB=0 stops before it (at 1M, publishing builds the graph a second time).
if (process.env.DREAMDB_BENCH_VERB === '0') process.exit(0);
const session = new Session(new SpaceStore(new MemoryStore(), 'bench'));
t0 = performance.now();
const main = await publishRows(session, undefined, data, 0, n, 'default');
const publishMs = performance.now() - t0;
t0 = performance.now();
await search(session, main, {
  timeline: 'bench',
  track: 'emb',
  vector: data.queryVectors.subarray(0, dim),
  k: K,
});
const loadMs = performance.now() - t0;
const verbMs: number[] = [];
const verbResults: Uint32Array[] = [];
for (let q = 0; q < data.queries; q++) {
  const t = performance.now();
  const hits = await search(session, main, {
    timeline: 'bench',
    track: 'emb',
    vector: data.queryVectors.subarray(q * dim, (q + 1) * dim),
    k: K,
  });
  verbMs.push(performance.now() - t);
  verbResults.push(Uint32Array.from(hits, (h) => Number(h.tick / 1_000_000_000n)));
}
verbMs.sort((a, b) => a - b);
const at = (p: number) => verbMs[Math.min(verbMs.length - 1, Math.ceil(p * verbMs.length) - 1)]!;
const raw = vamana.find((v) => v.list === 64)!;
console.log(
  `\nsearch verb (memory store, default index: the graph, search list 64): publish ${(publishMs / 1000).toFixed(1)} s, first query (loads the segments) ${loadMs.toFixed(0)} ms; recall@10 ${recallAt10(verbResults, truth).toFixed(3)}, p50 ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms, ${((1000 * verbMs.length) / verbMs.reduce((a, b) => a + b, 0)).toFixed(0)} QPS (the index alone at list 64: ${raw.qps.toFixed(0)} QPS, p99 ${raw.p99Ms.toFixed(3)} ms)`,
);
