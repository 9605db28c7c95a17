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
export type { IndexChange, IndexContext, IndexKind, IndexRole, VectorIndexReader } from './indexes/kind.js';
export { LshHasher } from './indexes/lsh/hasher.js';
export { lshCosine } from './indexes/lsh/kind.js';
export {
  assertLshParams,
  checkVector,
  hyperplaneSigns,
  LSH_COSINE,
  type LshParams,
  probeKeys,
  type TableKey,
  tableKeys,
} from './indexes/lsh/lsh.js';
export { type LshHit, type LshQueryOptions, LshTables } from './indexes/lsh/lsh-tables.js';
export {
  decodeSpatialSegment,
  encodeSpatialSegment,
  type SegmentVectors,
  type SpatialSegment,
  segmentCapacity,
} from './indexes/lsh/segment.js';
export {
  DEFAULT_SEED,
  decodeSpatialIndex,
  defaultSpatialIndex,
  encodeSpatialIndex,
  type SpatialIndex,
  spatialIndexFromCbor,
  spatialIndexHash,
  spatialIndexToCbor,
} from './indexes/lsh/spatial-index.js';
export { findIndexKind, indexKind, indexKinds, registerIndexKind } from './indexes/registry.js';
export { TEXT_BM25, textBm25 } from './indexes/text/kind.js';
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
} from './indexes/text/text-index.js';
export { textFields } from './indexes/text/write.js';
export { openIndex, roleIndex, trackIndex, trackIndexes } from './indexes/track-indexes.js';
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
  type IndexRecord,
  TRACK_KINDS,
  type Track,
  type TrackKind,
  trackFromCbor,
  trackToCbor,
  validateTrack,
} from './model/track.js';
export { type HybridHit, type HybridMatches, type HybridQuery, hybrid, RRF_K } from './queries/hybrid.js';
export {
  itemBytes,
  type RangePage,
  type RangeQuery,
  type ReadItem,
  range,
  read,
  seekEntry,
  trackEntries,
} from './queries/read.js';
export { encodeVector, type SearchHit, type SearchQuery, search, vectorDimension } from './queries/search.js';
export { type ItemStream, type StreamOptions, type StreamStats, stream } from './queries/stream.js';
export { type TextQuery as TextSearchQuery, textSearch, textTracks } from './queries/text-search.js';
export { findTrack, type Resolved, Session } from './session/session.js';
export { CountingStore, type StoreCounts } from './store/counting-store.js';
export { etagEquals, type IfMatchStyle, ifMatchHeader, normalizeEtag } from './store/etag.js';
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
export {
  chunkEnds,
  isBoundary,
  LEAF_MAX,
  LEAF_TARGET,
  MAX_FANOUT,
  TARGET_FANOUT,
  tickHash,
} from './timeindex/chunking.js';
export { concatColumns, type EntryColumns, entryAt, entryColumns } from './timeindex/columns.js';
export { diffTrees, type EntryChange } from './timeindex/diff.js';
export { editTree, type IndexEdit } from './timeindex/edit.js';
export {
  type ChildRef,
  decodePage,
  encodeLeaf,
  encodeNode,
  type IndexEntry,
  type IndexPage,
} from './timeindex/page.js';
export { appendTree, type BuiltTree, buildTree, TreeReader, type TreeRoot } from './timeindex/tree.js';
export {
  payloadVector,
  storedVectorBytes,
  vectorPayloadBytes,
  vectorTrackDimension,
} from './vectors/payload.js';
export { type CollectOptions, type CollectReport, collect } from './versions/collect.js';
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
} from './versions/dag.js';
export { diffVersions, type ItemChange, type TrackDiff } from './versions/diff.js';
export { type FsckReport, fsck } from './versions/fsck.js';
export { type Merged, type MergeOptions, merge, mergeBase, rebase } from './versions/merge.js';
export {
  type ConflictSide,
  type MergeConflict,
  MergeConflictError,
  type MergedContent,
  mergeContent,
} from './versions/merge-content.js';
export { branchRef, createRef, deleteBranch, listRefs, type RefInfo, tagRef } from './versions/refs.js';
export {
  type ManifestOptions,
  type Published,
  type PublishOptions,
  publish,
  type WrittenManifest,
  writeManifest,
} from './writes/publish.js';
export { spill } from './writes/spill.js';
export { StagedColumns } from './writes/staged.js';
export { type WriteItem, Writer } from './writes/writer.js';

import './indexes/builtin.js';
