/**
 * `@dreamdb/engine/versions`: the manifest DAG (spec 0008): history, refs (branches and tags), three-way
 * merges and rebases, diffs; and the space's upkeep: collect (GC) and fsck.
 */

import '../indexes/builtin.js';

export { type CollectOptions, type CollectReport, collect } from '../versions/collect.js';
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
} from '../versions/dag.js';
export { diffVersions, type ItemChange, type TrackDiff } from '../versions/diff.js';
export { type FsckReport, fsck } from '../versions/fsck.js';
export { type Merged, type MergeOptions, merge, mergeBase, rebase } from '../versions/merge.js';
export {
  type ConflictSide,
  type MergeConflict,
  MergeConflictError,
  type MergedContent,
  mergeContent,
} from '../versions/merge-content.js';
export { branchRef, createRef, deleteBranch, listRefs, type RefInfo, tagRef } from '../versions/refs.js';
