import type { Tick } from '../time/ticks.js';

/** Small items are copied into arena chunks that double from 64 KiB up to 4 MiB; bigger ones keep their own array. */
const FIRST_CHUNK = 64 * 1024;
const ARENA_CHUNK = 4 * 1024 * 1024;
const OWN_ARRAY = 64 * 1024;

/**
 * The staged items of one track, column by column (ticks, durations, byte locations in an arena) rather
 * than an object per item: ten million staged items are a few typed arrays, not ten million objects for
 * the garbage collector to trace. Items are appended in any order; `inOrder` gives them sorted by tick,
 * one per tick.
 */
export class StagedColumns {
  count = 0;
  /** Bytes of the items held. */
  bytesHeld = 0;
  ticks = new BigUint64Array(1024);
  /** Allocated on the first item with a duration. */
  durations: BigUint64Array | undefined;
  /** Constant tracks: each item's correction layer. */
  layers: (string | undefined)[] | undefined;
  /** Per index scheme: what its kind's `stage` made of each item (position i: item i). */
  private readonly stagingColumns = new Map<string, unknown[]>();
  private chunkOf = new Uint32Array(1024);
  private offsetOf = new Uint32Array(1024);
  private lengthOf = new Uint32Array(1024);
  private readonly chunks: Uint8Array[];
  /** The items in tick order, kept until the next push or rollback (when ticks came out of order). */
  private sorted: StagedColumns | undefined;
  /** Ticks strictly increase in append order (the cheap, common case). */
  private ascending = true;

  constructor(chunks: Uint8Array[] = [new Uint8Array(FIRST_CHUNK)]) {
    this.chunks = chunks;
  }

  /** The arena chunk small items go into, and how much of it is used. */
  private current = 0;
  private fill = 0;

  /** The bytes of item i (a view into the arena). */
  bytes(i: number): Uint8Array {
    const offset = this.offsetOf[i]!;
    return this.chunks[this.chunkOf[i]!]!.subarray(offset, offset + this.lengthOf[i]!);
  }

  /** The staging column of an index scheme (created empty on first use): position i belongs to item i. */
  staging(scheme: string): unknown[] {
    let column = this.stagingColumns.get(scheme);
    if (!column) {
      column = [];
      this.stagingColumns.set(scheme, column);
    }
    return column;
  }

  /** The staging column of a scheme, if any item was staged for it. */
  stagingOf(scheme: string): readonly unknown[] | undefined {
    return this.stagingColumns.get(scheme);
  }

  /** A point to roll back to: a write refused halfway leaves the staged items as they were. */
  mark(): {
    count: number;
    bytesHeld: number;
    chunks: number;
    current: number;
    fill: number;
    ascending: boolean;
  } {
    const { count, bytesHeld, current, fill, ascending } = this;
    return { count, bytesHeld, chunks: this.chunks.length, current, fill, ascending };
  }

  /** Forget everything pushed since `mark`. */
  rollback(mark: ReturnType<StagedColumns['mark']>): void {
    this.count = mark.count;
    this.sorted = undefined;
    this.bytesHeld = mark.bytesHeld;
    this.chunks.length = mark.chunks;
    this.current = mark.current;
    this.fill = mark.fill;
    this.ascending = mark.ascending;
    if (this.layers) this.layers.length = Math.min(this.layers.length, mark.count);
  }

  /** Each item's byte length (a view: valid until the next push). */
  get lengths(): Uint32Array {
    return this.lengthOf.subarray(0, this.count);
  }

  duration(i: number): Tick {
    return this.durations ? this.durations[i]! : 0n;
  }

  /**
   * Append an item. Small bytes are copied into the arena; large ones are kept by reference (the
   * caller's fragment), unless `transient` says the array will be reused (an encoder's view): then
   * they are copied too.
   */
  push(tick: Tick, duration: Tick, bytes: Uint8Array, layer?: string, transient = false): void {
    const i = this.count;
    this.sorted = undefined;
    if (i === this.ticks.length) this.grow();
    if (i > 0 && tick <= this.ticks[i - 1]!) this.ascending = false;
    this.ticks[i] = tick;
    // Once a column exists every push writes it (a rolled-back item may have left a value there).
    if (this.durations) this.durations[i] = duration;
    else if (duration !== 0n) {
      this.durations = new BigUint64Array(this.ticks.length);
      this.durations[i] = duration;
    }
    if (this.layers) this.layers[i] = layer;
    else if (layer !== undefined) {
      this.layers = [];
      this.layers[i] = layer;
    }
    this.place(i, transient && bytes.length >= OWN_ARRAY ? bytes.slice() : bytes);
    this.bytesHeld += bytes.length;
    this.count = i + 1;
  }

  /** Append item i of another staged set (small bytes copied into this arena; its layer and staging kept). */
  pushItemOf(source: StagedColumns, i: number): void {
    this.push(source.ticks[i]!, source.duration(i), source.bytes(i), source.layers?.[i]);
    for (const [scheme, column] of source.stagingColumns) this.staging(scheme)[this.count - 1] = column[i];
  }

  private place(i: number, bytes: Uint8Array): void {
    const n = bytes.length;
    this.lengthOf[i] = n;
    if (n >= OWN_ARRAY) {
      this.chunks.push(bytes);
      this.chunkOf[i] = this.chunks.length - 1;
      this.offsetOf[i] = 0;
      return;
    }
    if (this.fill + n > this.chunks[this.current]!.length) {
      this.chunks.push(new Uint8Array(Math.min(ARENA_CHUNK, this.chunks[this.current]!.length * 2)));
      this.current = this.chunks.length - 1;
      this.fill = 0;
    }
    this.chunks[this.current]!.set(bytes, this.fill);
    this.chunkOf[i] = this.current;
    this.offsetOf[i] = this.fill;
    this.fill += n;
  }

  private grow(): void {
    const size = this.ticks.length * 2;
    const widen = <T extends BigUint64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a as never);
      return b;
    };
    this.ticks = widen(this.ticks, (n) => new BigUint64Array(n));
    if (this.durations) this.durations = widen(this.durations, (n) => new BigUint64Array(n));
    this.chunkOf = widen(this.chunkOf, (n) => new Uint32Array(n));
    this.offsetOf = widen(this.offsetOf, (n) => new Uint32Array(n));
    this.lengthOf = widen(this.lengthOf, (n) => new Uint32Array(n));
  }

  /**
   * The payload of items [from, to) as few arrays as possible: neighbours that sit back to back in the
   * arena come out as one view, so a bucket is assembled with a handful of copies.
   */
  pieces(from: number, to: number, replace?: ReadonlyMap<number, Uint8Array>): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = from;
    while (i < to) {
      const instead = replace?.get(i);
      if (instead) {
        // An item stored as parts: its ItemManifest takes its place.
        out.push(instead);
        i++;
        continue;
      }
      const chunk = this.chunkOf[i]!;
      const start = this.offsetOf[i]!;
      let end = start + this.lengthOf[i]!;
      let j = i + 1;
      while (j < to && !replace?.has(j) && this.chunkOf[j] === chunk && this.offsetOf[j] === end)
        end += this.lengthOf[j++]!;
      out.push(this.chunks[chunk]!.subarray(start, end));
      i = j;
    }
    return out;
  }

  /**
   * The items sorted by tick, one per tick: for a tick written more than once, the last write wins, except
   * on constant tracks where the lexicographically greatest layer wins (0008 §6.3).
   */
  inOrder(): StagedColumns {
    if (this.ascending) return this;
    if (this.sorted) return this.sorted;
    const order = Array.from({ length: this.count }, (_, i) => i);
    const ticks = this.ticks;
    order.sort((a, b) => (ticks[a]! < ticks[b]! ? -1 : ticks[a]! > ticks[b]! ? 1 : a - b));
    // The copy reads this arena's chunks; anything pushed to it later goes to a chunk of its own.
    const out = new StagedColumns([...this.chunks, new Uint8Array(FIRST_CHUNK)]);
    out.current = out.chunks.length - 1;
    for (let k = 0; k < order.length; k++) {
      let i = order[k]!;
      while (k + 1 < order.length && ticks[order[k + 1]!] === ticks[i]) {
        const next = order[++k]!;
        const layers = this.layers;
        if (!layers || (layers[next] ?? '') >= (layers[i] ?? '')) i = next;
      }
      out.copyFrom(this, i);
    }
    this.sorted = out;
    return out;
  }

  private copyFrom(source: StagedColumns, i: number): void {
    const k = this.count;
    if (k === this.ticks.length) this.grow();
    this.ticks[k] = source.ticks[i]!;
    if (source.durations) {
      this.durations ??= new BigUint64Array(this.ticks.length);
      this.durations[k] = source.durations[i]!;
    }
    if (source.layers) {
      this.layers ??= [];
      this.layers[k] = source.layers[i];
    }
    this.chunkOf[k] = source.chunkOf[i]!;
    this.offsetOf[k] = source.offsetOf[i]!;
    this.lengthOf[k] = source.lengthOf[i]!;
    for (const [scheme, column] of source.stagingColumns) this.staging(scheme)[k] = column[i];
    this.bytesHeld += source.lengthOf[i]!;
    this.count = k + 1;
  }
}
