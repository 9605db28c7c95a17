import { EngineError } from '../../errors.js';
import { mulberry32 } from '../../random.js';
import { DOT_BATCH, DotKernel } from './dot-kernel.js';

/**
 * The Vamana graph of DiskANN (Subramanya et al., NeurIPS 2019; spec 0013), built and searched in memory
 * over unit vectors with the cosine distance 1 − x·y. Everything is deterministic: the same vectors and
 * parameters give the same graph (one thread, a seeded order, ties broken by node id), so a graph's bytes
 * are a function of its inputs. Dot products are f32 sums in a fixed order (dot-kernel.ts), the order an
 * independent implementation repeats to reach the same prune decisions.
 */

/** Build parameters: degree R, build list L, the prune's alpha, and the seed of the insertion order. */
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
  /**
   * The navigation layer (spec 0013 §3): a graph over every UPPER_EVERY-th node (its node i is node
   * i · UPPER_EVERY here), itself with an upper layer while large enough. A search starts from the nodes
   * its search finds instead of walking from the medoid: HNSW's hierarchy, over Vamana graphs.
   */
  readonly upper?: VamanaGraph;
}

/** Every this-many-th node of a graph is a node of its upper layer. */
export const UPPER_EVERY = 16;
/** A graph of at least this many nodes has an upper layer. */
export const UPPER_MIN = 2048;
/** The upper layer's search: its list, and how many of the nodes it finds start the search below. */
const UPPER_LIST = 16;
const UPPER_STARTS = 8;

/**
 * The build parameters of a graph's upper layers: half the degree and build list (rounded up), alpha 1
 * (HNSW's heuristic: a layer prunes more of a node's near neighbours and keeps links to other clusters,
 * which is what a layer is for), the same seed.
 */
export function upperParams(p: VamanaParams): VamanaParams {
  const degree = Math.max(2, Math.ceil(p.degree / 2));
  return { degree, buildList: Math.max(degree, Math.ceil(p.buildList / 2)), alpha: 1, seed: p.seed };
}

/** The navigation layers a graph of `n` nodes has under `params` (lowest first): their node counts and degrees. */
export function upperLayers(n: number, params: VamanaParams): { n: number; degree: number }[] {
  const out: { n: number; degree: number }[] = [];
  const { degree } = upperParams(params);
  for (let count = n; count >= UPPER_MIN; ) {
    count = Math.floor(count / UPPER_EVERY);
    out.push({ n: count, degree });
  }
  return out;
}

/** The rows of a kernel's upper-layer sample (rows 0, UPPER_EVERY, 2·UPPER_EVERY, …) in a kernel of their own. */
export function upperRows(rows: DotKernel, count: number): DotKernel {
  const sample = new DotKernel(count, rows.dim);
  for (let i = 0; i < count; i++) {
    const at = i * UPPER_EVERY * rows.stride;
    sample.setRow(i, rows.rows.subarray(at, at + rows.dim));
  }
  return sample;
}

/**
 * What a search scores rows with: a query set once, then dot products of batches of row ids. The dot
 * kernel of full vectors, or product-quantization codes (code-kernel.ts) for paged segments.
 */
export interface QueryScorer {
  readonly ids: Uint32Array;
  readonly out: Float32Array;
  setQuery(query: Float32Array): void;
  /** out[j] = the query's dot with row ids[j], j < count. */
  dots(count: number): void;
  /** The rows 0, UPPER_EVERY, 2·UPPER_EVERY, … (`count` of them) as a scorer of their own: an upper layer's. */
  sample(count: number): QueryScorer;
}

/**
 * A scorer of a dot kernel's rows 0, every, 2·every, … (all rows when every is 1). Samples score the rows
 * where they lie (no copy: the layers above cost only their links) and share the kernel's query and
 * buffers, as layers are searched one after the other.
 */
function dotScorer(kernel: DotKernel, every = 1): QueryScorer {
  const ids = every === 1 ? kernel.ids : new Uint32Array(DOT_BATCH);
  return {
    ids,
    out: kernel.out,
    setQuery: (q) => kernel.setQuery(q),
    dots: (count) => {
      if (every !== 1) for (let j = 0; j < count; j++) kernel.ids[j] = ids[j]! * every;
      kernel.dots(count);
    },
    sample: () => dotScorer(kernel, every * UPPER_EVERY),
  };
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

/** Distances 1 − query·row of `count` ids (the kernel's query set) into out[0..count), in kernel batches. */
function measure(kernel: DotKernel, ids: ArrayLike<number>, count: number, out: Float64Array): void {
  for (let start = 0; start < count; start += DOT_BATCH) {
    const m = Math.min(DOT_BATCH, count - start);
    for (let j = 0; j < m; j++) kernel.ids[j] = ids[start + j]!;
    kernel.dots(m);
    for (let j = 0; j < m; j++) out[start + j] = 1 - kernel.out[j]!;
  }
}

/** A best-first list of at most `size` candidates, kept sorted by (distance, id), with expansion marks. */
export class CandidateList {
  readonly ids: Int32Array;
  readonly distances: Float64Array;
  readonly expanded: Uint8Array;
  length = 0;

  constructor(readonly size: number) {
    this.ids = new Int32Array(size);
    this.distances = new Float64Array(size);
    this.expanded = new Uint8Array(size);
  }

  /** The first position not expanded yet (length when every candidate is). */
  cursor = 0;

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
    if (at < this.cursor) this.cursor = at;
    else if (this.cursor > this.length) this.cursor = this.length;
    return at;
  }

  /** The best candidate not expanded yet, marked expanded; -1 when none is left. */
  next(): number {
    const { expanded } = this;
    let at = this.cursor;
    while (at < this.length && expanded[at] === 1) at++;
    if (at >= this.length) {
      this.cursor = this.length;
      return -1;
    }
    expanded[at] = 1;
    this.cursor = at + 1;
    return this.ids[at]!;
  }
}

/** Scratch space reused across searches of one graph: visit stamps, so nothing is cleared per search. */
export class Visits {
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

/** Scratch of one search: distances of one expansion's neighbours. */
const scratch = { distances: new Float64Array(DOT_BATCH) };

/**
 * Greedy beam search from `starts` toward the kernel's query: expand the best unexpanded candidate until
 * none is left in the list of `listSize`; an expansion measures its unvisited neighbours in one kernel
 * call. Returns the list and the nodes expanded in order.
 */
function greedy(
  graph: { neighbors: Int32Array; counts: Uint16Array; degree: number },
  kernel: QueryScorer,
  starts: ArrayLike<number>,
  listSize: number,
  visits: Visits,
  keep: ((i: number) => boolean) | undefined,
  kept?: CandidateList,
): { list: CandidateList; expanded: number[] } {
  const list = new CandidateList(listSize);
  const expanded: number[] = [];
  const distances = scratch.distances;
  const ids = kernel.ids;
  visits.next();
  let m0 = 0;
  for (let j = 0; j < starts.length; j++) if (visits.mark(starts[j]!)) ids[m0++] = starts[j]!;
  kernel.dots(m0);
  for (let j = 0; j < m0; j++) distances[j] = 1 - kernel.out[j]!;
  for (let j = 0; j < m0; j++) {
    list.insert(ids[j]!, distances[j]!);
    if (keep && kept && keep(ids[j]!)) kept.insert(ids[j]!, distances[j]!);
  }
  const { neighbors, counts, degree } = graph;
  for (;;) {
    const node = list.next();
    if (node < 0) break;
    expanded.push(node);
    const base = node * degree;
    let m = 0;
    for (let k = 0, c = counts[node]!; k < c; k++) {
      const nb = neighbors[base + k]!;
      if (visits.mark(nb)) ids[m++] = nb;
    }
    if (m === 0) continue;
    kernel.dots(m);
    const out = kernel.out;
    for (let j = 0; j < m; j++) distances[j] = 1 - out[j]!;
    for (let j = 0; j < m; j++) {
      const nb = ids[j]!;
      const d = distances[j]!;
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
 * Its scratch is kept across calls: a build prunes once per insertion and once per full back-linked node.
 */
class Pruner {
  private readonly seen: Visits;
  private pool = new Int32Array(0);
  private poolD = new Float64Array(0);
  private order = new Uint32Array(0);
  private sortedIds = new Int32Array(0);
  private sortedD = new Float64Array(0);
  private alive = new Uint8Array(0);
  private rest = new Int32Array(0);
  private restAt = new Int32Array(0);
  private toStar = new Float64Array(0);

  constructor(
    private readonly kernel: DotKernel,
    private readonly alpha: number,
    private readonly degree: number,
  ) {
    this.seen = new Visits(kernel.n);
  }

  private room(size: number): void {
    if (this.pool.length >= size) return;
    const cap = Math.max(size, 2 * this.pool.length);
    this.pool = new Int32Array(cap);
    this.poolD = new Float64Array(cap);
    this.order = new Uint32Array(cap);
    this.sortedIds = new Int32Array(cap);
    this.sortedD = new Float64Array(cap);
    this.alive = new Uint8Array(cap);
    this.rest = new Int32Array(cap);
    this.restAt = new Int32Array(cap);
    this.toStar = new Float64Array(cap);
  }

  /** The pruned out-neighbours of p from `candidates` (duplicates and p itself ignored), nearest first. */
  prune(p: number, candidates: ArrayLike<number>): number[] {
    const { kernel, alpha, degree, seen } = this;
    this.room(candidates.length);
    const { pool, poolD, order, sortedIds, sortedD, alive, rest, restAt, toStar } = this;
    seen.next();
    seen.mark(p);
    let count = 0;
    for (let j = 0; j < candidates.length; j++) if (seen.mark(candidates[j]!)) pool[count++] = candidates[j]!;
    kernel.queryRow(p);
    measure(kernel, pool, count, poolD);
    for (let j = 0; j < count; j++) order[j] = j;
    order.subarray(0, count).sort((x, y) => poolD[x]! - poolD[y]! || pool[x]! - pool[y]!);
    for (let j = 0; j < count; j++) {
      sortedIds[j] = pool[order[j]!]!;
      sortedD[j] = poolD[order[j]!]!;
    }
    alive.fill(1, 0, count);
    const out: number[] = [];
    for (let i = 0; i < count && out.length < degree; i++) {
      if (!alive[i]) continue;
      const star = sortedIds[i]!;
      out.push(star);
      if (out.length === degree) break;
      let m = 0;
      for (let j = i + 1; j < count; j++)
        if (alive[j]) {
          rest[m] = sortedIds[j]!;
          restAt[m++] = j;
        }
      if (m === 0) break;
      kernel.queryRow(star);
      measure(kernel, rest, m, toStar);
      for (let r = 0; r < m; r++) if (alpha * toStar[r]! <= sortedD[restAt[r]!]!) alive[restAt[r]!] = 0;
    }
    return out;
  }
}

/** The row nearest the centroid of all rows (ties: the lowest id): the graph's entry point. Rows `stride` apart. */
export function medoid(v: Float32Array, dim: number, n: number, stride = dim): number {
  const centroid = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) centroid[d] = centroid[d]! + v[i * stride + d]!;
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let d = 0; d < dim; d++) {
      const x = v[i * stride + d]! - centroid[d]! / n;
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
 * Build the Vamana graph of `n` unit rows of `v` (row-major, `dim` wide) as DiskANN's code does (not the
 * paper's two passes over a random start graph: one pass over an empty graph builds in about 0.7x the
 * time at the same recall): the nodes inserted in a seeded order, each searched for from the medoid in
 * the graph so far, linked to the robust-pruned nodes that search expanded, and back-linked from them
 * (pruned again when full).
 */
export function buildVamana(v: Float32Array, dim: number, params: VamanaParams): VamanaGraph {
  return buildGraph(new DotKernel(Math.floor(v.length / dim), dim, v), params);
}

/** buildVamana over the rows a dot kernel holds (no copy of them). */
export function buildGraph(rows: DotKernel, params: VamanaParams, layer = upperParams(params)): VamanaGraph {
  const { degree, buildList, alpha, seed } = checkVamanaParams(params);
  const { n, dim } = rows;
  if (n === 0) throw new EngineError('E_BAD_REQUEST', 'a graph needs at least one vector');
  // While building, a node takes back-links up to SLACK times its degree before it is pruned (DiskANN's
  // slack): pruning on every back-link to a full node would cost most of the build.
  const width = Math.ceil(degree * SLACK);
  const neighbors = new Int32Array(n * width).fill(-1);
  const counts = new Uint16Array(n);
  const rng = mulberry32(seed);
  const entry = medoid(rows.rows, dim, n, rows.stride);
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
  // The navigation layers are built first, over their sample: each insertion then searches from the nodes
  // the layer above finds nearest the new node (HNSW's descent), not from the medoid, whose walk stalls
  // where clusters lie at equal distances from everything else (as at 100k x 768).
  const upper =
    n >= UPPER_MIN ? buildGraph(upperRows(rows, Math.floor(n / UPPER_EVERY)), layer, layer) : undefined;
  const scorer = dotScorer(rows);
  const pruner = new Pruner(rows, alpha, degree);
  const navigator = upper && new VamanaSearcher(upper, scorer.sample(upper.n));
  const fromEntry = [entry];
  for (const p of order) {
    const starts = navigator
      ? navigator.startsOf(rows.rows.subarray(p * rows.stride, p * rows.stride + dim))
      : fromEntry;
    rows.queryRow(p);
    const { expanded } = greedy(graph, scorer, starts, buildList, visits, undefined);
    // DiskANN prunes over the nodes the search expanded, and the node's own out-edges.
    set(p, pruner.prune(p, [...expanded, ...outOf(p)]));
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
      } else set(j, pruner.prune(j, [...outOf(j), p]));
    }
  }
  // The graph as stored: every node pruned to its degree (in id order, deterministic).
  const final = new Int32Array(n * degree).fill(-1);
  const finalCounts = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const out = counts[i]! > degree ? pruner.prune(i, outOf(i)) : outOf(i);
    for (let k = 0; k < out.length; k++) final[i * degree + k] = out[k]!;
    finalCounts[i] = out.length;
  }
  return { n, dim, degree, neighbors: final, counts: finalCounts, medoid: entry, ...(upper && { upper }) };
}

/** How many more out-edges than its degree a node may hold while the graph is built. */
const SLACK = 1.3;

/** A searcher of one graph: scratch space kept across queries (one query at a time). */
export class VamanaSearcher {
  private readonly visits: Visits;
  /** How the graph's rows are scored. */
  readonly scorer: QueryScorer;
  /** The upper layer's searcher (scoring the sampled rows of this one's scorer), when the graph has one. */
  private readonly upper: VamanaSearcher | undefined;
  private readonly starts = new Int32Array(UPPER_STARTS);

  /** `vectors`: the graph's rows, packed (copied into a kernel), a kernel holding them, or another scorer. */
  constructor(
    private readonly graph: VamanaGraph,
    vectors: Float32Array | DotKernel | QueryScorer,
  ) {
    this.visits = new Visits(graph.n);
    this.scorer =
      vectors instanceof DotKernel
        ? dotScorer(vectors)
        : vectors instanceof Float32Array
          ? dotScorer(new DotKernel(graph.n, graph.dim, vectors))
          : vectors;
    if (graph.upper) this.upper = new VamanaSearcher(graph.upper, this.scorer.sample(graph.upper.n));
  }

  /** Where a search starts: the nodes the upper layer finds nearest, else the medoid. */
  startsFor(query: Float32Array): ArrayLike<number> {
    return this.upper ? this.upper.startsOf(query) : [this.graph.medoid];
  }

  /** The graph below's starting nodes for `query`: the UPPER_STARTS best of this layer, as ids below. */
  startsOf(query: Float32Array): Int32Array {
    const found = this.search(query, UPPER_STARTS, UPPER_LIST).ids;
    for (let j = 0; j < found.length; j++) this.starts[j] = found[j]! * UPPER_EVERY;
    return this.starts.subarray(0, found.length);
  }

  /** The k nearest rows to unit `query` with a search list of `list` (>= k); `keep` filters inside the walk. */
  search(query: Float32Array, k: number, list: number, keep?: (i: number) => boolean): VamanaHits {
    const { graph, scorer } = this;
    const size = Math.max(k, list);
    const kept = keep ? new CandidateList(k) : undefined;
    // This layer's query first: a code kernel's upper layers copy its table (code-kernel.ts).
    scorer.setQuery(query);
    const starts = this.startsFor(query);
    const walk = greedy(graph, scorer, starts, size, this.visits, keep, kept);
    const found = kept ?? walk.list;
    const m = Math.min(k, found.length);
    return {
      ids: found.ids.slice(0, m),
      distances: found.distances.slice(0, m),
      expanded: walk.expanded.length,
    };
  }

  /** The exact k nearest rows of ids [from, to) that `keep` accepts (all without it): a scan in kernel batches. */
  scan(query: Float32Array, k: number, from: number, to: number, keep?: (i: number) => boolean): VamanaHits {
    const kernel = this.scorer;
    kernel.setQuery(query);
    const best = new CandidateList(k);
    for (let start = from; start < to; start += DOT_BATCH) {
      let m = 0;
      for (let i = start, end = Math.min(to, start + DOT_BATCH); i < end; i++)
        if (!keep || keep(i)) kernel.ids[m++] = i;
      kernel.dots(m);
      for (let j = 0; j < m; j++) best.insert(kernel.ids[j]!, 1 - kernel.out[j]!);
    }
    return {
      ids: best.ids.slice(0, best.length),
      distances: best.distances.slice(0, best.length),
      expanded: 0,
    };
  }
}
