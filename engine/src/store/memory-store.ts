import { hashBytes } from '../address/multihash.js';
import { toHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { etagEquals } from './etag.js';
import type {
  ByteRange,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './object-store.js';
import { clipRange } from './range.js';

/** An in-memory object store with the contract's semantics. For unit tests only; it keeps nothing. */
export class MemoryStore implements ObjectStore {
  readonly name = 'memory';
  private readonly objects = new Map<string, { body: Uint8Array; etag: string; modified: Date }>();

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const found = this.find(key);
    if (!range) return { body: found.body, etag: found.etag, size: found.body.length };
    const r = clipRange(range, found.body.length, key);
    return { body: found.body.subarray(r.start, r.end), etag: found.etag, size: found.body.length };
  }

  async head(key: string): Promise<ObjectInfo> {
    const found = this.find(key);
    return { key, size: found.body.length, etag: found.etag, modified: found.modified };
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const existing = this.objects.get(key);
    if (options.ifNoneMatch === '*' && existing) {
      throw new EngineError('E_PRECONDITION', `${key} already exists (If-None-Match: *)`);
    }
    if (options.ifMatch !== undefined && !etagEquals(existing?.etag, options.ifMatch)) {
      throw new EngineError('E_PRECONDITION', `${key} is not at ETag ${options.ifMatch} (If-Match)`);
    }
    const etag = toHex(hashBytes(body).subarray(2));
    // Kept as given, as get hands out the stored array: callers own neither after the call.
    this.objects.set(key, { body, etag, modified: new Date() });
    return { etag };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    const max = options.maxKeys ?? 1000;
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (options.token === undefined || k > options.token))
      .sort();
    const page = keys.slice(0, max);
    const objects = page.map((key) => {
      const found = this.objects.get(key)!;
      return { key, size: found.body.length, etag: found.etag, modified: found.modified };
    });
    return keys.length > max ? { objects, nextToken: page[page.length - 1]! } : { objects };
  }

  private find(key: string) {
    const found = this.objects.get(key);
    if (!found) throw new EngineError('E_NOT_FOUND', `${key} does not exist in ${this.name}`);
    return found;
  }
}
