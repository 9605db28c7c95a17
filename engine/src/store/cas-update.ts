import { EngineError } from '../errors.js';
import type { ObjectStore } from './object-store.js';

/**
 * Replace the small mutable object at `key` by compare-and-swap: read it (undefined when absent), let
 * `next` make the new bytes from it, and put them with If-Match (If-None-Match: * when it was absent);
 * when another writer moved it first, read again and retry, at most `attempts` times.
 */
export async function updateByCas(
  store: ObjectStore,
  key: string,
  next: (current: Uint8Array | undefined) => Uint8Array,
  attempts = 16,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let current: { body: Uint8Array; etag: string } | undefined;
    try {
      current = await store.get(key);
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'E_NOT_FOUND')) throw error;
    }
    try {
      await store.put(key, next(current?.body), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' });
      return;
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'E_PRECONDITION') || attempt >= attempts - 1)
        throw error;
    }
  }
}
