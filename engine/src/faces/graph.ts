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
  buildPartitioned,
  memorySpill,
  type PartitionedGraph,
  type RowSource,
  runShardsHere,
  type ShardRunner,
  type Spill,
} from '../indexes/graph/partitioned.js';
export {
  decodeGraphIndex,
  GRAPH_INDEX_INLINE_BYTES,
  type GraphIndexObject,
  pageLayout,
  readGraphIndex,
  SECTOR_BYTES,
} from '../indexes/graph/segment.js';
export {
  buildGraph,
  buildVamana,
  checkVamanaParams,
  medoid,
  type VamanaGraph,
  type VamanaHits,
  type VamanaParams,
  VamanaSearcher,
} from '../indexes/graph/vamana.js';
export { COMPRESS_MIN_NODES, GRAPH_BUILD_BYTES, GRAPH_SEGMENT_NODES } from '../indexes/graph/write.js';
export { type LargeSegment, writeLargeSegment } from '../indexes/graph/write-large.js';
