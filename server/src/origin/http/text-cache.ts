/**
 * Generated text (playlists, MPDs) and its compressed forms, by ETag and path, least recently used out
 * first under a byte budget. A playlist is a function of the manifest and the URL, both named by its key,
 * so an entry never goes stale; a 24-hour playlist takes ~0.5 s to generate and ~0 to send again.
 */
export class TextCache {
  readonly #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(readonly capacity = 64 * 1024 * 1024) {}

  /** The bytes under `key`, marked most recently used. */
  get(key: string): Uint8Array | undefined {
    const bytes = this.#entries.get(key);
    if (bytes) {
      this.#entries.delete(key);
      this.#entries.set(key, bytes);
    }
    return bytes;
  }

  /** Keep `bytes` under `key` (nothing larger than a quarter of the budget: it would flush the rest). */
  set(key: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.capacity / 4 || this.#entries.has(key)) return;
    this.#entries.set(key, bytes);
    this.#bytes += bytes.byteLength;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.capacity) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.byteLength;
    }
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }
}

/** The key of a generated response: its ETag (manifest and request) and its path (which names the space). */
export const textKey = (etag: string, path: string, encoding = 'identity') => `${etag} ${path} ${encoding}`;

/** The text under (etag, path), or `make()`'s, kept for next time. */
export async function cachedText(
  texts: TextCache,
  etag: string,
  path: string,
  make: () => Promise<string> | string,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = textKey(etag, path);
  const hit = texts.get(key);
  if (hit) return hit as Uint8Array<ArrayBuffer>;
  const bytes = new TextEncoder().encode(await make());
  texts.set(key, bytes);
  return bytes;
}
