import type { ObjectStore } from '@dreamdb/engine/store';

/** Counters of a ByteCache; live. */
export interface ByteCacheStats {
  /** Range requests served from bytes already in memory (fetched earlier or prefetched). */
  hits: number;
  /** Range requests that waited for the store. */
  misses: number;
  /** Read-ahead GETs started because a client was reading toward the end of a cached block. */
  prefetches: number;
  /** Hits on blocks a prefetch brought in. */
  prefetchHits: number;
  /** Bytes held now. */
  bytes: number;
  /** Blocks dropped to stay under the capacity. */
  evictions: number;
}

/** Options of a ByteCache. */
export interface ByteCacheOptions {
  /** Most bytes held (default 256 MiB). */
  readonly capacity?: number;
  /** The block size: bytes fetched per miss or prefetch, at multiples of it (default 4 MiB). */
  readAhead?: number;
}

/** A cached block of one object: bytes [start, end), `start` a multiple of the block size. */
interface Span {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly bytes: Uint8Array;
  /** Brought in by a prefetch and not yet read. */
  prefetched: boolean;
}

const MiB = 1024 * 1024;

/**
 * Bytes of immutable objects by range, with read-ahead. A track's fragments lie back to back in its
 * bucket (0007 §6), so a player asking for fragment n will next ask for the bytes right after it. The
 * cache holds objects in aligned blocks of `readAhead` bytes: a miss fetches the whole block around the
 * bytes asked for, and a client reading past the middle of a block starts the fetch of the next one, so
 * fragments n+1..n+k are in memory before they are asked for. Blocks sit at fixed places, so clients
 * reading the same object from different places share them (no two cached copies of the same bytes);
 * a range across a block boundary is joined from the two blocks. Blocks are dropped least recently used
 * first to stay under `capacity`. Content never changes, so nothing is ever stale.
 */
export class ByteCache {
  readonly stats: ByteCacheStats = {
    hits: 0,
    misses: 0,
    prefetches: 0,
    prefetchHits: 0,
    bytes: 0,
    evictions: 0,
  };
  readonly capacity: number;
  /** The block size: bytes fetched per miss or prefetch. */
  readonly readAhead: number;
  /** Blocks by `${key}@${start}`, in recency order (least recently used first). */
  readonly #spans = new Map<string, Span>();
  readonly #inflight = new Map<string, Promise<Span>>();
  readonly #sizes = new Map<string, number>();

  constructor(
    readonly store: ObjectStore,
    options: ByteCacheOptions = {},
  ) {
    this.capacity = options.capacity ?? 256 * MiB;
    this.readAhead = Math.max(64 * 1024, Math.min(options.readAhead ?? 4 * MiB, this.capacity / 4));
  }

  /** The size of an object (HEAD once; content-addressed objects never change size). */
  async size(key: string): Promise<number> {
    const known = this.#sizes.get(key);
    if (known !== undefined) return known;
    const { size } = await this.store.head(key);
    if (this.#sizes.size >= 65_536) this.#sizes.delete(this.#sizes.keys().next().value as string);
    this.#sizes.set(key, size);
    return size;
  }

  /** Bytes [start, end) of the object at `key` (end <= its size). */
  async get(key: string, start: number, end: number): Promise<Uint8Array> {
    // A request larger than a block is passed through: caching it would push out many small hot blocks.
    if (end - start > this.readAhead) {
      this.stats.misses++;
      return (await this.store.get(key, { start, end })).body;
    }
    const first = start - (start % this.readAhead);
    const last = end - 1 - ((end - 1) % this.readAhead);
    const cachedFirst = this.#take(key, first);
    const cachedLast = last === first ? cachedFirst : this.#take(key, last);
    if (cachedFirst && cachedLast) this.stats.hits++;
    else this.stats.misses++;
    const [a, b] = await Promise.all([
      cachedFirst ?? this.#fetch(key, first, false),
      last === first ? undefined : (cachedLast ?? this.#fetch(key, last, false)),
    ]);
    const tail = b ?? a;
    this.#maybePrefetch(key, tail, end);
    if (!b) {
      if (a.end < end) return (await this.store.get(key, { start, end })).body; // a short read
      return a.bytes.subarray(start - a.start, end - a.start);
    }
    if (a.end !== b.start || b.end < end) return (await this.store.get(key, { start, end })).body;
    // Across a block boundary: one copy, of the bytes asked for only, into memory that is not zeroed
    // first (a fresh zeroed Uint8Array of a fragment's size costs ~10x the copy: page faults).
    const raw = Buffer.allocUnsafe(end - start);
    const joined = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    joined.set(a.bytes.subarray(start - a.start));
    joined.set(b.bytes.subarray(0, end - b.start), a.end - start);
    return joined;
  }

  /** The cached block at `start`, marked most recently used; undefined when it is not cached. */
  #take(key: string, start: number): Span | undefined {
    const id = `${key}@${start}`;
    const span = this.#spans.get(id);
    if (!span) return undefined;
    this.#spans.delete(id);
    this.#spans.set(id, span);
    if (span.prefetched) {
      span.prefetched = false;
      this.stats.prefetchHits++;
    }
    return span;
  }

  /** Read ahead once the client is past the middle of a block and the next block is not cached. */
  #maybePrefetch(key: string, span: Span, end: number): void {
    const size = this.#sizes.get(key);
    if (size === undefined || span.end >= size || span.end - span.start < this.readAhead) return;
    if (end < span.start + this.readAhead / 2) return;
    const id = `${key}@${span.end}`;
    if (this.#spans.has(id) || this.#inflight.has(id)) return;
    this.stats.prefetches++;
    this.#fetch(key, span.end, true).catch(() => {
      // A failed prefetch costs nothing: the client's own request will fetch and report the error.
    });
  }

  /** One GET of the block at `start`, shared by concurrent askers, then kept. */
  #fetch(key: string, start: number, prefetched: boolean): Promise<Span> {
    const id = `${key}@${start}`;
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    const size = this.#sizes.get(key) ?? Number.POSITIVE_INFINITY;
    const promise = (async () => {
      try {
        const result = await this.store.get(key, { start, end: Math.min(size, start + this.readAhead) });
        if (!this.#sizes.has(key)) this.#sizes.set(key, result.size);
        const span: Span = {
          key,
          start,
          end: start + result.body.byteLength,
          bytes: result.body,
          prefetched,
        };
        this.#insert(id, span);
        return span;
      } finally {
        this.#inflight.delete(id);
      }
    })();
    this.#inflight.set(id, promise);
    return promise;
  }

  #insert(id: string, span: Span): void {
    const old = this.#spans.get(id);
    if (old) {
      this.#spans.delete(id);
      this.stats.bytes -= old.bytes.byteLength;
    }
    this.#spans.set(id, span);
    this.stats.bytes += span.bytes.byteLength;
    while (this.stats.bytes > this.capacity && this.#spans.size > 1) {
      const [oldest, dropped] = this.#spans.entries().next().value as [string, Span];
      this.#spans.delete(oldest);
      this.stats.bytes -= dropped.bytes.byteLength;
      this.stats.evictions++;
    }
  }
}
