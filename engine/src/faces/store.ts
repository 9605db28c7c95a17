/**
 * `@dreamdb/engine/store`: the object-store contract (spec 0005) and what is built on it: the in-memory
 * store, a space's objects and refs (compare-and-swap), and the session every verb takes (caches of
 * manifests, index pages and ref resolutions). The file-system and HTTP stores are in `./node`.
 */

export { type Erasure, readRegistry } from '../deletes/registry.js';
export { findTrack, type Resolved, Session } from '../session/session.js';
export { CountingStore, type StoreCounts } from '../store/counting-store.js';
export { etagEquals, type IfMatchStyle, ifMatchHeader, normalizeEtag } from '../store/etag.js';
export {
  assertRefName,
  normalizeRef,
  objectKey,
  parseObjectKey,
  refKey,
  spacePrefix,
} from '../store/keys.js';
export { MemoryStore } from '../store/memory-store.js';
export { type CacheStats, ObjectCache } from '../store/object-cache.js';
export {
  type ByteRange,
  type GetResult,
  type ListOptions,
  type ListPage,
  listAll,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from '../store/object-store.js';
export { clipRange, parseRangeHeader, rangeHeader } from '../store/range.js';
export {
  decodeRef,
  ERASURE_STALENESS_MS,
  encodeRef,
  erasedEntry,
  overlaps,
  RefConflictError,
  type RefState,
  SpaceStore,
} from '../store/space-store.js';
