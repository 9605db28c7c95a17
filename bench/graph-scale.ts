/**
 * The graph index past memory (spec 0013 §2.1): one segment of DREAMDB_BENCH_N vectors (default 10M x 128,
 * the search bench's clustered set, streamed to a file first) built over partitions, its shards on
 * DREAMDB_BENCH_WORKERS threads (2), written as GraphPage and GraphBody objects to a file-system store,
 * then searched paged. Prints the build's phases, its peak RSS beside what the whole build would hold,
 * the cold query (every GET after DREAMDB_BENCH_LATENCY_MS, 20) p50/p99 and the warm QPS and p99 beside
 * the exact scan's (the naive path, same run), recall@10 against it.
 * DREAMDB_BENCH_WHOLE=1 (N <= 4M) also builds the graph whole in memory, the baseline of build time and
 * recall. Run: npm run bench -- graph-scale
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BEAM_WIDTH,
  buildGraph,
  DotKernel,
  defaultGraphParams,
  openVectorCompressor,
  PagedGraph,
  paddedDimension,
  type RowSource,
  readGraphIndex,
  VamanaSearcher,
  writeLargeSegment,
} from '@dreamdb/engine/indexes/graph';
import { FsStore, fileSpill, workerShards } from '@dreamdb/engine/node';
import { objectKey, SpaceStore } from '@dreamdb/engine/store';
import { cachedTruth, K, queryRows, recallAt10, rowStream, searchParams, type Truth } from './search-data.ts';

const env = (name: string, fallback: number) => Number(process.env[name] || fallback);
const p = {
  ...searchParams(),
  n: env('DREAMDB_BENCH_N', 10_000_000),
  queries: env('DREAMDB_BENCH_QUERIES', 200),
};
const { n, dim } = p;
const workers = env('DREAMDB_BENCH_WORKERS', 2);
const shardNodes = env('DREAMDB_BENCH_SHARD_NODES', 2_500_000);
const latencyMs = env('DREAMDB_BENCH_LATENCY_MS', 20);
const dir = join(tmpdir(), 'dreamdb-bench-search');
mkdirSync(dir, { recursive: true });
const tag = `n${n}-d${dim}-c${p.clusters}-s${p.sigma.toPrecision(6)}-seed${p.seed}`;
const rowsFile = join(dir, `rows-v1-${tag}.f32`);
const CHUNK = 65_536;
const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(1);
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

// The rows, streamed to a file once (kept for later runs).
if (!existsSync(rowsFile) || statSync(rowsFile).size !== n * dim * 4) {
  const t = performance.now();
  const next = rowStream(p);
  const fd = openSync(`${rowsFile}.part`, 'w');
  const rows = new Float32Array(CHUNK * dim);
  const labels = new Uint32Array(CHUNK);
  for (let from = 0; from < n; from += CHUNK) {
    const m = Math.min(CHUNK, n - from);
    next(rows, labels, m);
    writeSync(fd, new Uint8Array(rows.buffer, 0, m * dim * 4));
  }
  closeSync(fd);
  rmSync(rowsFile, { force: true });
  (await import('node:fs')).renameSync(`${rowsFile}.part`, rowsFile);
  console.log(`rows: ${n} x ${dim} written to ${rowsFile} in ${secs(t)} s`);
}
const fd = openSync(rowsFile, 'r');
let rowsRead = 0;
const source: RowSource = {
  count: n,
  dimension: dim,
  async rows(from, to) {
    const out = new Float32Array((to - from) * dim);
    readSync(fd, new Uint8Array(out.buffer), 0, out.byteLength, from * dim * 4);
    rowsRead += to - from;
    return out;
  },
};
const queries = queryRows(p);

/** The exact top 10 of every query, one streamed pass over the rows in the dot kernel (cached). */
function exactTruth(): Promise<Truth> {
  return cachedTruth(`truth-v1-${tag}-q${p.queries}-k${K}.bin`, p.queries, async () => {
    const t = performance.now();
    const ids = new Uint32Array(p.queries * K);
    const scores = new Float32Array(p.queries * K).fill(Number.NEGATIVE_INFINITY);
    const kernel = new DotKernel(CHUNK, dim);
    for (let from = 0; from < n; from += CHUNK) {
      const m = Math.min(CHUNK, n - from);
      const rows = await source.rows(from, from + m);
      for (let i = 0; i < m; i++) kernel.setRow(i, rows.subarray(i * dim, (i + 1) * dim));
      for (let q = 0; q < p.queries; q++) {
        kernel.setQuery(queries.subarray(q * dim, (q + 1) * dim));
        for (let b = 0; b < m; b += kernel.ids.length) {
          const c = Math.min(kernel.ids.length, m - b);
          for (let j = 0; j < c; j++) kernel.ids[j] = b + j;
          kernel.dots(c);
          for (let j = 0; j < c; j++) {
            const s = kernel.out[j]!;
            if (s <= scores[q * K + K - 1]!) continue;
            let at = K - 1;
            while (at > 0 && scores[q * K + at - 1]! < s) {
              scores[q * K + at] = scores[q * K + at - 1]!;
              ids[q * K + at] = ids[q * K + at - 1]!;
              at--;
            }
            scores[q * K + at] = s;
            ids[q * K + at] = from + b + j;
          }
        }
      }
    }
    console.log(`exact top 10 of ${p.queries} queries in ${secs(t)} s`);
    return { ids, scores };
  });
}
const truth = await exactTruth();

// The build, into a file-system store.
const storeDir = join(tmpdir(), 'dreamdb-bench-scale');
rmSync(storeDir, { recursive: true, force: true });
const fs = await FsStore.open(join(storeDir, 'store'));
const space = new SpaceStore(fs, 'bench');
const params = defaultGraphParams(dim);
const spill = await fileSpill(join(storeDir, 'spill'));
let stored = 0;
let objects = 0;
rowsRead = 0;
const t0 = performance.now();
const ticks = BigUint64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000n);
const { index, graph } = await writeLargeSegment(
  { timeline: 'bench', track: 'emb', params, ticks, source },
  {
    shardNodes,
    spill,
    runShards: workerShards(workers),
    log: (line) => console.log(`  ${line}`),
  },
  async (object) => {
    objects++;
    stored += object.parts.reduce((s, part) => s + part.length, 0);
    await space.putObject(object.parts, object.hash);
  },
);
await space.putObject(index.parts, index.hash);
const buildS = (performance.now() - t0) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
// What building it whole would hold: the dot kernel's rows, the graph with its build slack, the rows as
// read and the codes (the publish path holds them all).
const whole =
  n * (4 * paddedDimension(dim) + 4 * Math.ceil(params.degree * 1.3) + 2 + 4 * dim + params.subspaces);
console.log(
  `\nbuild of ${n} x ${dim} over ${graph.shards} shards (largest ${graph.largestShard} nodes, ${workers} workers): ${buildS.toFixed(0)} s, ${(n / buildS).toFixed(0)} vectors/s; ${rowsRead / n} reads of each row`,
);
console.log(
  `peak RSS ${gib(peak)} GiB (the whole build would hold ${gib(whole)} GiB, and its dot kernel of ${gib(n * 4 * paddedDimension(dim))} GiB passes WebAssembly's 4 GiB at ${Math.floor(2 ** 32 / (4 * paddedDimension(dim)) / 1e6)}M rows); ${objects + 1} objects, ${gib(stored)} GiB stored`,
);

// Queries: the index and codebooks read, the pages by range.
const get = (o: Uint8Array) => space.getObject(o);
let t = performance.now();
const opened = await readGraphIndex(get, index.hash, params);
const { books } = openVectorCompressor(await get(opened.compressed!.compressor));
console.log(`GraphIndex read (${opened.body.length} GraphBody objects) and decoded: ${secs(t)} s`);
const delay = () => new Promise((resolve) => setTimeout(resolve, latencyMs));
let slow = true;
const read = async (object: Uint8Array, start: number, end: number) => {
  if (slow) await delay();
  return (await fs.get(objectKey('bench', object), { start, end })).body;
};
const paged = new PagedGraph(opened, books, opened.compressed!.codes, read, 400_000);
const at = (ms: number[], q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
const qv = (q: number) => queries.subarray(q * dim, (q + 1) * dim);

console.log(`\ncold (no page held, every GET ${latencyMs} ms), one query at a time, beam ${BEAM_WIDTH}:`);
for (const list of [64, 128]) {
  const ms: number[] = [];
  const results: Uint32Array[] = [];
  let rounds = 0;
  const cold = Math.min(p.queries, 100);
  for (let q = 0; q < cold; q++) {
    paged.forget();
    const s = performance.now();
    const hits = await paged.search(qv(q), K, list);
    ms.push(performance.now() - s);
    rounds += hits.rounds;
    results.push(Uint32Array.from(hits.ids));
  }
  ms.sort((a, b) => a - b);
  const sub = { ...truth, ids: truth.ids.slice(0, cold * K) };
  console.log(
    `  list ${list}: p50 ${at(ms, 0.5).toFixed(0)} ms, p99 ${at(ms, 0.99).toFixed(0)} ms, ${(rounds / cold).toFixed(1)} round trips, recall@10 ${recallAt10(results, sub).toFixed(3)}`,
  );
}

slow = false;
console.log(`\nwarm (the pages the queries read held), one thread, beside the exact scan:`);
const scanQps = 1000 / truth.blockedMsPerQuery;
for (const list of [64, 128, 256]) {
  for (let q = 0; q < p.queries; q++) await paged.search(qv(q), K, list);
  const ms: number[] = [];
  const results: Uint32Array[] = [];
  t = performance.now();
  for (let q = 0; q < p.queries; q++) {
    const s = performance.now();
    results.push(Uint32Array.from((await paged.search(qv(q), K, list)).ids));
    ms.push(performance.now() - s);
  }
  const qps = (1000 * p.queries) / (performance.now() - t);
  ms.sort((a, b) => a - b);
  console.log(
    `  list ${list}: ${qps.toFixed(0)} QPS, p99 ${at(ms, 0.99).toFixed(2)} ms, recall@10 ${recallAt10(results, truth).toFixed(3)}; ${(qps / scanQps).toFixed(0)}x the exact scan (${scanQps.toFixed(2)} QPS, blocked over all queries)`,
  );
}

if (process.env.DREAMDB_BENCH_WHOLE === '1' && n <= 4_000_000) {
  // The baseline: the same rows built whole in memory, and the partitioned graph searched resident.
  const kernel = new DotKernel(n, dim);
  for (let from = 0; from < n; from += CHUNK) {
    const rows = await source.rows(from, Math.min(n, from + CHUNK));
    for (let i = 0; i < rows.length / dim; i++)
      kernel.setRow(from + i, rows.subarray(i * dim, (i + 1) * dim));
  }
  t = performance.now();
  const built = buildGraph(kernel, {
    degree: params.degree,
    buildList: params.buildList,
    alpha: params.alphaPercent / 100,
    seed: params.seed,
  });
  const wholeS = (performance.now() - t) / 1000;
  const edges = await graph.edges(0, n);
  const partedGraph = {
    n,
    dim,
    degree: params.degree,
    ...edges,
    medoid: graph.medoid,
    ...(graph.upper && { upper: graph.upper }),
  };
  console.log(
    `\nwhole build in memory (one thread): ${wholeS.toFixed(0)} s; partitioned over ${workers} workers: ${buildS.toFixed(0)} s (${(wholeS / buildS).toFixed(2)}x)`,
  );
  for (const list of [64, 128]) {
    const r = (g: typeof built) => {
      const searcher = new VamanaSearcher(g, kernel);
      const results: Uint32Array[] = [];
      for (let q = 0; q < p.queries; q++) results.push(Uint32Array.from(searcher.search(qv(q), K, list).ids));
      return recallAt10(results, truth).toFixed(3);
    };
    console.log(`  list ${list}: recall@10 whole ${r(built)}, partitioned ${r(partedGraph)} (resident)`);
  }
}
closeSync(fd);
await spill.remove();
if (process.env.DREAMDB_BENCH_KEEP !== '1') rmSync(storeDir, { recursive: true, force: true });
