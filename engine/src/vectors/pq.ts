import { EngineError } from '../errors.js';
import { mulberry32 } from '../random.js';

/**
 * Product quantization (Jégou et al., TPAMI 2011; spec 0010 §2): a vector cut into M subvectors, each
 * replaced by the index of its nearest of 256 centroids trained by k-means on that subspace, so a
 * vector is M bytes. A query scores a code by summing M entries of a table of query·centroid dots
 * (asymmetric distance): what the graph index's walk measures instead of full vectors. Training and
 * encoding are deterministic: the same rows and parameters give the same codebooks and codes.
 */

/** Centroids per subspace: one byte a code. */
export const PQ_CENTROIDS = 256;

/** Training parameters: subspaces M, the seed of the sample and the number of rows and rounds. */
export interface PqParams {
  readonly dimension: number;
  readonly subspaces: number;
  readonly seed: number;
  readonly trainRows: number;
  readonly iterations: number;
}

/** Trained codebooks: subspace m covers components [bounds[m], bounds[m+1]); its centroids are 256 × width f32. */
export interface Codebooks {
  readonly dimension: number;
  readonly subspaces: number;
  readonly bounds: Int32Array;
  /** Subspace m's centroids start at offsets[m]: centroid c of it is width_m floats at offsets[m] + c · width_m. */
  readonly offsets: Int32Array;
  readonly centroids: Float32Array;
}

/**
 * Default subspaces: half the dimension up to 64 bytes, or a quarter of it where that is more (64 bytes
 * for 128-d, 192 for 768-d). On the bench's clustered 100k x 128, 32 bytes reach recall@10 0.95 at a
 * search list of 64 and 64 bytes 0.999; on 100k x 768, 96 bytes reach 0.86: the walk ranks by the
 * codes, so they must tell neighbours apart.
 */
export const defaultSubspaces = (dimension: number): number =>
  Math.min(Math.ceil(dimension / 2), Math.max(64, Math.ceil(dimension / 4)));

/** Default training: 40 rows per centroid (FAISS's floor for a stable k-means), 10 rounds. */
export const defaultPqParams = (dimension: number): PqParams => ({
  dimension,
  subspaces: defaultSubspaces(dimension),
  seed: 0,
  trainRows: 40 * PQ_CENTROIDS,
  iterations: 10,
});

/** The subspace bounds: floor(m · dimension / M) for m = 0..M (widths differ by at most one). */
export function subspaceBounds(dimension: number, subspaces: number): Int32Array {
  if (!(Number.isInteger(subspaces) && subspaces >= 1 && subspaces <= dimension))
    throw new EngineError(
      'E_FIELD',
      `${subspaces} subspaces do not fit ${dimension} dimensions (1 to ${dimension})`,
    );
  return Int32Array.from({ length: subspaces + 1 }, (_, m) => Math.floor((m * dimension) / subspaces));
}

/** Codebooks over given centroids (as a VectorCompressor holds them), their layout derived. */
export function codebooks(dimension: number, subspaces: number, centroids: Float32Array): Codebooks {
  const bounds = subspaceBounds(dimension, subspaces);
  const offsets = new Int32Array(subspaces);
  for (let m = 0; m < subspaces; m++) offsets[m] = bounds[m]! * PQ_CENTROIDS;
  if (centroids.length !== dimension * PQ_CENTROIDS)
    throw new EngineError(
      'E_FIELD',
      `${centroids.length} centroid components; ${subspaces} subspaces of ${dimension} dimensions need ${dimension * PQ_CENTROIDS}`,
    );
  return { dimension, subspaces, bounds, offsets, centroids };
}

/**
 * The training sample: every row when there are at most `trainRows`, else the first `trainRows` of a
 * partial Fisher–Yates shuffle (i ascending, j = i + floor(next() · (n − i))) by mulberry32(seed).
 */
export function trainingSample(n: number, params: PqParams): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= params.trainRows) return order;
  const next = mulberry32(params.seed);
  for (let i = 0; i < params.trainRows; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order.subarray(0, params.trainRows);
}

/**
 * The nearest of a subspace's 256 centroids to components [lo, lo + width) of `row` at `at`: squared
 * Euclidean distance in float64 summed in ascending component order, ties to the lowest index.
 */
function nearest(
  centroids: Float32Array,
  base: number,
  width: number,
  row: Float32Array,
  at: number,
): number {
  if (width === 2) return nearest2(centroids, base, row, at);
  if (width === 4) return nearest4(centroids, base, row, at);
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0, o = base; c < PQ_CENTROIDS; c++, o += width) {
    let d = 0;
    for (let i = 0; i < width; i++) {
      const t = row[at + i]! - centroids[o + i]!;
      d += t * t;
    }
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** nearest() for width 2, unrolled (the default up to 128 dimensions): the same sums in the same order. */
function nearest2(centroids: Float32Array, base: number, row: Float32Array, at: number): number {
  const x0 = row[at]!;
  const x1 = row[at + 1]!;
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0, o = base; c < PQ_CENTROIDS; c++, o += 2) {
    const t0 = x0 - centroids[o]!;
    const t1 = x1 - centroids[o + 1]!;
    const d = t0 * t0 + t1 * t1;
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** nearest() for width 4, unrolled (the default past 256 dimensions): the same sums in the same order. */
function nearest4(centroids: Float32Array, base: number, row: Float32Array, at: number): number {
  const x0 = row[at]!;
  const x1 = row[at + 1]!;
  const x2 = row[at + 2]!;
  const x3 = row[at + 3]!;
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0, o = base; c < PQ_CENTROIDS; c++, o += 4) {
    const t0 = x0 - centroids[o]!;
    const t1 = x1 - centroids[o + 1]!;
    const t2 = x2 - centroids[o + 2]!;
    const t3 = x3 - centroids[o + 3]!;
    const d = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/**
 * Train codebooks on `n` rows (`stride` floats apart, the rows the codes will stand for). Per subspace, Lloyd's
 * k-means over the sample: centroid c starts as sample row c mod |sample|; each round assigns every
 * sample row to its nearest centroid, then sets each centroid to the float64 mean of its rows rounded to
 * float32 (a centroid with no rows stays).
 */
export function trainPq(
  rows: Float32Array,
  n: number,
  params: PqParams,
  stride = params.dimension,
): Codebooks {
  const { dimension, subspaces } = params;
  if (n < 1) throw new EngineError('E_FIELD', 'product quantization needs at least one row to train on');
  const sample = trainingSample(n, params);
  const bounds = subspaceBounds(dimension, subspaces);
  const centroids = new Float32Array(dimension * PQ_CENTROIDS);
  const assigned = new Int32Array(sample.length);
  const sums = new Float64Array(PQ_CENTROIDS * Math.ceil(dimension / subspaces));
  const sizes = new Int32Array(PQ_CENTROIDS);
  for (let m = 0; m < subspaces; m++) {
    const lo = bounds[m]!;
    const width = bounds[m + 1]! - lo;
    const base = lo * PQ_CENTROIDS;
    for (let c = 0; c < PQ_CENTROIDS; c++) {
      const row = sample[c % sample.length]!;
      for (let i = 0; i < width; i++) centroids[base + c * width + i] = rows[row * stride + lo + i]!;
    }
    for (let round = 0; round < params.iterations; round++) {
      for (let s = 0; s < sample.length; s++)
        assigned[s] = nearest(centroids, base, width, rows, sample[s]! * stride + lo);
      sums.fill(0);
      sizes.fill(0);
      for (let s = 0; s < sample.length; s++) {
        const c = assigned[s]!;
        sizes[c]!++;
        const at = sample[s]! * stride + lo;
        for (let i = 0; i < width; i++) sums[c * width + i]! += rows[at + i]!;
      }
      for (let c = 0; c < PQ_CENTROIDS; c++)
        if (sizes[c]! > 0)
          for (let i = 0; i < width; i++) centroids[base + c * width + i] = sums[c * width + i]! / sizes[c]!;
    }
  }
  return codebooks(dimension, subspaces, centroids);
}

/** The codes of `n` rows (`stride` apart): M bytes a row, byte m the nearest centroid of subspace m. */
export function encodePq(
  books: Codebooks,
  rows: Float32Array,
  n: number,
  stride = books.dimension,
): Uint8Array {
  const { subspaces, bounds } = books;
  const codes = new Uint8Array(n * subspaces);
  for (let r = 0; r < n; r++)
    for (let m = 0; m < subspaces; m++) {
      const lo = bounds[m]!;
      codes[r * subspaces + m] = nearest(
        books.centroids,
        books.offsets[m]!,
        bounds[m + 1]! - lo,
        rows,
        r * stride + lo,
      );
    }
  return codes;
}

/**
 * The asymmetric distance table of a query: entry m · 256 + c is the dot of the query's subvector m with
 * centroid c of subspace m (float64 summed in ascending order, stored as float32). A code's estimated dot
 * with the query is the sum of its M entries.
 */
export function pqTable(books: Codebooks, query: Float32Array, out: Float32Array): Float32Array {
  const { subspaces, bounds, offsets, centroids } = books;
  for (let m = 0; m < subspaces; m++) {
    const lo = bounds[m]!;
    const width = bounds[m + 1]! - lo;
    for (let c = 0, o = offsets[m]!; c < PQ_CENTROIDS; c++, o += width) {
      let dot = 0;
      for (let i = 0; i < width; i++) dot += query[lo + i]! * centroids[o + i]!;
      out[m * PQ_CENTROIDS + c] = dot;
    }
  }
  return out;
}

/** A code's estimated dot with the table's query: its M entries summed as a float32 left fold, ascending m. */
export function pqDot(table: Float32Array, codes: Uint8Array, code: number, subspaces: number): number {
  let dot = 0;
  for (let m = 0, at = code * subspaces; m < subspaces; m++)
    dot = Math.fround(dot + table[(m << 8) | codes[at + m]!]!);
  return dot;
}

/** A row rebuilt from its code (each subvector its centroid): for tests and the quantization error. */
export function decodePq(books: Codebooks, codes: Uint8Array, code: number, out: Float32Array): Float32Array {
  const { subspaces, bounds, offsets, centroids } = books;
  for (let m = 0; m < subspaces; m++) {
    const lo = bounds[m]!;
    const width = bounds[m + 1]! - lo;
    const at = offsets[m]! + codes[code * subspaces + m]! * width;
    for (let i = 0; i < width; i++) out[lo + i] = centroids[at + i]!;
  }
  return out;
}
