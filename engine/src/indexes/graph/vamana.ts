import { EngineError } from '../../errors.js';
import { mulberry32 } from '../../random.js';

/**
 * The Vamana graph of DiskANN (Subramanya et al., NeurIPS 2019; spec 0013), built and searched in memory
 * over unit vectors with the cosine distance 1 − x·y. Everything is deterministic: the same vectors and
 * parameters give the same graph (one thread, a seeded order, ties broken by node id), so a graph's bytes
 * are a function of its inputs. Dot products are float64 sums of the float32 components in a fixed order
 * (dot4), the order an independent implementation repeats to reach the same prune decisions.
 */

/** Build parameters: degree R, build list L, the prune's alpha, and the seed of the start graph and order. */
export interface VamanaParams {
  readonly degree: number;
  readonly buildList: number;
  readonly alpha: number;
  readonly seed: number;
}

/** A built graph: each node's out-neighbours (`degree` slots, `counts[i]` used) and the entry point. */
export interface VamanaGraph {
  readonly n: number;
  readonly dim: number;
  readonly degree: number;
  readonly neighbors: Int32Array;
  readonly counts: Uint16Array;
  readonly medoid: number;
}

/** What a search found: node ids best first, their distances, and how many nodes it expanded. */
export interface VamanaHits {
  readonly ids: Int32Array;
  readonly distances: Float64Array;
  readonly expanded: number;
}

/** Parameters checked: positive integer degree and list (list >= degree), alpha >= 1. */
export function checkVamanaParams(p: VamanaParams): VamanaParams {
  const int = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!int(p.degree, 2, 1024))
    throw new EngineError('E_FIELD', `graph degree ${p.degree} must be an integer from 2 to 1024`);
  if (!int(p.buildList, p.degree, 65_535))
    throw new EngineError(
      'E_FIELD',
      `graph build list ${p.buildList} must be an integer from the degree (${p.degree}) to 65535`,
    );
  if (!(p.alpha >= 1 && p.alpha <= 4))
    throw new EngineError('E_FIELD', `graph alpha ${p.alpha} must be from 1 to 4`);
  if (!int(p.seed, 0, 0xffffffff))
    throw new EngineError('E_FIELD', `graph seed ${p.seed} must be a 32-bit unsigned integer`);
  return p;
}

/**
 * x·y of `dim` components at offsets x and y: four float64 partial sums, component i into sum i mod 4,
 * each a left fold, joined as (s0 + s1) + (s2 + s3) (spec 0013 §1). Four chains, not one, so the adds
 * overlap; an independent implementation repeats this order to the bit.
 */
function dot4(a: Float32Array, x: number, b: Float32Array, y: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[x + i]! * b[y + i]!;
    s1 += a[x + i + 1]! * b[y + i + 1]!;
    s2 += a[x + i + 2]! * b[y + i + 2]!;
    s3 += a[x + i + 3]! * b[y + i + 3]!;
  }
  if (i < dim) s0 += a[x + i]! * b[y + i]!;
  if (i + 1 < dim) s1 += a[x + i + 1]! * b[y + i + 1]!;
  if (i + 2 < dim) s2 += a[x + i + 2]! * b[y + i + 2]!;
  return s0 + s1 + (s2 + s3);
}

/** 1 − a·b for rows a and b of `v`. */
function rowDistance(v: Float32Array, dim: number, a: number, b: number): number {
  return 1 - dot4(v, a * dim, v, b * dim, dim);
}

/** 1 − q·row b. */
function queryDistance(v: Float32Array, dim: number, q: Float32Array, b: number): number {
  return 1 - dot4(q, 0, v, b * dim, dim);
}

/** A best-first list of at most `size` candidates, kept sorted by (distance, id), with expansion marks. */
class CandidateList {
  readonly ids: Int32Array;
  readonly distances: Float64Array;
  readonly expanded: Uint8Array;
  length = 0;

  constructor(readonly size: number) {
    this.ids = new Int32Array(size);
    this.distances = new Float64Array(size);
    this.expanded = new Uint8Array(size);
  }

  /** Insert unless the list is full and it is no better than the last; returns its position or -1. */
  insert(id: number, d: number): number {
    const { ids, distances, expanded } = this;
    if (this.length === this.size) {
      const last = this.length - 1;
      if (d > distances[last]! || (d === distances[last]! && id > ids[last]!)) return -1;
      this.length--;
    }
    let at = this.length;
    while (at > 0 && (distances[at - 1]! > d || (distances[at - 1]! === d && ids[at - 1]! > id))) {
      ids[at] = ids[at - 1]!;
      distances[at] = distances[at - 1]!;
      expanded[at] = expanded[at - 1]!;
      at--;
    }
    ids[at] = id;
    distances[at] = d;
    expanded[at] = 0;
    this.length++;
    return at;
  }
}

/** Scratch space reused across searches of one graph: visit stamps, so nothing is cleared per search. */
class Visits {
  private stamps: Uint32Array;
  private stamp = 0;
  constructor(n: number) {
    this.stamps = new Uint32Array(n);
  }
  next(): void {
    this.stamp++;
    if (this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
  }
  /** Mark node i; false when it was marked in this search already. */
  mark(i: number): boolean {
    if (this.stamps[i] === this.stamp) return false;
    this.stamps[i] = this.stamp;
    return true;
  }
}

/**
 * Greedy beam search from `start` toward a target (distance function `to`): expand the best unexpanded
 * candidate until none is left in the list of `listSize`. Returns the list and the nodes expanded in order.
 */
function greedy(
  graph: { neighbors: Int32Array; counts: Uint16Array; degree: number },
  start: number,
  to: (i: number) => number,
  listSize: number,
  visits: Visits,
  keep: ((i: number) => boolean) | undefined,
  kept?: CandidateList,
): { list: CandidateList; expanded: number[] } {
  const list = new CandidateList(listSize);
  const expanded: number[] = [];
  visits.next();
  visits.mark(start);
  const first = to(start);
  list.insert(start, first);
  if (keep && kept && keep(start)) kept.insert(start, first);
  const { neighbors, counts, degree } = graph;
  for (;;) {
    let at = -1;
    for (let i = 0; i < list.length; i++)
      if (list.expanded[i] === 0) {
        at = i;
        break;
      }
    if (at < 0) break;
    list.expanded[at] = 1;
    const node = list.ids[at]!;
    expanded.push(node);
    const base = node * degree;
    for (let k = 0, c = counts[node]!; k < c; k++) {
      const nb = neighbors[base + k]!;
      if (!visits.mark(nb)) continue;
      const d = to(nb);
      list.insert(nb, d);
      // Filtered search walks through nodes the filter refuses (they still lead somewhere) and answers
      // with the best nodes it keeps among all it measured, not only those left in the list.
      if (keep && kept && keep(nb)) kept.insert(nb, d);
    }
  }
  return { list, expanded };
}

/**
 * RobustPrune (DiskANN Algorithm 2): from candidates (ids, with their distance to p), keep the nearest,
 * drop every candidate c with alpha · d(kept, c) <= d(p, c), repeat until `degree` are kept. Ties by id.
 */
function robustPrune(
  v: Float32Array,
  dim: number,
  p: number,
  candidates: number[],
  alpha: number,
  degree: number,
): number[] {
  const seen = new Set<number>();
  const pool: { id: number; d: number }[] = [];
  for (const c of candidates)
    if (c !== p && !seen.has(c)) {
      seen.add(c);
      pool.push({ id: c, d: rowDistance(v, dim, p, c) });
    }
  pool.sort((a, b) => a.d - b.d || a.id - b.id);
  const out: number[] = [];
  const alive = new Uint8Array(pool.length).fill(1);
  for (let i = 0; i < pool.length && out.length < degree; i++) {
    if (!alive[i]) continue;
    const star = pool[i]!.id;
    out.push(star);
    for (let j = i + 1; j < pool.length; j++)
      if (alive[j] && alpha * rowDistance(v, dim, star, pool[j]!.id) <= pool[j]!.d) alive[j] = 0;
  }
  return out;
}

/** The row nearest the centroid of all rows (ties: the lowest id): the graph's entry point. */
export function medoid(v: Float32Array, dim: number, n: number): number {
  const centroid = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) centroid[d] = centroid[d]! + v[i * dim + d]!;
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let d = 0; d < dim; d++) {
      const x = v[i * dim + d]! - centroid[d]! / n;
      d2 += x * x;
    }
    if (d2 < bestD) {
      bestD = d2;
      best = i;
    }
  }
  return best;
}

/**
 * Build the Vamana graph of `n` unit rows of `v` (row-major, `dim` wide): a random start graph of
 * `degree` out-edges per node (seeded), then two passes over a seeded order of the nodes (alpha 1, then
 * the given alpha), each node linked to the robust-pruned nodes a search for it expanded, and back-linked
 * from them (pruned again when full).
 */
export function buildVamana(v: Float32Array, dim: number, params: VamanaParams): VamanaGraph {
  const { degree, buildList, alpha, seed } = checkVamanaParams(params);
  const n = Math.floor(v.length / dim);
  if (n === 0) throw new EngineError('E_BAD_REQUEST', 'a graph needs at least one vector');
  // While building, a node takes back-links up to SLACK times its degree before it is pruned (DiskANN's
  // slack): pruning on every back-link to a full node would cost most of the build.
  const width = Math.ceil(degree * SLACK);
  const neighbors = new Int32Array(n * width).fill(-1);
  const counts = new Uint16Array(n);
  const rng = mulberry32(seed);
  const start = Math.min(degree, n - 1);
  for (let i = 0; i < n; i++) {
    const chosen = new Set<number>();
    while (chosen.size < start) {
      const j = Math.floor(rng() * n);
      if (j !== i) chosen.add(j);
    }
    let k = 0;
    for (const j of chosen) neighbors[i * width + k++] = j;
    counts[i] = k;
  }
  const entry = medoid(v, dim, n);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const graph = { neighbors, counts, degree: width };
  const visits = new Visits(n);
  const set = (node: number, list: readonly number[]) => {
    for (let k = 0; k < list.length; k++) neighbors[node * width + k] = list[k]!;
    for (let k = list.length; k < width; k++) neighbors[node * width + k] = -1;
    counts[node] = list.length;
  };
  const outOf = (node: number) => Array.from(neighbors.subarray(node * width, node * width + counts[node]!));
  const passes = alpha === 1 ? [1] : [1, alpha];
  for (const passAlpha of passes) {
    for (const p of order) {
      const { expanded } = greedy(
        graph,
        entry,
        (i) => rowDistance(v, dim, p, i),
        buildList,
        visits,
        undefined,
      );
      // DiskANN prunes over the nodes the search expanded, and the node's own out-edges.
      set(p, robustPrune(v, dim, p, [...expanded, ...outOf(p)], passAlpha, degree));
      for (let k = 0, c = counts[p]!; k < c; k++) {
        const j = neighbors[p * width + k]!;
        const base = j * width;
        const cj = counts[j]!;
        let has = false;
        for (let m = 0; m < cj; m++)
          if (neighbors[base + m] === p) {
            has = true;
            break;
          }
        if (has) continue;
        if (cj < width) {
          neighbors[base + cj] = p;
          counts[j] = cj + 1;
        } else set(j, robustPrune(v, dim, j, [...outOf(j), p], passAlpha, degree));
      }
    }
  }
  // The graph as stored: every node pruned to its degree (in id order, deterministic).
  const final = new Int32Array(n * degree).fill(-1);
  const finalCounts = new Uint16Array(n);
  const last = passes[passes.length - 1]!;
  for (let i = 0; i < n; i++) {
    const out = counts[i]! > degree ? robustPrune(v, dim, i, outOf(i), last, degree) : outOf(i);
    for (let k = 0; k < out.length; k++) final[i * degree + k] = out[k]!;
    finalCounts[i] = out.length;
  }
  return { n, dim, degree, neighbors: final, counts: finalCounts, medoid: entry };
}

/** How many more out-edges than its degree a node may hold while the graph is built. */
const SLACK = 1.3;

/** A searcher of one graph: scratch space kept across queries (one query at a time). */
export class VamanaSearcher {
  private readonly visits: Visits;

  constructor(
    private readonly graph: VamanaGraph,
    private readonly vectors: Float32Array,
  ) {
    this.visits = new Visits(graph.n);
  }

  /** The k nearest rows to unit `query` with a search list of `list` (>= k); `keep` filters inside the walk. */
  search(query: Float32Array, k: number, list: number, keep?: (i: number) => boolean): VamanaHits {
    const { graph, vectors } = this;
    const size = Math.max(k, list);
    const kept = keep ? new CandidateList(k) : undefined;
    const walk = greedy(
      graph,
      graph.medoid,
      (i) => queryDistance(vectors, graph.dim, query, i),
      size,
      this.visits,
      keep,
      kept,
    );
    const found = kept ?? walk.list;
    const expanded = walk.expanded;
    const m = Math.min(k, found.length);
    return {
      ids: found.ids.slice(0, m),
      distances: found.distances.slice(0, m),
      expanded: expanded.length,
    };
  }
}
