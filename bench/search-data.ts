/**
 * Data, ground truth and recall for `npm run bench -- search` (and for the DreamDB runs in search-dreamdb.ts).
 *
 * The data: N unit vectors of dimension D in C Gaussian clusters, and Q queries drawn from the same
 * distribution (not in the set). Centers are random unit vectors; a point is normalize(center + sigma * g),
 * g a standard Gaussian vector. Two points of one cluster then have a cosine of about 1 / (1 + sigma² D)
 * (their noise terms are nearly orthogonal), a point and its center about 1 / sqrt(1 + sigma² D), and points
 * of different clusters about 0 (± 1/sqrt(D)). The default sigma = sqrt(1 / (4 D)) puts the intra-cluster
 * cosine at 0.8: the data the reference figures were measured on (hnswlib ef 32 gives recall@10
 * ~0.9 there). DREAMDB_BENCH_HARD=1 takes sigma = sqrt(2 / (3 D)), intra-cluster cosine 0.6: the clusters
 * are far apart, but inside one the top 10 of ~N/C points are only ~2-3 standard
 * deviations above the rest, so a search must rank within the cluster, not just find it.
 *
 * Environment (defaults: 1M x 128, 1,000 clusters, 1,000 queries):
 *   DREAMDB_BENCH_PRESET=768     100,000 x 768 (the other variables still override it)
 *   DREAMDB_BENCH_N, DREAMDB_BENCH_DIM, DREAMDB_BENCH_CLUSTERS, DREAMDB_BENCH_QUERIES
 *   DREAMDB_BENCH_SIGMA          per-coordinate noise (default sqrt(1 / (4 D)); DREAMDB_BENCH_HARD=1: sqrt(2 / (3 D)))
 *   DREAMDB_BENCH_SEED           PRNG seed (default 7)
 *
 * Everything is deterministic from the parameters (mulberry32 + Box–Muller), so the exact top 10 of every
 * query is computed once and cached under os.tmpdir()/dreamdb-bench-search, keyed by the parameters.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { random } from '../engine/src/testing/random.ts';

export const K = 10;

export interface SearchParams {
  n: number;
  dim: number;
  clusters: number;
  queries: number;
  sigma: number;
  seed: number;
}

export interface SearchData extends SearchParams {
  /** n rows of dim float32, row-major, each of unit length. */
  vectors: Float32Array;
  /** The cluster of each row. */
  labels: Uint32Array;
  /** queries rows of dim float32, row-major, unit length, not in `vectors`. */
  queryVectors: Float32Array;
}

export interface Truth {
  k: number;
  /** queries x k row ordinals, best first. */
  ids: Uint32Array;
  /** queries x k cosines, best first. */
  scores: Float32Array;
  /** Brute force, all queries in one blocked pass (row blocks kept in cache): ms per query. */
  blockedMsPerQuery: number;
  /** True when read from the cache file rather than computed in this run. */
  cached: boolean;
}

/** One line of the final table. */
export interface SearchRun {
  name: string;
  /** Index build time, when the run built one. */
  buildMs?: number;
  /** Queries per second, one thread, queries one at a time. */
  qps: number;
  /** recall@10 against the exact top 10 (recallAt10). */
  recall: number;
  /** Extra text for the table (memory, settings...). */
  note?: string;
}

const envNumber = (name: string): number | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
};

/** The parameters from the environment (see the file comment). */
export function searchParams(): SearchParams {
  const preset = process.env.DREAMDB_BENCH_PRESET === '768';
  const dim = envNumber('DREAMDB_BENCH_DIM') ?? (preset ? 768 : 128);
  return {
    n: envNumber('DREAMDB_BENCH_N') ?? (preset ? 100_000 : 1_000_000),
    dim,
    clusters: envNumber('DREAMDB_BENCH_CLUSTERS') ?? 1000,
    queries: envNumber('DREAMDB_BENCH_QUERIES') ?? 1000,
    sigma:
      envNumber('DREAMDB_BENCH_SIGMA') ??
      (process.env.DREAMDB_BENCH_HARD === '1' ? Math.sqrt(2 / (3 * dim)) : Math.sqrt(1 / (4 * dim))),
    seed: envNumber('DREAMDB_BENCH_SEED') ?? 7,
  };
}

/** Standard Gaussians from a uniform source (Box–Muller, both values of each pair used). */
export function gaussian(uniform: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    let u = uniform();
    while (u === 0) u = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

function normalizeRow(a: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[off + j]! * a[off + j]!;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) a[off + j]! *= inv;
}

/**
 * The rows of `p` as a stream: each call fills the next `rows` rows (unit length) and their labels. The
 * rows do not depend on how they are asked for, nor on n: the first rows of a larger set are a smaller one.
 */
export function rowStream(p: SearchParams): (out: Float32Array, labels: Uint32Array, rows: number) => void {
  const { dim, clusters, sigma, seed } = p;
  const uniform = random(seed);
  const gauss = gaussian(uniform);
  const centers = new Float32Array(clusters * dim);
  for (let i = 0; i < centers.length; i++) centers[i] = gauss();
  for (let c = 0; c < clusters; c++) normalizeRow(centers, c * dim, dim);
  return (out, labels, rows) => fillRows(centers, p, out, labels, rows, uniform, gauss);
}

function fillRows(
  centers: Float32Array,
  p: SearchParams,
  out: Float32Array,
  labels: Uint32Array,
  rows: number,
  rand: () => number,
  g: () => number,
): void {
  const { dim, clusters, sigma } = p;
  for (let i = 0; i < rows; i++) {
    const c = Math.min(clusters - 1, Math.floor(rand() * clusters));
    labels[i] = c;
    const off = i * dim;
    const coff = c * dim;
    for (let j = 0; j < dim; j++) out[off + j] = centers[coff + j]! + sigma * g();
    normalizeRow(out, off, dim);
  }
}

/** The queries of `p`: rows of the same clusters from their own stream, so that changing n keeps them. */
export function queryRows(p: SearchParams): Float32Array {
  const { dim, clusters, queries, seed } = p;
  const centerSource = gaussian(random(seed));
  const centers = new Float32Array(clusters * dim);
  for (let i = 0; i < centers.length; i++) centers[i] = centerSource();
  for (let c = 0; c < clusters; c++) normalizeRow(centers, c * dim, dim);
  const qUniform = random(seed ^ 0x5bd1e995);
  const out = new Float32Array(queries * dim);
  fillRows(centers, p, out, new Uint32Array(queries), queries, qUniform, gaussian(qUniform));
  return out;
}

/** The vectors and queries for `p` (deterministic). */
export function makeData(p: SearchParams = searchParams()): SearchData {
  const vectors = new Float32Array(p.n * p.dim);
  const labels = new Uint32Array(p.n);
  rowStream(p)(vectors, labels, p.n);
  return { ...p, vectors, labels, queryVectors: queryRows(p) };
}

/** Mean cosine of `pairs` random pairs of rows from one cluster, and from different clusters. */
export function measureCosines(data: SearchData, pairs = 20_000): { intra: number; inter: number } {
  const { n, dim, clusters, labels, vectors } = data;
  // Rows by cluster (counting sort).
  const start = new Uint32Array(clusters + 1);
  for (let i = 0; i < n; i++) start[labels[i]! + 1]!++;
  for (let c = 0; c < clusters; c++) start[c + 1]! += start[c]!;
  const pos = start.slice(0, clusters);
  const byCluster = new Uint32Array(n);
  for (let i = 0; i < n; i++) byCluster[pos[labels[i]!]!++] = i;
  const rand = random(data.seed + 1);
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[a * dim + j]! * vectors[b * dim + j]!;
    return s;
  };
  let intra = 0;
  let intraCount = 0;
  let inter = 0;
  let interCount = 0;
  for (let t = 0; t < pairs; t++) {
    const a = Math.floor(rand() * n);
    const c = labels[a]!;
    const size = start[c + 1]! - start[c]!;
    if (size > 1) {
      let b = a;
      while (b === a) b = byCluster[start[c]! + Math.floor(rand() * size)]!;
      intra += dot(a, b);
      intraCount++;
    }
    const b = Math.floor(rand() * n);
    if (labels[b] !== c) {
      inter += dot(a, b);
      interCount++;
    }
  }
  return { intra: intra / intraCount, inter: inter / interCount };
}

/** Insert (score, id) into the k-best lists of query q (descending; the caller checked score > the worst). */
function insert(
  scores: Float32Array,
  ids: Uint32Array,
  base: number,
  k: number,
  s: number,
  id: number,
): void {
  let i = base + k - 1;
  while (i > base && scores[i - 1]! < s) {
    scores[i] = scores[i - 1]!;
    ids[i] = ids[i - 1]!;
    i--;
  }
  scores[i] = s;
  ids[i] = id;
}

/**
 * Exact top k of each of the queries `qFrom..qTo` by dot product (= cosine, rows are unit length), one pass
 * over the rows in blocks that stay in cache while every query is scored against them.
 */
export function bruteForce(
  data: SearchData,
  qFrom = 0,
  qTo = data.queries,
  k = K,
  progress?: (rowsDone: number) => void,
): { ids: Uint32Array; scores: Float32Array } {
  const { n, dim, vectors, queryVectors } = data;
  const nq = qTo - qFrom;
  const ids = new Uint32Array(nq * k);
  const scores = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
  const worst = new Float32Array(nq).fill(Number.NEGATIVE_INFINITY);
  const block = Math.max(16, Math.floor((128 * 1024) / (dim * 4)));
  const d4 = dim & ~3;
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    for (let q = 0; q < nq; q++) {
      const qo = (qFrom + q) * dim;
      let w = worst[q]!;
      for (let r = r0; r < r1; r++) {
        const ro = r * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let j = 0;
        for (; j < d4; j += 4) {
          s0 += vectors[ro + j]! * queryVectors[qo + j]!;
          s1 += vectors[ro + j + 1]! * queryVectors[qo + j + 1]!;
          s2 += vectors[ro + j + 2]! * queryVectors[qo + j + 2]!;
          s3 += vectors[ro + j + 3]! * queryVectors[qo + j + 3]!;
        }
        for (; j < dim; j++) s0 += vectors[ro + j]! * queryVectors[qo + j]!;
        const s = s0 + s1 + s2 + s3;
        if (s > w) {
          insert(scores, ids, q * k, k, s, r);
          w = scores[q * k + k - 1]!;
        }
      }
      worst[q] = w;
    }
    if (progress && ((r0 / block) & 255) === 0) progress(r1);
  }
  return { ids, scores };
}

const CACHE_DIR = join(tmpdir(), 'dreamdb-bench-search');

/**
 * The exact top 10 of `queries` queries cached in `name` under the cache directory: read when present,
 * else computed by `compute` (its ids and scores; the time it took per query is measured) and written.
 */
export async function cachedTruth(
  name: string,
  queries: number,
  compute: () =>
    | { ids: Uint32Array; scores: Float32Array }
    | Promise<{ ids: Uint32Array; scores: Float32Array }>,
): Promise<Truth> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const file = join(CACHE_DIR, name);
  const size = 8 + queries * K * 8;
  if (existsSync(file)) {
    const buf = readFileSync(file);
    if (buf.length === size) {
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
      return {
        k: K,
        blockedMsPerQuery: new Float64Array(ab, 0, 1)[0]!,
        ids: new Uint32Array(ab, 8, queries * K),
        scores: new Float32Array(ab, 8 + queries * K * 4, queries * K),
        cached: true,
      };
    }
  }
  const t0 = performance.now();
  const { ids, scores } = await compute();
  const blockedMsPerQuery = (performance.now() - t0) / queries;
  const out = new Uint8Array(size);
  new Float64Array(out.buffer, 0, 1)[0] = blockedMsPerQuery;
  new Uint32Array(out.buffer, 8, queries * K).set(ids);
  new Float32Array(out.buffer, 8 + queries * K * 4, queries * K).set(scores);
  writeFileSync(`${file}.part`, out);
  renameSync(`${file}.part`, file);
  return { k: K, ids, scores, blockedMsPerQuery, cached: false };
}

/** The exact top 10 of every query: from the cache file when present, else by brute force (then cached). */
export function groundTruth(data: SearchData, log: (line: string) => void = console.log): Promise<Truth> {
  const { n, dim, clusters, queries, sigma, seed } = data;
  const name = `truth-v1-n${n}-d${dim}-c${clusters}-q${queries}-s${sigma.toPrecision(6)}-seed${seed}-k${K}.bin`;
  return cachedTruth(name, queries, () => {
    log(
      `ground truth: brute force over ${n} x ${dim} for ${queries} queries (cached in ${CACHE_DIR}/${name})…`,
    );
    const t0 = performance.now();
    let last = t0;
    return bruteForce(data, 0, queries, K, (done) => {
      const now = performance.now();
      if (now - last > 10_000) {
        last = now;
        log(`  ${((100 * done) / n).toFixed(0)}% of rows, ${((now - t0) / 1000).toFixed(0)} s`);
      }
    });
  });
}

/**
 * Mean recall@10: for each query, the share of its exact top 10 found among the first 10 ordinals of
 * `results[q]` (row ordinals into data.vectors, any order).
 */
export function recallAt10(results: Uint32Array[], truth: Truth): number {
  const q = truth.ids.length / truth.k;
  let found = 0;
  for (let i = 0; i < q; i++) {
    const r = results[i];
    if (!r) continue;
    const m = Math.min(K, r.length);
    for (let t = 0; t < K; t++) {
      const id = truth.ids[i * truth.k + t]!;
      for (let j = 0; j < m; j++) {
        if (r[j] === id) {
          found++;
          break;
        }
      }
    }
  }
  return found / (q * K);
}

/**
 * Run `search` over every query one at a time (one thread): `runs` passes, and more until `minMs` have gone by
 * (at most 20), so that a brief disturbance from another process does not make the figure; the results of the
 * last pass, and the best pass's queries per second and 99th-percentile query latency. `search` gets a view of
 * the query row and its number, and returns row ordinals, best first (or a promise of them, awaited one at a time).
 */
export async function timeQueries(
  data: SearchData,
  search: (query: Float32Array, q: number) => Uint32Array | Promise<Uint32Array>,
  runs = 3,
  minMs = 2000,
): Promise<{ qps: number; p99Ms: number; results: Uint32Array[] }> {
  const { dim, queries, queryVectors } = data;
  const views = Array.from({ length: queries }, (_, q) => queryVectors.subarray(q * dim, (q + 1) * dim));
  let results: Uint32Array[] = [];
  let bestMs = Number.POSITIVE_INFINITY;
  let p99Ms = 0;
  const latencies = new Float64Array(queries);
  const start = performance.now();
  for (let r = 0; r < 20 && (r < runs || performance.now() - start < minMs); r++) {
    const out: Uint32Array[] = new Array(queries);
    const t0 = performance.now();
    for (let q = 0; q < queries; q++) {
      const t = performance.now();
      const found = search(views[q]!, q);
      // Awaited only when asynchronous (LanceDB, the paged graph): a sync search pays no microtask.
      out[q] = found instanceof Promise ? await found : found;
      latencies[q] = performance.now() - t;
    }
    const ms = performance.now() - t0;
    if (ms < bestMs) {
      bestMs = ms;
      p99Ms = latencies.slice().sort()[Math.min(queries - 1, Math.ceil(0.99 * queries) - 1)]!;
    }
    results = out;
  }
  return { qps: (queries * 1000) / bestMs, p99Ms, results };
}
