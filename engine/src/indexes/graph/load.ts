import { multihashToHex } from '../../address/multihash.js';
import { openVectorCompressor } from '../../format/vector-compressor.js';
import { fieldError } from '../../model/fields.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Session } from '../../session/session.js';
import { sessionCache } from '../../session/session-cache.js';
import type { Tick } from '../../time/ticks.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import type { Codebooks } from '../../vectors/pq.js';
import { droppedUnion } from '../dropped.js';
import { lowerBound } from '../lsh/load.js';
import { DotKernel } from './dot-kernel.js';
import { PAGE_CACHE_PAGES, PagedGraph } from './paged.js';
import type { GraphParams } from './params.js';
import { forEachPage, type GraphIndexObject, readGraphIndex, readPage, upperGraph } from './segment.js';
import { type VamanaGraph, type VamanaHits, VamanaSearcher } from './vamana.js';

/**
 * Pages of a segment up to this many bytes are held whole unless the session says otherwise (1 GiB:
 * 1M x 128 or 100k x 768 stay in memory, as hnswlib would hold them; past it, codes and pages).
 */
export const GRAPH_RESIDENT_BYTES = 1 << 30;

/** The bytes of loaded graph segments a session keeps unless it says otherwise (4 GiB: four of the largest held whole). */
export const GRAPH_CACHE_BYTES = 4 * 2 ** 30;

/**
 * One graph segment ready for queries: held whole (its rows in the dot kernel) or paged (codes in memory,
 * pages read by range), with its ticks and dropped ticks.
 */
export interface LoadedGraph {
  readonly searcher: VamanaSearcher | PagedGraph;
  readonly ticks: BigUint64Array;
  readonly dropped: ReadonlySet<Tick> | undefined;
  readonly degree: number;
  /** What it holds in memory, at most: rows and links held whole; or codes, links, layers and its page cache. */
  readonly bytes: number;
}

/** Segments kept per session: the most recently used 64, within the session's graphCacheBytes. */
const loaded = sessionCache<LoadedGraph>(64, {
  bytes: (segment) => segment.bytes,
  budget: (session) => session.options.graphCacheBytes ?? GRAPH_CACHE_BYTES,
  dropped: (segment) => {
    if (segment.searcher instanceof PagedGraph) segment.searcher.close();
  },
});

/**
 * A graph segment loaded for queries, once per session. A segment with codes whose pages exceed the
 * session's graphResidentBytes is paged (its GraphIndex and VectorCompressor read, pages on demand);
 * any other is read whole: every GraphPage object fetched (verified by hash), rows scaled to unit length
 * as the build saw them.
 */
export function loadGraph(session: Session, params: GraphParams, ref: SegmentRef): Promise<LoadedGraph> {
  const key = `${multihashToHex(ref.object)}/${ref.dropped ? multihashToHex(ref.dropped) : ''}`;
  return loaded(session, key, async () => {
    const hex = multihashToHex(ref.object);
    const index = await readGraphIndex(
      (o) => session.store.getObject(o),
      ref.object,
      params,
      `graph index ${hex}`,
    );
    const pageBytes = Math.ceil(index.count / index.layout.perPage) * index.layout.pageBytes;
    const budget = session.options.graphResidentBytes ?? GRAPH_RESIDENT_BYTES;
    const paged = index.compressed !== undefined && pageBytes > budget;
    const searcher = paged ? await pagedGraph(session, index) : await residentGraph(session, index);
    const gone = ref.dropped ? await droppedUnion(session, [ref]) : undefined;
    const layers = index.upper.reduce((sum, l) => sum + 4 * l.n * l.degree, 0);
    const bytes =
      8 * index.count +
      layers +
      (paged
        ? index.count * (index.compressed!.subspaces + 4 * params.degree) +
          PAGE_CACHE_PAGES * index.layout.pageBytes
        : pageBytes);
    return { searcher, ticks: index.ticks, dropped: gone, degree: params.degree, bytes };
  });
}

/** A segment held whole: every page read into a graph and a dot kernel of unit rows. */
async function residentGraph(session: Session, index: GraphIndexObject): Promise<VamanaSearcher> {
  const { dimension, degree } = index.params;
  const n = index.count;
  const kernel = new DotKernel(n, dimension);
  const graph: VamanaGraph = {
    n,
    dim: dimension,
    degree,
    neighbors: new Int32Array(n * degree).fill(-1),
    counts: new Uint16Array(n),
    medoid: index.medoid,
    ...(index.upper.length > 0 && { upper: upperGraph(index.upper, dimension)! }),
  };
  const unit = new Float32Array(dimension);
  const into = {
    neighbors: graph.neighbors,
    counts: graph.counts,
    // The unit row in f32, as the build saw it (spec 0013 §1).
    setRow: (node: number, values: Float32Array) => {
      scaleToUnit(values, 0, unit);
      kernel.setRow(node, unit);
    },
  };
  await forEachPage(
    index,
    (object) => session.store.getObject(object),
    (page, bytes, what) => readPage(index, page, bytes, into, what),
  );
  return new VamanaSearcher(graph, kernel);
}

/** The codebooks of a segment's codes: its VectorCompressor read (verified) and checked against the segment. */
export async function segmentCodebooks(session: Session, index: GraphIndexObject): Promise<Codebooks> {
  const { compressor, subspaces } = index.compressed!;
  const what = `vector compressor ${multihashToHex(compressor)}`;
  const { books } = openVectorCompressor(await session.store.getObject(compressor), what);
  if (books.dimension !== index.params.dimension || books.subspaces !== subspaces)
    fieldError(
      what,
      `has ${books.subspaces} subspaces of ${books.dimension} dimensions; the graph index's codes need ${subspaces} of ${index.params.dimension}`,
    );
  return books;
}

/**
 * A segment searched paged: codes and codebooks in memory, pages read by range; unless the session says
 * otherwise, its out-edges read in the background (queries walk page by page until they are held).
 */
async function pagedGraph(session: Session, index: GraphIndexObject): Promise<PagedGraph> {
  const books = await segmentCodebooks(session, index);
  const graph = new PagedGraph(index, books, index.compressed!.codes, (object, start, end) =>
    session.store.getRange(object, { start, end }),
  );
  if (session.options.graphHoldLinks !== false)
    // A failure here costs only the faster path: the queries keep reading pages by range, and meet any
    // bad page themselves (refused by its hash).
    graph.holdLinks((object) => session.store.getObject(object)).catch(() => {});
  return graph;
}

/** A hit of one segment: its tick and cosine distance on unit rows. */
export interface GraphHit {
  readonly tick: Tick;
  readonly distance: number;
}

/**
 * The k nearest live nodes of one segment with from <= tick < to (spec 0013 §5): an exact scan when the
 * window holds few rows (cheaper than a walk, and exact), else a walk with the window and the dropped
 * ticks as a filter inside it, its list widened by the share of the segment the window leaves out.
 */
export async function searchSegment(
  segment: LoadedGraph,
  query: Float32Array,
  k: number,
  list: number,
  from: Tick,
  to: Tick | undefined,
): Promise<GraphHit[]> {
  const { searcher, ticks, dropped } = segment;
  const lo = lowerBound(ticks, from);
  const hi = to === undefined ? ticks.length : lowerBound(ticks, to);
  if (hi <= lo) return [];
  const live = (i: number) => !dropped?.has(ticks[i]!);
  const rows = hi - lo;
  const answer = (hits: VamanaHits) =>
    Array.from(hits.ids, (id, i) => ({ tick: ticks[id]!, distance: hits.distances[i]! }));
  if (rows <= exactBelow(list, segment.degree))
    return answer(await searcher.scan(query, k, lo, hi, dropped ? live : undefined));
  const whole = lo === 0 && hi === ticks.length;
  const keep = whole
    ? dropped
      ? live
      : undefined
    : dropped
      ? (i: number) => i >= lo && i < hi && live(i)
      : (i: number) => i >= lo && i < hi;
  const widened = whole ? list : Math.min(list * 8, Math.ceil((list * ticks.length) / rows));
  return answer(await searcher.search(query, k, widened, keep));
}

/** A window of at most this many rows is scanned exactly: about the distances one walk measures. */
export const exactBelow = (list: number, degree: number): number => Math.max(1024, list * degree * 2);
