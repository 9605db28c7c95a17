import { multihashToHex } from '../../address/multihash.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Session } from '../../session/session.js';
import { sessionCache } from '../../session/session-cache.js';
import type { Tick } from '../../time/ticks.js';
import { LshTables } from './lsh-tables.js';
import { decodeSpatialSegment, type SpatialSegment } from './segment.js';
import { type SpatialIndex, spatialIndexHash } from './spatial-index.js';

/** A track's spatial index ready for queries: the tables, and the tick of each ordinal (ascending). */
export interface LoadedSpatial {
  readonly tables: LshTables;
  readonly ticks: BigUint64Array;
}

/** Loaded indexes kept per session (each holds its vectors: a few, the most recently used). */
const loaded = sessionCache<LoadedSpatial>(4);

/**
 * The in-memory tables of a track's spatial segments (spec 0004 §6.3), built once per set of segments
 * and kept by the session: every segment fetched (verified by hash), decoded with the lineage check, and
 * its vectors put in tick order so that a time window is a range of ordinals.
 */
export function loadSpatial(
  session: Session,
  index: SpatialIndex,
  refs: readonly SegmentRef[],
): Promise<LoadedSpatial> {
  const lineage = spatialIndexHash(index);
  const id = [multihashToHex(lineage), ...refs.map((s) => multihashToHex(s.object))].join('/');
  return loaded(session, id, async () => {
    const segments: SpatialSegment[] = [];
    for (let i = 0; i < refs.length; i += 4) {
      const batch = refs.slice(i, i + 4);
      const bytes = await Promise.all(batch.map((s) => session.store.getObject(s.object)));
      for (const [j, b] of bytes.entries())
        segments.push(
          decodeSpatialSegment(b, lineage, `spatial segment ${multihashToHex(batch[j]!.object)}`),
        );
    }
    return inTickOrder(index, segments);
  });
}

/** One LshTables over all segments, ordinals in tick order. */
function inTickOrder(index: SpatialIndex, segments: readonly SpatialSegment[]): LoadedSpatial {
  const { dimension, tables } = index;
  const count = segments.reduce((n, s) => n + s.count, 0);
  const ticks = new BigUint64Array(count);
  let at = 0;
  for (const s of segments) {
    ticks.set(s.ticks, at);
    at += s.count;
  }
  ticks.sort();
  const vectors = new Float32Array(count * dimension);
  const keys = new Uint32Array(tables * count);
  for (const s of segments) {
    for (let n = 0; n < s.count; n++) {
      const o = lowerBound(ticks, s.ticks[n]!);
      vectors.set(s.vectors.subarray(n * dimension, (n + 1) * dimension), o * dimension);
      for (let t = 0; t < tables; t++) keys[t * count + o] = s.keys[t * s.count + n]!;
    }
  }
  return { tables: new LshTables(index, vectors, count, keys), ticks };
}

/** The first position whose tick is >= t. */
export function lowerBound(ticks: BigUint64Array, t: Tick): number {
  let lo = 0;
  let hi = ticks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ticks[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
