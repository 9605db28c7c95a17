import { hashParts } from '../../address/multihash.js';
import { sealVectorCompressor } from '../../format/vector-compressor.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import { defaultPqParams, encodePq, trainPq } from '../../vectors/pq.js';
import { type GraphParams, vamanaParams } from './params.js';
import {
  buildPartitioned,
  type PartitionedGraph,
  type PartitionOptions,
  type RowSource,
} from './partitioned.js';
import { type EncodedObject, encodeGraphSegment } from './segment.js';

/** A segment written from a source larger than memory: its GraphIndex and how its graph was built. */
export interface LargeSegment {
  readonly index: EncodedObject;
  readonly graph: PartitionedGraph;
}

/**
 * Write one graph segment over a source's rows without holding them or the graph (spec 0013 §2.1): the
 * graph built over partitions, codebooks trained on the build's sample, then one pass over the rows that
 * encodes their codes and writes the GraphPage objects (each handed to `put`), then the
 * VectorCompressor and the GraphIndex (its payload in GraphBody objects when long), also to `put`.
 */
export async function writeLargeSegment(
  segment: {
    readonly timeline: string;
    readonly track: string;
    readonly params: GraphParams;
    /** The tick of each row, ascending. */
    readonly ticks: BigUint64Array;
    readonly source: RowSource;
  },
  options: PartitionOptions,
  put: (object: EncodedObject) => Promise<void>,
): Promise<LargeSegment> {
  const { params, source } = segment;
  const dim = params.dimension;
  const graph = await buildPartitioned(source, vamanaParams(params), options);
  const pq = { ...defaultPqParams(dim), subspaces: params.subspaces, seed: params.seed };
  const books = trainPq(graph.sample.rows, graph.sample.count, pq);
  const compressorParts = sealVectorCompressor(pq, books);
  const compressor = await hashParts(compressorParts);
  await put({ parts: compressorParts, hash: compressor });
  const codes = new Uint8Array(source.count * params.subspaces);
  const index = await encodeGraphSegment(
    {
      timeline: segment.timeline,
      track: segment.track,
      params,
      ticks: segment.ticks,
      graph: {
        n: graph.n,
        medoid: graph.medoid,
        ...(graph.upper && { upper: graph.upper }),
        // Pages are written in node order, one GraphPage object's nodes at a time: their codes too.
        async nodes(from, to) {
          const vectors = await source.rows(from, to);
          const unit = new Float32Array(vectors.length);
          for (let i = 0; i < to - from; i++)
            scaleToUnit(vectors, i * dim, unit.subarray(i * dim, (i + 1) * dim));
          codes.set(encodePq(books, unit, to - from), from * params.subspaces);
          return { vectors, ...(await graph.edges(from, to)) };
        },
      },
      compressed: { compressor, codes },
    },
    put,
  );
  return { index, graph };
}
