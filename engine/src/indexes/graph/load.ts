import { multihashToHex } from '../../address/multihash.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Session } from '../../session/session.js';
import { sessionCache } from '../../session/session-cache.js';
import type { Tick } from '../../time/ticks.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import { droppedUnion } from '../dropped.js';
import { lowerBound } from '../lsh/load.js';
import { DotKernel } from './dot-kernel.js';
import type { GraphParams } from './params.js';
import { decodeGraphIndex, forEachPage, readPage, upperGraph } from './segment.js';
import { type VamanaGraph, VamanaSearcher } from './vamana.js';

/** One graph segment in memory for queries: its searcher (unit rows in the dot kernel), ticks, dropped ticks. */
export interface LoadedGraph {
  readonly searcher: VamanaSearcher;
  readonly ticks: BigUint64Array;
  readonly dropped: ReadonlySet<Tick> | undefined;
  readonly degree: number;
}

/** Segments kept per session (each holds its vectors: the most recently used 64). */
const loaded = sessionCache<LoadedGraph>(64);

/**
 * A graph segment loaded for queries, once per session: its GraphIndex and every GraphPage object
 * fetched (verified by hash) and decoded, rows scaled to unit length as the build saw them.
 */
export function loadGraph(session: Session, params: GraphParams, ref: SegmentRef): Promise<LoadedGraph> {
  const key = `${multihashToHex(ref.object)}/${ref.dropped ? multihashToHex(ref.dropped) : ''}`;
  return loaded(session, key, async () => {
    const hex = multihashToHex(ref.object);
    const index = decodeGraphIndex(await session.store.getObject(ref.object), params, `graph index ${hex}`);
    const { dimension, degree } = params;
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
    const gone = ref.dropped ? await droppedUnion(session, [ref]) : undefined;
    return { searcher: new VamanaSearcher(graph, kernel), ticks: index.ticks, dropped: gone, degree };
  });
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
export function searchSegment(
  segment: LoadedGraph,
  query: Float32Array,
  k: number,
  list: number,
  from: Tick,
  to: Tick | undefined,
): GraphHit[] {
  const { searcher, ticks, dropped } = segment;
  const lo = lowerBound(ticks, from);
  const hi = to === undefined ? ticks.length : lowerBound(ticks, to);
  if (hi <= lo) return [];
  const live = (i: number) => !dropped?.has(ticks[i]!);
  const rows = hi - lo;
  if (rows <= exactBelow(list, segment.degree)) {
    const hits = searcher.scan(query, k, lo, hi, dropped ? live : undefined);
    return Array.from(hits.ids, (id, i) => ({ tick: ticks[id]!, distance: hits.distances[i]! }));
  }
  const whole = lo === 0 && hi === ticks.length;
  const keep = whole
    ? dropped
      ? live
      : undefined
    : dropped
      ? (i: number) => i >= lo && i < hi && live(i)
      : (i: number) => i >= lo && i < hi;
  const widened = whole ? list : Math.min(list * 8, Math.ceil((list * ticks.length) / rows));
  const hits = searcher.search(query, k, widened, keep);
  return Array.from(hits.ids, (id, i) => ({ tick: ticks[id]!, distance: hits.distances[i]! }));
}

/** A window of at most this many rows is scanned exactly: about the distances one walk measures. */
export const exactBelow = (list: number, degree: number): number => Math.max(1024, list * degree * 2);
