/**
 * A max-heap of candidate indices in the order (score descending, index ascending), built in linear
 * time and popped lazily: a search with a filter pops until it has k documents the filter keeps.
 * Indices follow ordinals, and ordinals follow (track, tick), so this is the hit order within a segment.
 */
export class CandidateHeap {
  private readonly heap: Uint32Array;
  size: number;

  constructor(private readonly scores: readonly number[]) {
    this.size = scores.length;
    this.heap = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) this.heap[i] = i;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private before(a: number, b: number): boolean {
    const sa = this.scores[a]!;
    const sb = this.scores[b]!;
    return sa > sb || (sa === sb && a < b);
  }

  private down(i: number): void {
    const { heap, size } = this;
    const item = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(heap[child + 1]!, heap[child]!)) child++;
      if (!this.before(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }

  /** Remove and return the best candidate's index (size must be > 0). */
  pop(): number {
    const top = this.heap[0]!;
    this.size--;
    if (this.size > 0) {
      this.heap[0] = this.heap[this.size]!;
      this.down(0);
    }
    return top;
  }
}

/**
 * The k best (score, ordinal) pairs of one segment so far, in the hit order (score descending, then
 * ordinal ascending): a min-heap whose root is the worst kept pair.
 */
export class SegmentTop {
  private readonly scores: Float64Array;
  private readonly ords: Float64Array;
  size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.ords = new Float64Array(k);
  }

  /** True when pair a comes after pair b in the hit order. */
  private worse(a: number, b: number): boolean {
    const sa = this.scores[a]!;
    const sb = this.scores[b]!;
    return sa < sb || (sa === sb && this.ords[a]! > this.ords[b]!);
  }

  private swap(a: number, b: number): void {
    const { scores, ords } = this;
    const s = scores[a]!;
    scores[a] = scores[b]!;
    scores[b] = s;
    const o = ords[a]!;
    ords[a] = ords[b]!;
    ords[b] = o;
  }

  /** True when (score, ord) would be kept: the heap has room or the pair beats its worst. */
  takes(score: number, ord: number): boolean {
    if (this.size < this.k) return true;
    const worst = this.scores[0]!;
    return score > worst || (score === worst && ord < this.ords[0]!);
  }

  /** Keep (score, ord), dropping the worst pair when full (call after `takes`). */
  add(score: number, ord: number): void {
    let i: number;
    if (this.size < this.k) {
      i = this.size++;
      this.scores[i] = score;
      this.ords[i] = ord;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    this.scores[0] = score;
    this.ords[0] = ord;
    i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.worse(child + 1, child)) child++;
      if (!this.worse(child, i)) break;
      this.swap(i, child);
      i = child;
    }
  }

  /** The kept pairs in the hit order. */
  sorted(): { score: number; ord: number }[] {
    const out = Array.from({ length: this.size }, (_, i) => ({ score: this.scores[i]!, ord: this.ords[i]! }));
    return out.sort((a, b) => b.score - a.score || a.ord - b.ord);
  }
}

/**
 * The k highest scores kept so far over every segment of a search: once it holds k, a document whose
 * score is below the lowest of them (`floor`) is behind k others and cannot be a hit.
 */
export class ScoreFloor {
  private readonly heap: Float64Array;
  private size = 0;
  /** The lowest of the k highest scores; -Infinity until k are kept. */
  floor = Number.NEGATIVE_INFINITY;

  constructor(private readonly k: number) {
    this.heap = new Float64Array(k);
  }

  /** Count a kept document's score. */
  add(score: number): void {
    const heap = this.heap;
    if (this.size < this.k) {
      let i = this.size++;
      heap[i] = score;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! <= score) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = score;
    } else if (score > heap[0]!) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= this.size) break;
        if (child + 1 < this.size && heap[child + 1]! < heap[child]!) child++;
        if (heap[child]! >= score) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = score;
    }
    if (this.size === this.k) this.floor = heap[0]!;
  }
}
