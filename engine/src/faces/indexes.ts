/**
 * `@dreamdb/engine/indexes`: the seam every index kind plugs into (spec 0001 §4.1): the IndexKind
 * interface, the registry (a kind is one `registerIndexKind` call), a track's indexes opened for queries,
 * and DreamDB's own kinds. Their parts are in `./indexes/lsh` and `./indexes/text`.
 */

import '../indexes/builtin.js';

export { vamanaCosine } from '../indexes/graph/kind.js';
export { VAMANA_COSINE } from '../indexes/graph/params.js';
export type {
  IndexChange,
  IndexContext,
  IndexKind,
  IndexRole,
  VectorIndexReader,
} from '../indexes/kind.js';
export { defaultRerank, lshCosine } from '../indexes/lsh/kind.js';
export { LSH_COSINE } from '../indexes/lsh/lsh.js';
export { findIndexKind, indexKind, indexKinds, registerIndexKind, SCHEME } from '../indexes/registry.js';
export { appendSegments, SEGMENT_FANOUT } from '../indexes/segment-log.js';
export {
  analyzePayload,
  TEXT_BM25,
  type TextIndexReader,
  type TextParams,
  textBm25,
} from '../indexes/text/kind.js';
export {
  bucketLineage,
  definedIndexes,
  describeIndexes,
  indexesFromOptions,
  openIndex,
  paramsOf,
  roleIndex,
  sameIndexes,
  trackIndex,
  trackIndexes,
} from '../indexes/track-indexes.js';
