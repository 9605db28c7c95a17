import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { assertName } from '../model/names.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * A space's `dreamdb.tombstones` registry (spec 0020 §4): one object at `spaces/<space>/tombstones`,
 * deterministic CBOR {v: 1, space, deletes: [manifest hex, sorted]}, replaced by compare-and-swap. It
 * lists every manifest whose publish deleted something, so compaction and erasure find the deletes
 * without walking history. A listed manifest that no ref reaches (its publish lost the race) is ignored.
 */

export const tombstonesKey = (space: string) => `spaces/${assertName(space, 'space')}/tombstones`;
const HEX = /^1e20[0-9a-f]{64}$/;

/** The registry as stored now, and the ETag it came with (undefined: not written yet). */
export interface TombstoneRegistry {
  readonly deletes: ReadonlySet<string>;
  readonly etag?: string;
}

/** Decode the registry, refusing anything but its exact form. */
export function decodeRegistry(bytes: Uint8Array, space: string): Set<string> {
  const value = decodeCanonical(bytes) as Record<string, unknown>;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== 1 ||
    value.space !== space ||
    !Array.isArray(value.deletes) ||
    !value.deletes.every((h) => typeof h === 'string' && HEX.test(h))
  )
    throw new EngineError(
      'E_FIELD',
      `${tombstonesKey(space)}: not a tombstone registry {v: 1, space, deletes}`,
    );
  return new Set(value.deletes as string[]);
}

export const encodeRegistry = (space: string, deletes: Iterable<string>): Uint8Array =>
  encodeCanonical({ v: 1, space, deletes: [...new Set(deletes)].sort() });

/** The registry of a space as stored now. */
export async function readRegistry(store: ObjectStore, space: string): Promise<TombstoneRegistry> {
  try {
    const { body, etag } = await store.get(tombstonesKey(space));
    return { deletes: decodeRegistry(body, space), etag };
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND') return { deletes: new Set() };
    throw error;
  }
}

/** Change the registry by compare-and-swap, read again and retried when another writer moved it first. */
export async function updateRegistry(
  store: ObjectStore,
  space: string,
  change: (deletes: Set<string>) => void,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await readRegistry(store, space);
    const next = new Set(current.deletes);
    change(next);
    try {
      await store.put(
        tombstonesKey(space),
        encodeRegistry(space, next),
        current.etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: current.etag },
      );
      return;
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'E_PRECONDITION') || attempt >= 16) throw error;
    }
  }
}
