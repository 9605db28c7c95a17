import { EngineError } from '../../errors.js';
import { mulberry32 } from '../../random.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import type { ShardJob, ShardRunner, Spill, SpillWriter } from '../large-build.js';
import { DotKernel } from './dot-kernel.js';
import {
  buildGraph,
  UPPER_EVERY,
  UPPER_MIN,
  upperParams,
  type VamanaGraph,
  type VamanaParams,
} from './vamana.js';

/**
 * A Vamana graph built over partitions, for tracks larger than memory (spec 0013 §2.1, DiskANN's merged
 * shards): spherical k-means centroids from a sample, each vector in the shards of its 2 nearest, one
 * shard's graph built in memory at a time (degree 2R/3) from rows spilled out of the source, then the
 * shards' out-edges joined per node and cut to R. Only one shard's rows and graph, the sample, the
 * navigation layers (every 16th node) and the shard ids are ever held: not the whole graph.
 */

export type { ShardJob, ShardRunner, Spill, SpillWriter } from '../large-build.js';

/** The rows of a build, read in ranges (node order) as written: the builder scales them to unit length. */
export interface RowSource {
  readonly count: number;
  readonly dimension: number;
  /** Rows [from, to), row-major, (to − from) × dimension components. */
  rows(from: number, to: number): Promise<Float32Array>;
}

/** How a partitioned build runs. */
export interface PartitionOptions {
  /** Nodes a shard should hold (a target: k-means decides, the largest shard is reported). */
  readonly shardNodes: number;
  readonly spill: Spill;
  readonly runShards?: ShardRunner;
  /** Rows read from the source at a time. */
  readonly chunk?: number;
  /** Told each phase as it ends (for progress and benches). */
  readonly log?: (line: string) => void;
}

/** A partitioned build's graph: entry point and layers in memory, the base out-edges in the spill. */
export interface PartitionedGraph {
  readonly n: number;
  readonly dim: number;
  readonly degree: number;
  readonly medoid: number;
  readonly upper?: VamanaGraph;
  readonly shards: number;
  /** Nodes of the largest shard. */
  readonly largestShard: number;
  /** Nodes of each shard. */
  readonly shardSizes: readonly number[];
  /** The k-means sample (unit rows, evenly spaced): what codebooks are trained on too. */
  readonly sample: { readonly rows: Float32Array; readonly count: number };
  /** Out-edges of nodes [from, to): `degree` slots a node (unused −1) and their counts. */
  edges(from: number, to: number): Promise<{ neighbors: Int32Array; counts: Uint16Array }>;
}

/** Shards each vector joins: its nearest centroids (DiskANN's k_base). */
export const SHARD_OVERLAP = 2;
/** The sample takes every floor(n / SAMPLE_ROWS)-th row (so from 65,536 to 131,071 rows past 65,536). */
const SAMPLE_ROWS = 65_536;
/** A shard's capacity over its share of the rows (SHARD_OVERLAP · n / shards). */
const SHARD_SLACK = 1.25;
/** Shards a build may have: the centroids are scored in one dot-kernel batch, and shard ids are u16. */
const MAX_SHARDS = 8192;
const KMEANS_ROUNDS = 12;
const MERGED = 'merged-edges';

/** The degree of a shard's graph: 2R/3 (DiskANN), so the union of a node's two lists is about R. */
export const shardDegree = (degree: number): number => Math.max(2, Math.ceil((2 * degree) / 3));

/** Shards a build of `n` nodes takes for a target of `shardNodes` a shard. */
export const shardCount = (n: number, shardNodes: number): number =>
  Math.max(1, Math.ceil((SHARD_OVERLAP * n) / shardNodes));

/** Build a shard in this thread: its rows from the spill, its out-edges (local ids) back to it. */
export async function buildShard(job: ShardJob, spill: Spill): Promise<void> {
  const { count, dimension } = job;
  const kernel = new DotKernel(count, dimension);
  const rowBytes = 4 * dimension;
  const step = Math.max(1, Math.floor((64 << 20) / rowBytes));
  for (let from = 0; from < count; from += step) {
    const to = Math.min(count, from + step);
    const bytes = await spill.read(job.rows, from * rowBytes, (to - from) * rowBytes);
    const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (let i = from; i < to; i++)
      kernel.setRow(i, rows.subarray((i - from) * dimension, (i - from + 1) * dimension));
  }
  const graph = buildGraph(kernel, job.params);
  const out = spill.writer(job.edges);
  await out.append(
    new Uint8Array(graph.neighbors.buffer, graph.neighbors.byteOffset, graph.neighbors.byteLength),
  );
  await out.close();
}

/** The runner without workers: each shard in this thread, in order. */
export const runShardsHere: ShardRunner = async (jobs, spill) => {
  for (const job of jobs) await buildShard(job, spill);
};

/** Build the graph of a source's rows over partitions (see the file comment). Same rows and parameters, same graph. */
export async function buildPartitioned(
  source: RowSource,
  params: VamanaParams,
  options: PartitionOptions,
): Promise<PartitionedGraph> {
  const { count: n, dimension: dim } = source;
  if (n < 1) throw new EngineError('E_BAD_REQUEST', 'a graph needs at least one vector');
  const chunk = options.chunk ?? 65_536;
  const { spill } = options;
  const shards = Math.min(shardCount(n, options.shardNodes), n);
  if (shards > MAX_SHARDS)
    throw new EngineError(
      'E_BAD_REQUEST',
      `${shards} shards of ${options.shardNodes} rows: at most ${MAX_SHARDS}`,
    );
  const overlap = Math.min(SHARD_OVERLAP, shards);
  // A shard takes at most a quarter more than its share: skewed data cannot make one as large as the track.
  const capacity = Math.ceil((SHARD_SLACK * overlap * n) / shards);
  const started = performance.now();
  const log = (what: string) =>
    options.log?.(`${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

  // Pass 1: the centroid of all unit rows, the k-means sample, the navigation layer's rows.
  const mean = new Float64Array(dim);
  const sampleEvery = Math.max(1, Math.floor(n / SAMPLE_ROWS));
  const sampleN = Math.floor((n - 1) / sampleEvery) + 1;
  const sample = new Float32Array(sampleN * dim);
  const upperN = n >= UPPER_MIN ? Math.floor(n / UPPER_EVERY) : 0;
  const upperRows = upperN > 0 ? new DotKernel(upperN, dim) : undefined;
  const unit = new Float32Array(dim);
  await forEachUnitRow(source, chunk, unit, (i) => {
    for (let d = 0; d < dim; d++) mean[d] = mean[d]! + unit[d]!;
    if (i % sampleEvery === 0) sample.set(unit, (i / sampleEvery) * dim);
    if (upperRows && i % UPPER_EVERY === 0 && i / UPPER_EVERY < upperN)
      upperRows.setRow(i / UPPER_EVERY, unit);
  });
  for (let d = 0; d < dim; d++) mean[d] = mean[d]! / n;
  const centroids = sphericalKMeans(sample, sampleN, dim, shards, params.seed);
  log(`sampled ${sampleN} rows, ${shards} centroids`);

  // Pass 2: each row into the shards of its nearest centroids; the medoid (the row nearest the mean).
  const ids = Array.from({ length: shards }, () => new GrowingIds());
  const writers = Array.from(
    { length: shards },
    (_, s) => new BufferedWriter(spill.writer(`shard-${s}.rows`)),
  );
  const home = new Uint16Array(n * overlap);
  const near = new DotKernel(shards, dim, centroids);
  for (let s = 0; s < shards; s++) near.ids[s] = s;
  let medoid = 0;
  let medoidD = Number.POSITIVE_INFINITY;
  await forEachUnitRow(source, chunk, unit, async (i) => {
    let d2 = 0;
    for (let d = 0; d < dim; d++) {
      const x = unit[d]! - mean[d]!;
      d2 += x * x;
    }
    if (d2 < medoidD) {
      medoidD = d2;
      medoid = i;
    }
    near.setQuery(unit);
    near.dots(shards);
    nearest(near.out, shards, overlap, home, i * overlap, (s) => ids[s]!.length < capacity);
    for (let k = 0; k < overlap; k++) {
      const s = home[i * overlap + k]!;
      ids[s]!.push(i);
      await writers[s]!.append(unit);
    }
  });
  for (const w of writers) await w.close();
  log(`assigned ${n} rows to ${overlap} shards each: ${ids.map((l) => l.length).join(', ')}`);

  // The shards, then the navigation layers over every UPPER_EVERY-th node (in memory: n / 16 rows).
  const layer = upperParams(params);
  const sub = { ...params, degree: overlap > 1 ? shardDegree(params.degree) : params.degree };
  const jobs: ShardJob[] = ids.map((list, s) => ({
    shard: s,
    count: list.length,
    dimension: dim,
    rows: `shard-${s}.rows`,
    edges: `shard-${s}.edges`,
    params: sub,
  }));
  await (options.runShards ?? runShardsHere)(
    jobs.filter((j) => j.count > 0),
    spill,
  );
  log('shards built');
  const upper = upperRows ? buildGraph(upperRows, layer, layer) : undefined;
  log(`navigation layers built over ${upperN} rows`);

  // The merge: a node's lists, one from each of its shards, taken in turn (each in its prune order,
  // nearest first), without repeats, up to R. DiskANN shuffles the union instead; taking in turn keeps
  // each shard's nearest and needs no random stream.
  const { degree } = params;
  const readers = jobs.map((j, s) => new RowReader(spill, j.edges, j.count, sub.degree * 4));
  const lists = ids.map((g) => g.array());
  const cursor = new Int32Array(shards);
  const merged = new BufferedWriter(spill.writer(MERGED));
  const row = new Int32Array(degree);
  const taken = new Set<number>();
  const parts: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    parts.length = 0;
    for (let k = 0; k < overlap; k++) {
      const s = home[i * overlap + k]!;
      const local = cursor[s]!++;
      const edges = new Int32Array(await readers[s]!.row(local));
      const map = lists[s]!;
      for (let e = 0; e < edges.length && edges[e]! >= 0; e++) edges[e] = map[edges[e]!]!;
      parts.push(edges);
    }
    row.fill(-1);
    taken.clear();
    let c = 0;
    for (let e = 0; c < degree && e < sub.degree; e++)
      for (const list of parts) {
        const j = list[e]!;
        if (j === undefined || j < 0 || taken.has(j)) continue;
        taken.add(j);
        row[c++] = j;
        if (c === degree) break;
      }
    await merged.append(row);
  }
  await merged.close();
  log('out-edges merged');
  const rowBytes = degree * 4;
  let largestShard = 0;
  for (const j of jobs) largestShard = Math.max(largestShard, j.count);
  return {
    n,
    dim,
    degree,
    medoid,
    ...(upper && { upper }),
    shards,
    largestShard,
    shardSizes: jobs.map((j) => j.count),
    sample: { rows: sample, count: sampleN },
    async edges(from, to) {
      const bytes = await spill.read(MERGED, from * rowBytes, (to - from) * rowBytes);
      const neighbors = new Int32Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      );
      const counts = new Uint16Array(to - from);
      for (let i = 0; i < to - from; i++) {
        let c = 0;
        while (c < degree && neighbors[i * degree + c]! >= 0) c++;
        counts[i] = c;
      }
      return { neighbors, counts };
    },
  };
}

/** Call `each(i)` for every row of the source with `unit` holding row i scaled to unit length. */
async function forEachUnitRow(
  source: RowSource,
  chunk: number,
  unit: Float32Array,
  each: (i: number) => void | Promise<void>,
): Promise<void> {
  const dim = source.dimension;
  for (let from = 0; from < source.count; from += chunk) {
    const to = Math.min(source.count, from + chunk);
    const rows = await source.rows(from, to);
    if (rows.length !== (to - from) * dim)
      throw new EngineError(
        'E_FIELD',
        `rows ${from}..${to}: ${rows.length} components, expected ${(to - from) * dim}`,
      );
    for (let i = from; i < to; i++) {
      scaleToUnit(rows, (i - from) * dim, unit);
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += unit[d]! * unit[d]!;
      // NaN, infinite and zero rows scale to non-unit rows: refused, naming the row.
      if (!(Math.abs(norm - 1) < 1e-3))
        throw new EngineError('E_FIELD', `row ${i}: not a finite vector of non-zero length`);
      const pending = each(i);
      if (pending) await pending;
    }
  }
}

/**
 * The `k` largest of `scores[0..m)` that `open` allows, by index into `out` at `at`, best first (ties: the
 * lowest index).
 */
function nearest(
  scores: Float32Array,
  m: number,
  k: number,
  out: Uint16Array,
  at: number,
  open: (s: number) => boolean = () => true,
): void {
  for (let r = 0; r < k; r++) {
    let best = -1;
    for (let s = 0; s < m; s++) {
      let used = false;
      for (let q = 0; q < r; q++) if (out[at + q] === s) used = true;
      if (!used && open(s) && (best < 0 || scores[s]! > scores[best]!)) best = s;
    }
    // Every shard still open is taken: the rest of the row's shards are the best of the full ones.
    if (best < 0)
      for (let s = 0; s < m; s++) {
        let used = false;
        for (let q = 0; q < r; q++) if (out[at + q] === s) used = true;
        if (!used && (best < 0 || scores[s]! > scores[best]!)) best = s;
      }
    out[at + r] = best;
  }
}

/**
 * `k` unit centroids of `n` unit rows by spherical k-means: k-means++ seeding from mulberry32(seed), then
 * rounds of assignment by largest dot and renormalized means (an empty cluster keeps its centroid).
 */
export function sphericalKMeans(
  rows: Float32Array,
  n: number,
  dim: number,
  k: number,
  seed: number,
): Float32Array {
  const kernel = new DotKernel(n, dim, rows);
  const centroids = new Float32Array(k * dim);
  const next = mulberry32(seed ^ 0x2545f491);
  const best = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = Math.floor(next() * n);
  for (let c = 0; c < k; c++) {
    centroids.set(rows.subarray(pick * dim, (pick + 1) * dim), c * dim);
    if (c === k - 1) break;
    kernel.setQuery(rows.subarray(pick * dim, (pick + 1) * dim));
    let total = 0;
    forBatches(kernel, n, (i, dot) => {
      best[i] = Math.min(best[i]!, Math.max(0, 1 - dot));
    });
    for (let i = 0; i < n; i++) total += best[i]!;
    let target = next() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= best[i]!;
      if (target < 0) {
        pick = i;
        break;
      }
    }
  }
  const near = new DotKernel(k, dim, centroids);
  for (let s = 0; s < k; s++) near.ids[s] = s;
  const sums = new Float64Array(k * dim);
  const one = new Uint16Array(1);
  for (let round = 0; round < KMEANS_ROUNDS; round++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      near.setQuery(rows.subarray(i * dim, (i + 1) * dim));
      near.dots(k);
      nearest(near.out, k, 1, one, 0);
      const c = one[0]!;
      for (let d = 0; d < dim; d++) sums[c * dim + d] = sums[c * dim + d]! + rows[i * dim + d]!;
    }
    for (let c = 0; c < k; c++) {
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += sums[c * dim + d]! * sums[c * dim + d]!;
      if (norm === 0) continue;
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d]! * inv;
      near.setRow(c, centroids.subarray(c * dim, (c + 1) * dim));
    }
  }
  return centroids;
}

/** Score every row of a kernel against its query, in batches. */
function forBatches(kernel: DotKernel, n: number, each: (i: number, dot: number) => void): void {
  for (let from = 0; from < n; from += kernel.ids.length) {
    const m = Math.min(kernel.ids.length, n - from);
    for (let j = 0; j < m; j++) kernel.ids[j] = from + j;
    kernel.dots(m);
    for (let j = 0; j < m; j++) each(from + j, kernel.out[j]!);
  }
}

/** A u32 list that grows by doubling. */
class GrowingIds {
  private data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  array(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Appends gathered into blocks of 4 MiB before they reach the spill. */
class BufferedWriter {
  private readonly block = new Uint8Array(4 << 20);
  private at = 0;
  constructor(private readonly out: SpillWriter) {}
  async append(values: Float32Array | Int32Array): Promise<void> {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    if (this.at + bytes.length > this.block.length) await this.flush();
    this.block.set(bytes, this.at);
    this.at += bytes.length;
  }
  private async flush(): Promise<void> {
    if (this.at === 0) return;
    await this.out.append(this.block.slice(0, this.at));
    this.at = 0;
  }
  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
  }
}

/** Fixed-size rows of a spill file read in order, a block at a time. */
class RowReader {
  private block = new Uint8Array(0);
  private first = 0;
  private rows = 0;
  constructor(
    private readonly spill: Spill,
    private readonly name: string,
    private readonly count: number,
    private readonly rowBytes: number,
  ) {}
  /** Row i (i ascending across calls), a view valid until the next call. */
  async row(i: number): Promise<ArrayBuffer> {
    if (i < this.first || i >= this.first + this.rows) {
      const per = Math.max(1, Math.floor((1 << 20) / this.rowBytes));
      this.first = i;
      this.rows = Math.min(per, this.count - i);
      const bytes = await this.spill.read(this.name, i * this.rowBytes, this.rows * this.rowBytes);
      this.block = bytes.slice();
    }
    const at = (i - this.first) * this.rowBytes;
    return this.block.buffer.slice(at, at + this.rowBytes);
  }
}

/** A spill held in memory: for tests and small builds. */
export function memorySpill(): Spill {
  const files = new Map<string, Uint8Array>();
  return {
    writer(name) {
      const parts: Uint8Array[] = [];
      return {
        async append(bytes) {
          parts.push(bytes.slice());
        },
        async close() {
          const total = parts.reduce((s, p) => s + p.length, 0);
          const all = new Uint8Array(total);
          let at = 0;
          for (const p of parts) {
            all.set(p, at);
            at += p.length;
          }
          files.set(name, all);
        },
      };
    },
    async read(name, offset, length) {
      const file = files.get(name);
      if (!file || offset + length > file.length)
        throw new EngineError('E_NOT_FOUND', `spill ${name}: no bytes ${offset}..${offset + length}`);
      return file.subarray(offset, offset + length);
    },
    async remove() {
      files.clear();
    },
  };
}
