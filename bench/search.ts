/**
 * Vector search quality and speed (issue 7): recall@10 and queries per second of hnswlib-node (HNSW, the
 * baseline) and of DreamDB's index (search-dreamdb.ts) on clustered unit vectors (search-data.ts), against the
 * exact top 10 by brute force.
 * Run: npm run bench -- search
 *   defaults 1M x 128 in 1,000 clusters, 1,000 queries (~2 min of brute force once, cached; hnswlib build
 *   several minutes); DREAMDB_BENCH_N=100000 for a quick run, DREAMDB_BENCH_PRESET=768 for 100k x 768.
 *   DREAMDB_BENCH_EF_CONSTRUCTION=200 (hnswlib efConstruction; lower it for quick runs)
 *   DREAMDB_BENCH_SKIP_HNSW=1 (DreamDB runs only; their ratio column is then empty)
 * The table's last column: a run's QPS over hnswlib's at the ef whose recall is nearest that run's.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import hnswlib from 'hnswlib-node';
import {
  bruteForce,
  groundTruth,
  K,
  makeData,
  measureCosines,
  recallAt10,
  type SearchRun,
  searchParams,
  timeQueries,
} from './search-data.ts';
import { dreamdbRuns } from './search-dreamdb.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rss = () => {
  gc();
  return process.memoryUsage().rss;
};
const MiB = 1024 * 1024;

const params = searchParams();
const { n, dim, clusters, queries, sigma } = params;
let t0 = performance.now();
const data = makeData(params);
const cos = measureCosines(data);
console.log(
  `data: ${n} x ${dim} in ${clusters} clusters, ${queries} queries, sigma ${sigma.toFixed(4)} ` +
    `(made in ${((performance.now() - t0) / 1000).toFixed(1)} s); ` +
    `mean cosine within a cluster ${cos.intra.toFixed(3)} (expected ${(1 / (1 + sigma * sigma * dim)).toFixed(3)}), ` +
    `across clusters ${cos.inter.toFixed(3)}`,
);

const truth = await groundTruth(data);
{
  let top1 = 0;
  let top10 = 0;
  for (let q = 0; q < queries; q++) {
    top1 += truth.scores[q * K]!;
    top10 += truth.scores[q * K + K - 1]!;
  }
  console.log(
    `ground truth${truth.cached ? ' (cached)' : ''}: mean cosine of the 1st neighbour ${(top1 / queries).toFixed(3)}, ` +
      `of the 10th ${(top10 / queries).toFixed(3)}; blocked brute force ${truth.blockedMsPerQuery.toFixed(1)} ms/query`,
  );
}

const runs: SearchRun[] = [];

// The naive baseline: one query at a time over every row (no blocking across queries), on a sample.
{
  const sample = Math.min(queries, Math.max(5, Math.round(2e9 / (n * dim))));
  const sub = { ...data, queries: sample };
  const { qps, results } = await timeQueries(sub, (_, q) => bruteForce(data, q, q + 1).ids, 1, 0);
  const subTruth = { ...truth, ids: truth.ids.subarray(0, sample * K) };
  runs.push({
    name: 'brute force (one query at a time)',
    qps,
    recall: recallAt10(results, subTruth),
    note: `${(1000 / qps).toFixed(1)} ms/query over ${sample} queries`,
  });
}

// ---- hnswlib-node: HNSW, M 16, cosine --------------------------------------------------------------------------
const hnswRuns: SearchRun[] = [];
if (process.env.DREAMDB_BENCH_SKIP_HNSW === '1') {
  console.log('hnswlib: skipped (DREAMDB_BENCH_SKIP_HNSW=1)');
} else {
  const M = 16;
  const efConstruction = Number(process.env.DREAMDB_BENCH_EF_CONSTRUCTION ?? 200);
  const index = new hnswlib.HierarchicalNSW('cosine', dim);
  const before = rss();
  index.initIndex(n, M, efConstruction, 100);
  // hnswlib-node takes plain arrays: rows are converted in chunks, timed apart from addPoint.
  const CHUNK = 10_000;
  let convertMs = 0;
  let addMs = 0;
  let lastLog = performance.now();
  console.log(`hnswlib: building M ${M}, efConstruction ${efConstruction} over ${n} rows…`);
  for (let c0 = 0; c0 < n; c0 += CHUNK) {
    const c1 = Math.min(n, c0 + CHUNK);
    t0 = performance.now();
    const rows: number[][] = new Array(c1 - c0);
    for (let i = c0; i < c1; i++) rows[i - c0] = Array.from(data.vectors.subarray(i * dim, (i + 1) * dim));
    convertMs += performance.now() - t0;
    t0 = performance.now();
    for (let i = c0; i < c1; i++) index.addPoint(rows[i - c0]!, i);
    addMs += performance.now() - t0;
    if (performance.now() - lastLog > 15_000 || c1 === n) {
      lastLog = performance.now();
      const eta = (addMs / c1) * (n - c1);
      console.log(
        `  ${c1} rows (${((100 * c1) / n).toFixed(0)}%), ${(addMs / 1000).toFixed(0)} s` +
          (c1 < n ? `, ~${(eta / 1000).toFixed(0)} s to go` : ''),
      );
    }
  }
  const memory = rss() - before;
  console.log(
    `hnswlib: built in ${(addMs / 1000).toFixed(1)} s (+ ${(convertMs / 1000).toFixed(1)} s converting rows to arrays), ` +
      `memory +${(memory / MiB).toFixed(0)} MiB (${(memory / n) | 0} bytes/row; the vectors alone ${dim * 4})`,
  );
  t0 = performance.now();
  const qArrays = Array.from({ length: queries }, (_, q) =>
    Array.from(data.queryVectors.subarray(q * dim, (q + 1) * dim)),
  );
  const qConvertMs = (performance.now() - t0) / queries;
  // One untimed pass at the largest ef first: the index's pages warm, the search path compiled.
  index.setEf(128);
  for (const a of qArrays) index.searchKnn(a, K);
  for (const ef of [16, 32, 64, 128]) {
    index.setEf(ef);
    const { qps, results } = await timeQueries(data, (_, q) =>
      Uint32Array.from(index.searchKnn(qArrays[q]!, K).neighbors),
    );
    const run: SearchRun = {
      name: `hnswlib ef ${ef}`,
      buildMs: addMs,
      qps,
      recall: recallAt10(results, truth),
      note:
        ef === 16
          ? `+${(memory / MiB).toFixed(0)} MiB; query to array ${qConvertMs.toFixed(3)} ms, excluded`
          : '',
    };
    console.log(`  ${run.name}: ${qps.toFixed(0)} QPS, recall@10 ${run.recall.toFixed(3)}`);
    hnswRuns.push(run);
  }
  runs.push(...hnswRuns);
}

// ---- DreamDB: the runs of search-dreamdb.ts (LSH settings) ------------------------------------------------------
runs.push(...(await dreamdbRuns(data, truth)));
// -----------------------------------------------------------------------------------------------------------------

/** hnswlib's run whose recall is nearest `recall` (the faster one on a tie). */
const nearestHnsw = (recall: number): SearchRun | undefined => {
  let bestRun: SearchRun | undefined;
  for (const h of hnswRuns) {
    if (
      !bestRun ||
      Math.abs(h.recall - recall) < Math.abs(bestRun.recall - recall) ||
      (Math.abs(h.recall - recall) === Math.abs(bestRun.recall - recall) && h.qps > bestRun.qps)
    ) {
      bestRun = h;
    }
  }
  return bestRun;
};

console.log(
  `\nVector search, ${n} x ${dim} (${clusters} clusters, sigma ${sigma.toFixed(4)}), ${queries} queries, top ${K}`,
);
console.log(
  `${'run'.padEnd(40)}${'build s'.padStart(9)}${'QPS'.padStart(10)}${'recall@10'.padStart(11)}` +
    `${'vs hnswlib'.padStart(12)}  ${'(at)'.padEnd(14)}note`,
);
for (const r of runs) {
  // hnswlib's own rows are their own reference (1.00x); every other run is set against the nearest recall.
  const h = hnswRuns.includes(r) ? r : nearestHnsw(r.recall);
  console.log(
    `${r.name.padEnd(40)}${(r.buildMs === undefined ? '' : (r.buildMs / 1000).toFixed(1)).padStart(9)}` +
      `${r.qps.toFixed(r.qps >= 100 ? 0 : 1).padStart(10)}${r.recall.toFixed(3).padStart(11)}` +
      `${(h ? `${(r.qps / h.qps).toFixed(2)}x` : '').padStart(12)}  ${(h ? h.name.replace('hnswlib ', '') : '').padEnd(14)}${r.note ?? ''}`,
  );
}
console.log(
  '(vs hnswlib: QPS / hnswlib QPS at the ef whose recall@10 is nearest; one thread, queries one at a time)',
);
