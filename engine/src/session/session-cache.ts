import type { Session } from './session.js';

/** What a cache may also weigh its values by: their bytes, against a budget per session. */
export interface CacheWeight<T> {
  /** The bytes a value holds. */
  readonly bytes: (value: T) => number;
  /** The bytes a session's cache may hold; past it the least recently used values are dropped. */
  readonly budget: (session: Session) => number;
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
  const caches = new WeakMap<Session, { entries: Map<string, Promise<T>>; bytes: Map<string, number> }>();
  const trim = (
    session: Session,
    cache: { entries: Map<string, Promise<T>>; bytes: Map<string, number> },
  ) => {
    while (cache.entries.size > keep) drop(cache, cache.entries.keys().next().value!);
    if (!weight) return;
    const budget = weight.budget(session);
    let total = 0;
    for (const b of cache.bytes.values()) total += b;
    for (const key of cache.entries.keys()) {
      if (total <= budget || cache.entries.size <= 1) break;
      total -= cache.bytes.get(key) ?? 0;
      drop(cache, key);
    }
  };
  const drop = (cache: { entries: Map<string, Promise<T>>; bytes: Map<string, number> }, key: string) => {
    cache.entries.delete(key);
    cache.bytes.delete(key);
  };
  return (session, key, make) => {
    const cache = caches.get(session) ?? { entries: new Map(), bytes: new Map() };
    caches.set(session, cache);
    let entry = cache.entries.get(key);
    if (entry)
      cache.entries.delete(key); // re-inserted below: most recently used last
    else {
      const made = make();
      entry = made;
      made.then(
        (value) => {
          // Weighed once settled, and only while still cached (a value dropped meanwhile holds nothing here).
          if (weight && cache.entries.get(key) === made) {
            cache.bytes.set(key, weight.bytes(value));
            trim(session, cache);
          }
        },
        () => {
          if (cache.entries.get(key) === made) drop(cache, key);
        },
      );
    }
    cache.entries.set(key, entry);
    trim(session, cache);
    return entry;
  };
}
