import { type Multihash, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { assertName } from '../model/names.js';
import { updateByCas } from '../store/cas-update.js';
import type { ByteRange, ObjectStore } from '../store/object-store.js';

/**
 * A space's `dreamdb.tombstones` registry (spec 0020 §4): one object at `spaces/<space>/tombstones`,
 * deterministic CBOR {v: 1, space, deletes: [manifest hex, sorted], erased: [erasure, by object]},
 * replaced by compare-and-swap. `deletes` lists every manifest whose publish deleted something, so
 * compaction finds the deletes without walking history (a listed manifest no ref reaches is ignored).
 * `erased` lists the objects erasure took the place of (§7): every reader of every version looks there.
 */

export const tombstonesKey = (space: string) => `spaces/${assertName(space, 'space')}/tombstones`;
const HEX = /^1e20[0-9a-f]{64}$/;

/**
 * An erased object (spec 0020 §7): its erased byte ranges and the object that takes its place (the same
 * bytes with those ranges zeroed, or a segment rebuilt without the erased items). No replacement and no
 * ranges: the whole object is gone (an item's part, a segment left empty).
 */
export interface Erasure {
  readonly object: Multihash;
  readonly replacement?: Multihash;
  readonly ranges: readonly ByteRange[];
}

/** The registry as stored now, and the ETag it came with (undefined: not written yet). */
export interface TombstoneRegistry {
  readonly deletes: ReadonlySet<string>;
  /** Erasures by object hex. */
  readonly erased: ReadonlyMap<string, Erasure>;
  readonly etag?: string;
}

function bad(space: string, what: string): never {
  throw new EngineError('E_FIELD', `${tombstonesKey(space)}: ${what}`);
}

function erasureFromCbor(value: unknown, space: string): Erasure {
  const e = value as Record<string, unknown>;
  if (e === null || typeof e !== 'object' || typeof e.object !== 'string' || !HEX.test(e.object))
    bad(space, 'an erasure needs its object (multihash hex)');
  if (e.replacement !== undefined && (typeof e.replacement !== 'string' || !HEX.test(e.replacement)))
    bad(space, `erasure of ${e.object}: replacement is not a multihash`);
  if (!Array.isArray(e.ranges)) bad(space, `erasure of ${e.object}: ranges missing`);
  const ranges = e.ranges.map((r) => {
    if (
      !Array.isArray(r) ||
      r.length !== 2 ||
      !r.every((n) => Number.isSafeInteger(n) && n >= 0) ||
      r[1] <= r[0]
    )
      bad(space, `erasure of ${e.object}: a range is [start, end) with start < end`);
    return { start: r[0] as number, end: r[1] as number };
  });
  return {
    object: multihashFromHex(e.object),
    ranges,
    ...(e.replacement !== undefined && { replacement: multihashFromHex(e.replacement as string) }),
  };
}

/** Decode the registry, refusing anything but its exact form. */
export function decodeRegistry(bytes: Uint8Array, space: string): Omit<TombstoneRegistry, 'etag'> {
  const value = decodeCanonical(bytes) as Record<string, unknown>;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== 1 ||
    value.space !== space ||
    !Array.isArray(value.deletes) ||
    !value.deletes.every((h) => typeof h === 'string' && HEX.test(h)) ||
    !Array.isArray(value.erased)
  )
    bad(space, 'not a tombstone registry {v: 1, space, deletes, erased}');
  const erased = new Map<string, Erasure>();
  for (const e of value.erased as unknown[]) {
    const erasure = erasureFromCbor(e, space);
    erased.set(multihashToHex(erasure.object), erasure);
  }
  return { deletes: new Set(value.deletes as string[]), erased };
}

/** The registry's bytes: deletes sorted, erasures sorted by object, each one's ranges sorted. */
export function encodeRegistry(
  space: string,
  deletes: Iterable<string>,
  erased: Iterable<Erasure> = [],
): Uint8Array {
  const list = [...erased]
    .map((e) => ({
      object: multihashToHex(e.object),
      ranges: [...e.ranges].sort((a, b) => a.start - b.start).map((r) => [r.start, r.end]),
      ...(e.replacement && { replacement: multihashToHex(e.replacement) }),
    }))
    .sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
  return encodeCanonical({ v: 1, space, deletes: [...new Set(deletes)].sort(), erased: list });
}

/** The registry of a space as stored now. */
export async function readRegistry(store: ObjectStore, space: string): Promise<TombstoneRegistry> {
  try {
    const { body, etag } = await store.get(tombstonesKey(space));
    return { ...decodeRegistry(body, space), etag };
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND')
      return { deletes: new Set(), erased: new Map() };
    throw error;
  }
}

/**
 * Change the registry by compare-and-swap, read again and retried when another writer moved it first:
 * `change` gets mutable copies of the deletes and the erasures (by object hex).
 */
export async function updateRegistry(
  store: ObjectStore,
  space: string,
  change: (deletes: Set<string>, erased: Map<string, Erasure>) => void,
): Promise<void> {
  await updateByCas(store, tombstonesKey(space), (body) => {
    const current = body ? decodeRegistry(body, space) : { deletes: new Set<string>(), erased: new Map() };
    const deletes = new Set(current.deletes);
    const erased = new Map(current.erased);
    change(deletes, erased);
    return encodeRegistry(space, deletes, erased.values());
  });
}
