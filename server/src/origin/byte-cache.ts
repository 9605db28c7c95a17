import type { ObjectStore } from '@dreamdb/engine';

/** Counters of a ByteCache; live. */
export interface ByteCacheStats {
  /** Range requests served from bytes already in memory (fetched earlier or prefetched). */
  hits: number;
  /** Range requests that waited for the store. */
  misses: number;
  /** Read-ahead GETs started because a client was reading toward the end of a cached span. */
  prefetches: number;
  /** Hits on spans a prefetch brought in. */
  prefetchHits: number;
  /** Bytes held now. */
  bytes: number;
  /** Spans dropped to stay under the capacity. */
  evictions: number;
}

/** Options of a ByteCache. */
export interface ByteCacheOptions {
  /** Most bytes held (default 256 MiB). */
  readonly capacity?: number;
  /** Bytes fetched per span, from the first byte a client asks for (default 4 MiB). */
  readAhead?: number;
}

/** A cached run of bytes [start, end) of one object. */
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
 * bucket (0007 §6), so a player asking for fragment n will next ask for the bytes right after it: a miss
 * fetches `readAhead` bytes from where the client asked, and a client reading past the middle of a span
 * starts the fetch of the next span, so fragments n+1..n+k are in memory before they are asked for.
 * Spans are dropped least recently used first to stay under `capacity`. Content never changes, so
 * nothing is ever stale.
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
  readonly readAhead: number;
  /** Spans by object key, sorted by start; LRU order is kept in `#lru`. */
  readonly #spans = new Map<string, Span[]>();
  readonly #lru = new Map<Span, true>();
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
    const span = this.#find(key, start, end);
    if (span) {
      this.stats.hits++;
      if (span.prefetched) {
        span.prefetched = false;
        this.stats.prefetchHits++;
      }
      this.#touch(span);
      this.#maybePrefetch(key, span, end);
      return span.bytes.subarray(start - span.start, end - span.start);
    }
    this.stats.misses++;
    // A request larger than a span is passed through: caching it would push out many small hot spans.
    if (end - start > this.readAhead) return (await this.store.get(key, { start, end })).body;
    const size = this.#sizes.get(key) ?? Number.POSITIVE_INFINITY;
    const fetched = await this.#fetch(key, start, Math.min(size, start + this.readAhead), false);
    if (fetched.end < end) return (await this.store.get(key, { start, end })).body; // a span cut by another
    this.#maybePrefetch(key, fetched, end);
    return fetched.bytes.subarray(start - fetched.start, end - fetched.start);
  }

  /** Read ahead once the client is past the middle of a span and the bytes after it are not cached. */
  #maybePrefetch(key: string, span: Span, end: number): void {
    const size = this.#sizes.get(key);
    if (size === undefined || span.end >= size) return;
    if (end < span.start + (span.end - span.start) / 2) return;
    if (this.#find(key, span.end, span.end + 1) || this.#inflight.has(`${key}@${span.end}`)) return;
    this.stats.prefetches++;
    this.#fetch(key, span.end, Math.min(size, span.end + this.readAhead), true).catch(() => {
      // A failed prefetch costs nothing: the client's own request will fetch and report the error.
    });
  }

  /** One GET of [start, end), shared by concurrent askers, then kept. */
  #fetch(key: string, start: number, end: number, prefetched: boolean): Promise<Span> {
    const id = `${key}@${start}`;
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    const promise = (async () => {
      try {
        const result = await this.store.get(
          key,
          Number.isFinite(end) ? { start, end } : { start, end: start + this.readAhead },
        );
        if (!this.#sizes.has(key)) this.#sizes.set(key, result.size);
        const span: Span = {
          key,
          start,
          end: start + result.body.byteLength,
          bytes: result.body,
          prefetched,
        };
        this.#insert(span);
        return span;
      } finally {
        this.#inflight.delete(id);
      }
    })();
    this.#inflight.set(id, promise);
    return promise;
  }

  #find(key: string, start: number, end: number): Span | undefined {
    const spans = this.#spans.get(key);
    if (!spans) return undefined;
    for (const span of spans) if (span.start <= start && end <= span.end) return span;
    return undefined;
  }

  #touch(span: Span): void {
    this.#lru.delete(span);
    this.#lru.set(span, true);
  }

  #insert(span: Span): void {
    const spans = this.#spans.get(span.key) ?? [];
    spans.push(span);
    spans.sort((a, b) => a.start - b.start);
    this.#spans.set(span.key, spans);
    this.#lru.set(span, true);
    this.stats.bytes += span.bytes.byteLength;
    while (this.stats.bytes > this.capacity && this.#lru.size > 1) {
      const oldest = this.#lru.keys().next().value as Span;
      this.#remove(oldest);
      this.stats.evictions++;
    }
  }

  #remove(span: Span): void {
    this.#lru.delete(span);
    const spans = this.#spans.get(span.key)!;
    spans.splice(spans.indexOf(span), 1);
    if (spans.length === 0) this.#spans.delete(span.key);
    this.stats.bytes -= span.bytes.byteLength;
  }
}
