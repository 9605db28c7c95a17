/**
 * `@dreamdb/engine/indexes/graph`: the Vamana graph of spec 0013 (DiskANN's build and beam search),
 * in memory; not yet an index kind (issue 19).
 */

export {
  buildVamana,
  checkVamanaParams,
  medoid,
  type VamanaGraph,
  type VamanaHits,
  type VamanaParams,
  VamanaSearcher,
} from '../indexes/graph/vamana.js';
