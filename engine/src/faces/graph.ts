/**
 * `@dreamdb/engine/indexes/graph`: the parts of the graph index kind (spec 0013): the Vamana build and
 * beam search, the dot kernel, the parameters and the GraphIndex and GraphPage objects.
 */

export { DotKernel, paddedDimension } from '../indexes/graph/dot-kernel.js';
export {
  defaultGraphParams,
  type GraphParams,
  graphParamsFromCbor,
  graphParamsToCbor,
  VAMANA_COSINE,
} from '../indexes/graph/params.js';
export {
  decodeGraphIndex,
  type GraphIndexObject,
  pageLayout,
  SECTOR_BYTES,
} from '../indexes/graph/segment.js';
export {
  buildVamana,
  checkVamanaParams,
  medoid,
  type VamanaGraph,
  type VamanaHits,
  type VamanaParams,
  VamanaSearcher,
} from '../indexes/graph/vamana.js';
export { GRAPH_SEGMENT_NODES } from '../indexes/graph/write.js';
