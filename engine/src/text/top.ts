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
