/**
 * `@dreamdb/engine/indexes/graph`: the parts of the graph index kind (spec 0013): the Vamana build and
 * beam search, the dot kernel, the parameters and the GraphIndex and GraphPage objects; the paged
 * search over product-quantization codes (spec 0010) and its VectorCompressor.
 */

export { openVectorCompressor } from '../format/vector-compressor.js';
export { CodeKernel } from '../indexes/graph/code-kernel.js';
export { DotKernel, paddedDimension } from '../indexes/graph/dot-kernel.js';
export { GRAPH_RESIDENT_BYTES, type LoadedGraph, loadGraph } from '../indexes/graph/load.js';
export { BEAM_WIDTH, PagedGraph, type PagedHits } from '../indexes/graph/paged.js';
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
export { COMPRESS_MIN_NODES, GRAPH_SEGMENT_NODES } from '../indexes/graph/write.js';
