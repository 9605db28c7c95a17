import { EngineError } from '../../errors.js';
import { cosineAt, foldNorm, foldSquares } from '../../vectors/cosine.js';
import { LshHasher } from './hasher.js';
import type { LshParams } from './lsh.js';
import { orderByKey } from './radix.js';
import { CodeScorer } from './scorer-wasm.js';

/** One candidate kept after re-rank: its ordinal in the tables and its f32 cosine. */
export interface LshHit {
  readonly ordinal: number;
  readonly score: number;
}

/** How one query runs (spec 0004 §6.3). */
export interface LshQueryOptions {
  readonly k: number;
  /** Buckets looked up per table, 1..bits+1 (default: the index's `probes`). */
  readonly probes?: number;
  /**
   * At most this many candidates are scored exactly: those with the highest approximate cosine, computed
   * from an 8-bit copy of each vector and a 16-bit copy of the query (a quarter of the bytes to read, an
   * exact integer dot product, the same on every platform; default: every candidate is scored exactly).
   */
  readonly rerank?: number;
  /**
   * Fewer candidates than this widen the lookup (default 64·k, at least `rerank`): keys are then matched
   * on their high bits only, one bit fewer at a time, so a small or sparse track still yields neighbours.
   */
  readonly widenBelow?: number;
  /** Only ordinals in [from, to) are candidates (a time window, since ordinals follow ticks). */
  readonly from?: number;
  readonly to?: number;
}

export interface LshTablesOptions {
  /** false: the pre-rank's JavaScript loop even where WebAssembly SIMD runs (the same results). */
  readonly wasm?: boolean;
}

/** Postings of one table: the ordinals sorted by key, and an open-addressing map key -> run. */
interface Table {
  readonly ordinals: Uint32Array;
  /** The key of each entry of `ordinals` (ascending): a key prefix is a contiguous run of it. */
  readonly sortedKeys: Uint32Array;
  /** slot -> key; a slot is empty when its run length is 0. */
  readonly slotKeys: Uint32Array;
  readonly slotStarts: Uint32Array;
  readonly slotEnds: Uint32Array;
  readonly mask: number;
}

/** The k-th largest value of `values` (1-based; the array is reordered): Hoare's quickselect. */
function kthLargest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! > pivot) i++;
      while (values[j]! < pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target]!;
  }
  return values[target]!;
}

/** The first position of an ascending array holding a value >= x (x may exceed 2^32 - 1). */
function firstAtLeast(sorted: Uint32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const slotOf = (key: number, mask: number) => (Math.imul(key, 0x9e3779b1) >>> 7) & mask;

function buildTable(keys: Uint32Array, offset: number, n: number): Table {
  const ordinals = orderByKey(keys, offset, n);
  let runs = 0;
  for (let i = 0; i < n; i++)
    if (i === 0 || keys[offset + ordinals[i]!] !== keys[offset + ordinals[i - 1]!]) runs++;
  let size = 16;
  while (size < runs * 2) size *= 2;
  const mask = size - 1;
  const slotKeys = new Uint32Array(size);
  const slotStarts = new Uint32Array(size);
  const slotEnds = new Uint32Array(size);
  for (let i = 0; i < n; ) {
    const key = keys[offset + ordinals[i]!]!;
    let end = i + 1;
    while (end < n && keys[offset + ordinals[end]!] === key) end++;
    let slot = slotOf(key, mask);
    while (slotEnds[slot] !== 0) slot = (slot + 1) & mask;
    slotKeys[slot] = key;
    slotStarts[slot] = i;
    slotEnds[slot] = end;
    i = end;
  }
  const sortedKeys = new Uint32Array(n);
  for (let i = 0; i < n; i++) sortedKeys[i] = keys[offset + ordinals[i]!]!;
  return { ordinals, sortedKeys, slotKeys, slotStarts, slotEnds, mask };
}

/**
 * A `dreamdb.lsh-cosine` index held in memory: `count` vectors (row-major f32, ordinals in tick order),
 * their keys per table, and per table the ordinals grouped by key. This is what a reader builds from a
 * track's spatial segments (§6.2) to answer queries: multi-table, multi-probe lookup, then an exact
 * cosine re-rank of the candidates.
 */
export class LshTables {
  readonly hasher: LshHasher;
  /** f32 norm of each row (foldNorm), so a re-rank computes only dot products. */
  readonly norms: Float32Array;
  private readonly tables: Table[] = [];
  /** Each row as 8-bit integers and the approximate cosine from them: what the pre-rank reads. */
  private readonly scorer: CodeScorer;
  /** Per ordinal: 1 once the current query found it (reset after each query). */
  private readonly seen: Uint8Array;
  private candidates: Uint32Array;
  private approximate: Float64Array;

  /**
   * @param keys table-major keys: keys[t·count + n] (from the segments, or LshHasher.keysOf).
   * @param options.wasm false: the pre-rank's JavaScript loop even where WebAssembly SIMD runs (the same
   *   results; by default the codes live in a WebAssembly memory when it validates and they fit in 4 GiB).
   */
  constructor(
    readonly params: LshParams,
    readonly vectors: Float32Array,
    readonly count: number,
    keys: Uint32Array,
    options: LshTablesOptions = {},
  ) {
    const d = params.dimension;
    if (vectors.length < count * d || keys.length !== params.tables * count)
      throw new EngineError(
        'E_FIELD',
        `lsh tables: ${count} vectors need ${count * d} values and keys per table`,
      );
    this.hasher = new LshHasher(params);
    this.norms = new Float32Array(count);
    for (let n = 0; n < count; n++) this.norms[n] = foldNorm(foldSquares(vectors, n * d, d));
    for (let t = 0; t < params.tables; t++) this.tables.push(buildTable(keys, t * count, count));
    this.scorer = new CodeScorer(vectors, count, d, this.norms, options);
    this.seen = new Uint8Array(count);
    this.candidates = new Uint32Array(1024);
    this.approximate = new Float64Array(1024);
  }

  /** Build from vectors alone, computing their keys (the write path does this once per segment). */
  static fromVectors(
    params: LshParams,
    vectors: Float32Array,
    count: number,
    options: LshTablesOptions = {},
  ): LshTables {
    return new LshTables(params, vectors, count, new LshHasher(params).keysOf(vectors, count), options);
  }

  /** Which kernel computes the pre-rank's approximate cosines. */
  get backend(): 'wasm-simd' | 'js' {
    return this.scorer.backend;
  }

  /** The k nearest candidates of a checked f32 query, best first (ties: lower ordinal, i.e. earlier tick). */
  search(query: Float32Array, options: LshQueryOptions): LshHit[] {
    const { tables, bits, dimension } = this.params;
    const probes = options.probes ?? this.params.probes;
    if (!Number.isInteger(probes) || probes < 1 || probes > bits + 1)
      throw new EngineError('E_BAD_REQUEST', `probes ${probes} must be an integer from 1 to ${bits + 1}`);
    const from = Math.max(0, options.from ?? 0);
    const to = Math.min(this.count, options.to ?? this.count);
    const keys = new Uint32Array(tables);
    const margins = new Float32Array(tables * bits);
    this.hasher.keysInto(query, 0, keys, 0, 1, margins);

    // Gather: every ordinal in a probed bucket of any table, once. Level L matches keys on bits L..bits-1 (probes flip only those); L grows until enough.
    const target = Math.min(to - from, Math.max(options.widenBelow ?? 64 * options.k, options.rerank ?? 0));
    let found = 0;
    for (let level = 0; level < bits; level++) {
      found = this.gather(keys, margins, probes, level, from, to);
      if (found >= target) break;
      for (let i = 0; i < found; i++) this.seen[this.candidates[i]!] = 0;
    }
    const candidates = this.candidates.subarray(0, found);
    for (const o of candidates) this.seen[o] = 0;

    // Choose: all candidates, or the `rerank` with the highest approximate cosine (ties: lower ordinal).
    const qNorm = foldNorm(foldSquares(query));
    let chosen: Uint32Array = candidates;
    const limit = options.rerank ?? found;
    if (limit < found) {
      const approximate = this.approximate;
      this.scorer.setQuery(query, qNorm);
      this.scorer.scores(candidates, found, approximate);
      const edge = kthLargest(approximate.slice(0, found), limit);
      chosen = new Uint32Array(limit);
      let n = 0;
      const tied: number[] = [];
      for (let c = 0; c < found; c++) {
        if (approximate[c]! > edge) chosen[n++] = candidates[c]!;
        else if (approximate[c] === edge) tied.push(candidates[c]!);
      }
      tied.sort((a, b) => a - b);
      for (let i = 0; n < limit; i++) chosen[n++] = tied[i]!;
    }

    // Re-rank exactly, keeping the k best in a small sorted array.
    const k = options.k;
    const best: LshHit[] = [];
    for (const o of chosen) {
      const norm = this.norms[o]!;
      if (norm === 0) continue;
      const score = cosineAt(query, qNorm, this.vectors, o * dimension, norm);
      if (best.length === k) {
        const worst = best[k - 1]!;
        if (score < worst.score || (score === worst.score && o > worst.ordinal)) continue;
        best.pop();
      }
      let at = best.length;
      while (at > 0) {
        const b = best[at - 1]!;
        if (b.score > score || (b.score === score && b.ordinal < o)) break;
        at--;
      }
      best.splice(at, 0, { ordinal: o, score });
    }
    return best;
  }

  /** Collect the candidates of one query at one level into `candidates` (marked in `seen`); their count. */
  private gather(
    keys: Uint32Array,
    margins: Float32Array,
    probes: number,
    level: number,
    from: number,
    to: number,
  ): number {
    const { tables, bits } = this.params;
    const seen = this.seen;
    const order: number[] = [];
    let found = 0;
    for (let t = 0; t < tables; t++) {
      const table = this.tables[t]!;
      const key = keys[t]!;
      order.length = 0;
      for (let j = level; j < bits; j++) order.push(j);
      const m = margins.subarray(t * bits, t * bits + bits);
      order.sort((a, b) => m[a]! - m[b]! || a - b);
      const tries = Math.min(probes, bits - level + 1);
      for (let p = 0; p < tries; p++) {
        const probe = p === 0 ? key : (key ^ (1 << order[p - 1]!)) >>> 0;
        let start: number;
        let end: number;
        if (level === 0) {
          let slot = slotOf(probe, table.mask);
          while (table.slotEnds[slot] !== 0 && table.slotKeys[slot] !== probe) slot = (slot + 1) & table.mask;
          start = table.slotStarts[slot]!;
          end = table.slotEnds[slot]!;
        } else {
          const low = (probe >>> level) * 2 ** level;
          start = firstAtLeast(table.sortedKeys, low);
          end = firstAtLeast(table.sortedKeys, low + 2 ** level);
        }
        const ordinals = table.ordinals;
        for (let i = start; i < end; i++) {
          const o = ordinals[i]!;
          if (o < from || o >= to || seen[o] === 1) continue;
          seen[o] = 1;
          if (found === this.candidates.length) this.grow();
          this.candidates[found++] = o;
        }
      }
    }
    return found;
  }

  private grow(): void {
    const candidates = new Uint32Array(this.candidates.length * 2);
    candidates.set(this.candidates);
    this.candidates = candidates;
    const approximate = new Float64Array(candidates.length);
    approximate.set(this.approximate);
    this.approximate = approximate;
  }
}
