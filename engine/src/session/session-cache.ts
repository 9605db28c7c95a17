import type { Session } from './session.js';

/** What a cache may also weigh its values by: their bytes, against a budget per session. */
export interface CacheWeight<T> {
  /** The bytes a value holds. */
  readonly bytes: (value: T) => number;
  /** The bytes a session's cache may hold; past it the least recently used values are dropped. */
  readonly budget: (session: Session) => number;
  /** Told of a settled value dropped for the budget or the count (to stop work it still does). */
  readonly dropped?: (value: T) => void;
}

/**
 * A cache of promises kept per session, by key, at most `keep` of them (least recently used dropped
 * first), and with `weight`, at most its budget of bytes of settled values (the newest value always
 * stays, whatever its size). A promise that rejects is forgotten, so the next call makes it again. For
 * what a session opens once and reuses (a track's spatial tables, a text segment's reader, graph
 * segments held in memory).
 */
export function sessionCache<T>(
  keep: number,
  weight?: CacheWeight<T>,
): (session: Session, key: string, make: () => Promise<T>) => Promise<T> {
  interface Cache {
    entries: Map<string, Promise<T>>;
    /** Settled values with their bytes (a value still being made weighs nothing yet). */
    settled: Map<string, { value: T; bytes: number }>;
  }
  const caches = new WeakMap<Session, Cache>();
  const drop = (cache: Cache, key: string) => {
    const held = cache.settled.get(key);
    cache.entries.delete(key);
    cache.settled.delete(key);
    if (held) weight?.dropped?.(held.value);
  };
  // Over the budget, settled values go least recently used first, never `spare` (the value just made or
  // asked for) and never the last settled one; values still being made are left to settle first.
  const trim = (session: Session, cache: Cache, spare: string) => {
    while (cache.entries.size > keep) drop(cache, cache.entries.keys().next().value!);
    if (!weight) return;
    const budget = weight.budget(session);
    let total = 0;
    for (const { bytes } of cache.settled.values()) total += bytes;
    for (const key of [...cache.entries.keys()]) {
      if (total <= budget || cache.settled.size <= 1) break;
      const held = cache.settled.get(key);
      if (!held || key === spare) continue;
      total -= held.bytes;
      drop(cache, key);
    }
  };
  return (session, key, make) => {
    const cache = caches.get(session) ?? { entries: new Map(), settled: new Map() };
    caches.set(session, cache);
    let entry = cache.entries.get(key);
    if (entry)
      cache.entries.delete(key); // re-inserted below: most recently used last
    else {
      const made = make();
      entry = made;
      made.then(
        (value) => {
          // Weighed once settled, and only while still cached (a value dropped meanwhile is told so).
          if (cache.entries.get(key) !== made) weight?.dropped?.(value);
          else if (weight) {
            cache.settled.set(key, { value, bytes: weight.bytes(value) });
            trim(session, cache, key);
          }
        },
        () => {
          if (cache.entries.get(key) === made) drop(cache, key);
        },
      );
    }
    cache.entries.set(key, entry);
    trim(session, cache, key);
    return entry;
  };
}
