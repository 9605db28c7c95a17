/**
 * A per-session read cache for immutable objects, bounded by bytes, least recently used out first.
 * Content never changes under its hash, so a cached object never goes stale.
 */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

export class ObjectCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;
  readonly stats: Omit<CacheStats, 'bytes' | 'entries'> = { hits: 0, misses: 0, evictions: 0 };

  /** @param maxBytes the most bytes held; an object larger than this is never cached. */
  constructor(readonly maxBytes: number = 64 << 20) {}

  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.entries.delete(key); // re-insert: Map order is recency order
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: Uint8Array): void {
    if (value.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
      this.stats.evictions++;
    }
  }

  /** Whether `key` is cached, without counting a hit or a miss. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Drop one entry (e.g. when the bytes under a key were replaced). */
  /** Drop a key and every key that starts with it and `#` (the ranges cached of that object). */
  deleteObject(key: string): void {
    this.delete(key);
    for (const k of [...this.entries.keys()]) if (k.startsWith(`${key}#`)) this.delete(k);
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.bytes -= old.length;
  }

  /** Counters and current size. */
  snapshot(): CacheStats {
    return { ...this.stats, bytes: this.bytes, entries: this.entries.size };
  }
}
