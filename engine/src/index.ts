/**
 * @dreamdb/engine pure core: runs unchanged in Node and in the browser. Node-only code (files, servers)
 * is under `@dreamdb/engine/node`.
 */

export {
  assertModality,
  FAMILIES,
  formatModality,
  MAX_MODALITY_LENGTH,
  type Modality,
  parseModality,
} from './address/modality.js';
export {
  assertMultihash,
  BLAKE3_CODE,
  type Blake3Backend,
  type Blake3State,
  blake3Backend,
  createMultihasher,
  DIGEST_BYTES,
  equalBytes,
  hashBytes,
  hashParts,
  hashStream,
  MULTIHASH_BYTES,
  MULTIHASH_HEX,
  type Multihash,
  type Multihasher,
  multihashFromHex,
  multihashToHex,
  setBlake3Backend,
  verifyBytes,
  wasmBlake3,
} from './address/multihash.js';
export { type Address, formatAddress, parseAddress } from './address/uri.js';
export { joinParts } from './bytes.js';
export {
  type CborValue,
  decodeCanonical,
  encodeCanonical,
  encodeCanonicalView,
  isCanonical,
} from './cbor/deterministic.js';
export { fromHex, fromJsonForm, type JsonValue, toHex, toJsonForm } from './cbor/json-form.js';
export { ALLOWED_TAGS, CborTag, TAGS, tagDuration, tagTick, untagTick } from './cbor/tags.js';
export {
  jsonEqual,
  runVector,
  runVectorFile,
  type Vector,
  type VectorFile,
  type VectorOutcome,
} from './conformance/vectors.js';
export { type CollectOptions, type CollectReport, collect } from './db/collect.js';
export {
  type AncestryOf,
  ancestry,
  isAncestor,
  type LogEntry,
  log,
  memoAncestry,
  mergeBases,
  refName,
  resolveVersion,
} from './db/dag.js';
export { type HybridHit, type HybridMatches, type HybridQuery, hybrid, RRF_K } from './db/hybrid.js';
export { type Merged, type MergeOptions, merge, mergeBase, rebase } from './db/merge.js';
export {
  type ConflictSide,
  type MergeConflict,
  MergeConflictError,
  type MergedContent,
  mergeContent,
} from './db/merge-content.js';
export {
  type ManifestOptions,
  type Published,
  type PublishOptions,
  publish,
  spill,
  type WrittenManifest,
  writeManifest,
} from './db/publish.js';
export {
  itemBytes,
  type RangePage,
  type RangeQuery,
  type ReadItem,
  range,
  read,
  seekEntry,
  trackEntries,
} from './db/read.js';
export { branchRef, createRef, deleteBranch, listRefs, type RefInfo, tagRef } from './db/refs.js';
export { encodeVector, type SearchHit, type SearchQuery, search, vectorDimension } from './db/search.js';
export { findTrack, type Resolved, Session } from './db/session.js';
export { StagedColumns } from './db/staged.js';
export { type ItemStream, type StreamOptions, type StreamStats, stream } from './db/stream.js';
export { type TextQuery as TextSearchQuery, textSearch, textTracks } from './db/text-search.js';
export { textFields } from './db/text-write.js';
export { diffVersions, type ItemChange, type TrackDiff } from './db/version-diff.js';
export { type WriteItem, Writer } from './db/writer.js';
export { EngineError, type EngineErrorCode } from './errors.js';
export {
  type BucketColumns,
  type BucketContents,
  type BucketItem,
  decodeBucket,
  encodeBucket,
  encodeBucketColumns,
  type ItemLocator,
  MAX_BUCKET_BYTES,
} from './format/bucket.js';
export {
  type Envelope,
  MAGIC,
  OBJECT_KINDS,
  type ObjectKind,
  openObject,
  PREAMBLE_BYTES,
  readPreamble,
  sealObject,
  sealObjectParts,
} from './format/envelope.js';
export {
  chunkEnds,
  isBoundary,
  LEAF_MAX,
  LEAF_TARGET,
  MAX_FANOUT,
  TARGET_FANOUT,
  tickHash,
} from './index/chunking.js';
export { concatColumns, type EntryColumns, entryAt, entryColumns } from './index/columns.js';
export { diffTrees, type EntryChange } from './index/diff.js';
export { editTree, type IndexEdit } from './index/edit.js';
export {
  type ChildRef,
  decodePage,
  encodeLeaf,
  encodeNode,
  type IndexEntry,
  type IndexPage,
} from './index/page.js';
export { appendTree, type BuiltTree, buildTree, TreeReader, type TreeRoot } from './index/tree.js';
export { decodeItem, encodeItem, type Item, itemFromCbor, itemToCbor, validateItem } from './model/item.js';
export {
  decodeManifest,
  encodeManifest,
  MANIFEST_VERSION,
  type Manifest,
  manifestFromCbor,
  manifestToCbor,
  openManifest,
  sealManifest,
} from './model/manifest.js';
export { assertName, isName } from './model/names.js';
export type { SegmentRef } from './model/segments.js';
export { decodeSpace, encodeSpace, type Space, spaceFromCbor, spaceToCbor } from './model/space.js';
export {
  decodeTimeline,
  encodeTimeline,
  type Timeline,
  timelineFromCbor,
  timelineToCbor,
} from './model/timeline.js';
export type { TrackIndex } from './model/track.js';
export {
  decodeTrack,
  encodeTrack,
  TRACK_KINDS,
  type Track,
  type TrackKind,
  type TrackSpatial,
  type TrackText,
  trackFromCbor,
  trackToCbor,
  validateTrack,
} from './model/track.js';
export { LshHasher } from './spatial/hasher.js';
export {
  assertLshParams,
  checkVector,
  hyperplaneSigns,
  LSH_COSINE,
  type LshParams,
  probeKeys,
  type TableKey,
  tableKeys,
} from './spatial/lsh.js';
export { type LshHit, type LshQueryOptions, LshTables } from './spatial/lsh-tables.js';
export {
  decodeSpatialSegment,
  encodeSpatialSegment,
  type SegmentVectors,
  type SpatialSegment,
  segmentCapacity,
} from './spatial/segment.js';
export {
  DEFAULT_SEED,
  decodeSpatialIndex,
  defaultSpatialIndex,
  encodeSpatialIndex,
  type SpatialIndex,
  spatialIndexFromCbor,
  spatialIndexHash,
  spatialIndexToCbor,
} from './spatial/spatial-index.js';
export {
  payloadVector,
  storedVectorBytes,
  vectorPayloadBytes,
  vectorTrackDimension,
} from './spatial/vector-payload.js';
export { CountingStore, type StoreCounts } from './store/counting-store.js';
export { etagEquals, type IfMatchStyle, ifMatchHeader, normalizeEtag } from './store/etag.js';
export { type FsckReport, fsck } from './store/fsck.js';
export { assertRefName, objectKey, parseObjectKey, refKey, spacePrefix } from './store/keys.js';
export { MemoryStore } from './store/memory-store.js';
export { type CacheStats, ObjectCache } from './store/object-cache.js';
export type {
  ByteRange,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './store/object-store.js';
export { listAll } from './store/object-store.js';
export { clipRange, parseRangeHeader, rangeHeader } from './store/range.js';
export { decodeRef, encodeRef, RefConflictError, type RefState, SpaceStore } from './store/space-store.js';
// Text index (spec 0015): analyzer, query syntax, segment objects, BM25 search, merge.
export {
  ANALYZER,
  analyze,
  type BuiltObject,
  type BuiltTextSegment,
  buildTextSegment,
  decodeDocumentsPage,
  decodePostingsPage,
  decodeTextDirectory,
  type FetchObject,
  FIELD_GAP,
  fetchFromBuilt,
  idf as bm25Idf,
  MAX_TEXT_K,
  MAX_TOKEN_CHARS,
  mergeTextSegments,
  parseQuery as parseTextQuery,
  STOP_WORDS,
  searchText,
  type TextDirectory,
  type TextDoc,
  type TextDocInfo,
  type TextHit,
  type TextMatch,
  type TextQuery,
  type TextSearchOptions,
  TextSegmentReader,
  type TextSegmentStats,
  termWeight as bm25TermWeight,
  tokenize,
  tokenizeFields,
} from './text/index.js';
export {
  formatRfc3339,
  parseRfc3339,
  rfc3339ToTick,
  secondsToTicks,
  ticksFromSecondsNumber,
  ticksToSeconds,
  ticksToSecondsNumber,
  tickToRfc3339,
  type UnixNanos,
} from './time/clock.js';
export {
  type DurationBounds,
  parseDurationArg,
  parseTimeArg,
  TIME_ARG_FORMS,
  type TimeArgForm,
  type TimeArgOptions,
  timeArgForm,
} from './time/parse.js';
export {
  divRound,
  parseRate,
  type Rate,
  type Rounding,
  rate,
  rescale,
  ticksToUnits,
  unitsToTicks,
} from './time/rate.js';
export {
  addTicks,
  assertTick,
  MAX_TICK,
  subTicks,
  TICKS_PER_SECOND,
  type Tick,
  tickFromHex,
  tickToHex,
  toTick,
} from './time/ticks.js';
