/**
 * `@dreamdb/engine/write`: the write path (spec 0006 §2.1-2.2): stage items with a Writer, spill a long
 * recording's fragments as they come, publish (buckets, index pages, every index through its kind, the
 * manifest, then the ref by compare-and-swap).
 */

import '../indexes/builtin.js';

export { type CompactReport, compact } from '../deletes/compact.js';
export { type Deleted, type DeleteOptions, deleteItems } from '../deletes/delete.js';
export { type ErasureReport, erase } from '../deletes/erase.js';
export { readRegistry, type TombstoneRegistry, tombstonesKey } from '../deletes/registry.js';
export { type DeleteSelector, END } from '../deletes/selector.js';
export {
  openTombstoneList,
  sealTombstoneList,
  type Tombstone,
  type TombstoneList,
} from '../deletes/tombstone-list.js';
export {
  type ManifestOptions,
  type Published,
  type PublishOptions,
  publish,
  type WrittenManifest,
  writeManifest,
} from '../writes/publish.js';
export { spill } from '../writes/spill.js';
export { StagedColumns } from '../writes/staged.js';
export { type WriteItem, Writer } from '../writes/writer.js';
