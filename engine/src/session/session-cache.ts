import type { Session } from './session.js';

/**
 * A cache of promises kept per session, by key, at most `keep` of them (least recently used dropped
 * first). A promise that rejects is forgotten, so the next call makes it again. For what a session
 * opens once and reuses (a track's spatial tables, a text segment's reader).
 */
export function sessionCache<T>(
  keep: number,
): (session: Session, key: string, make: () => Promise<T>) => Promise<T> {
  const caches = new WeakMap<Session, Map<string, Promise<T>>>();
  return (session, key, make) => {
    const cache = caches.get(session) ?? new Map<string, Promise<T>>();
    caches.set(session, cache);
    let entry = cache.get(key);
    if (entry)
      cache.delete(key); // re-inserted below: most recently used last
    else {
      entry = make();
      entry.catch(() => cache.delete(key));
    }
    cache.set(key, entry);
    while (cache.size > keep) cache.delete(cache.keys().next().value!);
    return entry;
  };
}
