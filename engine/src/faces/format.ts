/**
 * `@dreamdb/engine/format`: the byte formats of spec 0007 for tools that read objects directly: the
 * envelope, buckets, ItemManifests, and the time index's pages and trees.
 */

export {
  type BucketColumns,
  type BucketContents,
  type BucketItem,
  decodeBucket,
  decodeBucketHeader,
  encodeBucket,
  encodeBucketColumns,
  type ItemLocator,
  MAX_BUCKET_BYTES,
} from '../format/bucket.js';
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
} from '../format/envelope.js';
export {
  decodeItemManifest,
  encodeItemManifest,
  ITEM_PART_BYTES,
  type ItemManifest,
  isItemManifest,
} from '../format/item-manifest.js';
export {
  chunkEnds,
  isBoundary,
  LEAF_MAX,
  LEAF_TARGET,
  MAX_FANOUT,
  TARGET_FANOUT,
  tickHash,
} from '../timeindex/chunking.js';
export { concatColumns, type EntryColumns, entryAt, entryColumns } from '../timeindex/columns.js';
export { diffTrees, type EntryChange } from '../timeindex/diff.js';
export { editTree, type IndexEdit } from '../timeindex/edit.js';
export {
  type ChildRef,
  decodePage,
  encodeLeaf,
  encodeNode,
  type IndexEntry,
  type IndexPage,
} from '../timeindex/page.js';
export { appendTree, type BuiltTree, buildTree, TreeReader, type TreeRoot } from '../timeindex/tree.js';
