import {
  hashBytes,
  hashParts,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  verifyBytes,
} from '../address/multihash.js';
import { joinParts } from '../bytes.js';
import { type Erasure, readRegistry } from '../deletes/registry.js';
import { EngineError } from '../errors.js';
import { assertName } from '../model/names.js';
import { normalizeRef, objectKey, refKey } from './keys.js';
import { ObjectCache } from './object-cache.js';
import type { ByteRange, ObjectStore } from './object-store.js';

/** A ref's current value and the ETag to compare-and-swap against. */
export interface RefState {
  readonly manifest: Multihash;
  readonly etag: string;
}

/** A lost compare-and-swap: the ref moved (or appeared) since it was read. Carries the winning value. */
export class RefConflictError extends EngineError {
  constructor(
    readonly ref: string,
    readonly current: RefState | undefined,
    creating = false,
  ) {
    super(
      'E_CONFLICT',
      creating && current
        ? `ref ${ref} exists already (it points at ${multihashToHex(current.manifest)})`
        : `ref ${ref} moved: it now points at ${current ? multihashToHex(current.manifest) : 'nothing'}; read it again and retry`,
    );
  }
}

/** Refs under tags/ are immutable (spec 0008 §2): created once (If-None-Match: *), never moved or deleted. */
export const isTag = (ref: string): boolean => ref.startsWith('tags/');

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of a ref: the manifest's multihash in hex and a newline. */
export function encodeRef(manifest: Multihash): Uint8Array {
  return encoder.encode(`${multihashToHex(manifest)}\n`);
}

/** Parse ref bytes; anything else is refused as corrupt. */
export function decodeRef(bytes: Uint8Array, ref: string): Multihash {
  const text = decoder.decode(bytes);
  try {
    if (!text.endsWith('\n')) throw new Error('no newline');
    return multihashFromHex(text.slice(0, -1));
  } catch {
    throw new EngineError(
      'E_HASH_MISMATCH',
      `ref ${ref} holds ${JSON.stringify(text.slice(0, 80))}, not a multihash`,
    );
  }
}

/** How old the erasures a reader goes by may be, when no 404 made it read them again (spec 0020 §7). */
export const ERASURE_STALENESS_MS = 10_000;

/** Whether a range overlaps any of some ranges. */
export const overlaps = (ranges: readonly ByteRange[], range: ByteRange): boolean =>
  ranges.some((r) => r.start < range.end && range.start < r.end);

/** Whether an item's bytes at `entry` are erased, as `erased` (a space's erasures) says (spec 0020 §7). */
export function erasedEntry(
  erased: ReadonlyMap<string, Erasure>,
  entry: { readonly object: Multihash; readonly start: number; readonly end: number },
): boolean {
  if (erased.size === 0) return false;
  const e = erased.get(multihashToHex(entry.object));
  return e !== undefined && (!e.replacement || overlaps(e.ranges, entry));
}

const erasedError = (key: string, what: string) =>
  new EngineError('E_ERASED', `${key}: ${what} erased (spec 0020 §7); the other items are read as before`);

/**
 * One space's objects and refs on an object store: content goes in by hash (create-only, idempotent) and
 * comes out verified; refs move only by compare-and-swap. Immutable objects are cached per session.
 */
export class SpaceStore {
  readonly cache: ObjectCache;
  private erased?: { map: ReadonlyMap<string, Erasure>; at: number };

  constructor(
    readonly store: ObjectStore,
    readonly space: string,
    cache?: ObjectCache,
  ) {
    assertName(space, 'space');
    this.cache = cache ?? new ObjectCache();
  }

  /** Store bytes under their multihash. Writing bytes that are already there is a success. */
  async putObject(bytes: Uint8Array | readonly Uint8Array[], known?: Multihash): Promise<Multihash> {
    // `known`: the hash the caller just computed from these very bytes (publish hashes each object once).
    // Parts (a bucket of fragments) are hashed and written in order, never joined in memory.
    const multihash = known ?? (bytes instanceof Uint8Array ? hashBytes(bytes) : await hashParts(bytes));
    const key = objectKey(this.space, multihash);
    try {
      const options = { ifNoneMatch: '*', multihash: multihashToHex(multihash) } as const;
      if (bytes instanceof Uint8Array) await this.store.put(key, bytes, options);
      else if (this.store.putParts) await this.store.putParts(key, bytes, options);
      else await this.store.put(key, joinParts(bytes), options);
    } catch (error) {
      // S3 answers 412 when the key exists; under a content address that means the same bytes.
      if (!(error instanceof EngineError && error.code === 'E_PRECONDITION')) throw error;
    }
    return multihash;
  }

  /**
   * The whole object, verified against its hash (a corrupt object is E_HASH_MISMATCH, never returned).
   * An erased object (spec 0020 §7) is read as its replacement, or is E_ERASED when it has none.
   */
  async getObject(multihash: Multihash): Promise<Uint8Array> {
    const key = objectKey(this.space, multihash);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let body: Uint8Array;
    try {
      ({ body } = await this.store.get(key));
    } catch (error) {
      const erased = await this.erasureAfter(error, key);
      if (!erased.replacement) throw erasedError(key, 'the whole object');
      return this.getObject(erased.replacement);
    }
    verifyBytes(body, multihash, key);
    this.cache.set(key, body);
    return body;
  }

  /**
   * Bytes [start, end) of an object; served from the cache when the whole object, or this very range,
   * is there (content never changes, so neither goes stale).
   */
  async getRange(multihash: Multihash, range: ByteRange): Promise<Uint8Array> {
    const key = objectKey(this.space, multihash);
    const whole = this.cache.get(key);
    if (whole) return whole.subarray(range.start, range.end);
    const rangeKey = `${key}#${range.start}-${range.end}`;
    const hit = this.cache.get(rangeKey);
    if (hit) return hit;
    let body: Uint8Array;
    try {
      ({ body } = await this.store.get(key, range));
    } catch (error) {
      const erased = await this.erasureAfter(error, key);
      if (!erased.replacement || overlaps(erased.ranges, range))
        throw erasedError(key, `bytes ${range.start}-${range.end}`);
      // The replacement keeps every byte that was not erased where it was.
      return this.getRange(erased.replacement, range);
    }
    this.cache.set(rangeKey, body);
    return body;
  }

  /**
   * The space's erasures (spec 0020 §7), read from its registry at most `maxAgeMs` ago. Erasure deletes
   * each erased object once its replacement is listed, so object reads need them only after a 404.
   */
  async erasures(maxAgeMs = ERASURE_STALENESS_MS): Promise<ReadonlyMap<string, Erasure>> {
    const known = this.erased;
    if (known && Date.now() - known.at <= maxAgeMs) return known.map;
    const map = (await readRegistry(this.store, this.space)).erased;
    this.erased = { map, at: Date.now() };
    return map;
  }

  /** Forget what this store knows of objects just erased here: their cached bytes, and the erasures read. */
  forgetErased(objects: readonly Multihash[]): void {
    for (const object of objects) this.cache.deleteObject(objectKey(this.space, object));
    this.erased = undefined;
  }

  /** The erasure of an object, as the registry says now (undefined: not erased). */
  async erasureOf(multihash: Multihash, maxAgeMs = ERASURE_STALENESS_MS): Promise<Erasure | undefined> {
    const map = await this.erasures(maxAgeMs);
    return map.size === 0 ? undefined : map.get(multihashToHex(multihash));
  }

  /** After a failed read of `key`: its erasure when a 404 was erasure's doing, else the error again. */
  private async erasureAfter(error: unknown, key: string): Promise<Erasure> {
    if (!(error instanceof EngineError && error.code === 'E_NOT_FOUND')) throw error;
    const map = await this.erasures(0);
    const erased = map.size === 0 ? undefined : map.get(key.slice(key.lastIndexOf('/') + 1));
    if (!erased) throw error;
    return erased;
  }

  /** The ref's value, or undefined when it does not exist. */
  async readRef(name: string): Promise<RefState | undefined> {
    const ref = normalizeRef(name);
    const key = refKey(this.space, ref);
    try {
      const { body, etag } = await this.store.get(key);
      return { manifest: decodeRef(body, ref), etag };
    } catch (error) {
      if (error instanceof EngineError && error.code === 'E_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * Point `ref` at `manifest` if it is still at `expected` (undefined: only if it does not exist yet).
   * A lost race throws RefConflictError with the winner; nothing is overwritten.
   */
  async casRef(name: string, manifest: Multihash, expected: RefState | undefined): Promise<RefState> {
    const ref = normalizeRef(name);
    const key = refKey(this.space, ref);
    if (expected && isTag(ref)) {
      throw new EngineError('E_FORBIDDEN', `ref ${ref} is a tag: tags are created once and never move`);
    }
    try {
      const { etag } = await this.store.put(
        key,
        encodeRef(manifest),
        expected ? { ifMatch: expected.etag } : { ifNoneMatch: '*' },
      );
      return { manifest, etag };
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'E_PRECONDITION')) throw error;
      throw new RefConflictError(ref, await this.readRef(ref), expected === undefined);
    }
  }

  /**
   * Delete a ref if it still points at `expected` (read just before: S3 has no conditional DELETE, so a
   * move in between is detected, not prevented). Tags are refused.
   */
  async deleteRef(name: string, expected: Multihash): Promise<void> {
    const ref = normalizeRef(name);
    if (isTag(ref)) throw new EngineError('E_FORBIDDEN', `ref ${ref} is a tag: tags are never deleted`);
    const current = await this.readRef(ref);
    if (!current) throw new EngineError('E_NOT_FOUND', `space ${this.space} has no ref ${ref}`);
    if (multihashToHex(current.manifest) !== multihashToHex(expected))
      throw new RefConflictError(ref, current);
    await this.store.delete(refKey(this.space, ref));
  }
}
