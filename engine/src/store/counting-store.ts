import { joinParts } from '../bytes.js';
import type { ByteRange, ListOptions, ObjectStore, PutOptions } from './object-store.js';

/** Request counts per operation, e.g. to prove no LIST happens on a hot path (Manifest Supremacy). */
export interface StoreCounts {
  get: number;
  head: number;
  put: number;
  delete: number;
  list: number;
}

/** Wraps a store and counts the requests made through it. */
export class CountingStore implements ObjectStore {
  readonly counts: StoreCounts = { get: 0, head: 0, put: 0, delete: 0, list: 0 };

  constructor(private readonly inner: ObjectStore) {}

  get name(): string {
    return this.inner.name;
  }

  get(key: string, range?: ByteRange) {
    this.counts.get++;
    return this.inner.get(key, range);
  }

  head(key: string) {
    this.counts.head++;
    return this.inner.head(key);
  }

  put(key: string, body: Uint8Array, options?: PutOptions) {
    this.counts.put++;
    return this.inner.put(key, body, options);
  }

  putParts(key: string, parts: readonly Uint8Array[], options?: PutOptions) {
    this.counts.put++;
    return this.inner.putParts
      ? this.inner.putParts(key, parts, options)
      : this.inner.put(key, joinParts(parts), options);
  }

  delete(key: string) {
    this.counts.delete++;
    return this.inner.delete(key);
  }

  list(prefix: string, options?: ListOptions) {
    this.counts.list++;
    return this.inner.list(prefix, options);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** Zero every counter. */
  reset(): void {
    for (const k of Object.keys(this.counts) as (keyof StoreCounts)[]) this.counts[k] = 0;
  }
}
