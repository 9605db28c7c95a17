/**
 * `@dreamdb/engine/indexes/lsh`: the parts of `dreamdb.lsh-cosine` (spec 0004): hyperplanes and keys, the
 * fast key path, in-memory tables, the SpatialIndex record and the spatial segment object.
 */

export { LshHasher } from '../indexes/lsh/hasher.js';
export {
  assertLshParams,
  checkVector,
  hyperplaneSigns,
  LSH_COSINE,
  type LshParams,
  probeKeys,
  type TableKey,
  tableKeys,
} from '../indexes/lsh/lsh.js';
export { type LshHit, type LshQueryOptions, LshTables } from '../indexes/lsh/lsh-tables.js';
export {
  decodeSpatialSegment,
  encodeSpatialSegment,
  type SegmentVectors,
  type SpatialSegment,
  segmentCapacity,
} from '../indexes/lsh/segment.js';
export {
  DEFAULT_SEED,
  decodeSpatialIndex,
  defaultSpatialIndex,
  encodeSpatialIndex,
  type SpatialIndex,
  spatialIndexFromCbor,
  spatialIndexHash,
  spatialIndexToCbor,
} from '../indexes/lsh/spatial-index.js';
