import { hashParts } from '../../address/multihash.js';
import { decodeCanonical } from '../../cbor/deterministic.js';
import type { SegmentRef } from '../../model/segments.js';
import type { TrackSpatial } from '../../model/track.js';
import type { Session } from '../../session/session.js';
import type { Tick } from '../../time/ticks.js';
import { payloadVector } from '../../vectors/payload.js';
import type { StagedColumns } from '../../writes/staged.js';
import type { Uploader } from '../../writes/uploader.js';
import { appendSegments } from '../segment-log.js';
import { LshHasher } from './hasher.js';
import {
  decodeSpatialSegment,
  encodeSpatialSegment,
  pickRows,
  type SegmentVectors,
  segmentCapacity,
  spatialOrder,
} from './segment.js';
import { spatialIndexHash } from './spatial-index.js';

/** What a publish changes in a vector track: its new items and whether they all follow the old last tick. */
export interface SpatialChange {
  readonly timeline: string;
  readonly track: string;
  readonly spatial: TrackSpatial;
  readonly staged: StagedColumns;
  /** True when every staged tick is after the track's last tick: only new segments are written. */
  readonly append: boolean;
  /** Ticks whose items are gone (a merge of a removal); never with `append`. */
  readonly removed?: ReadonlySet<Tick>;
}

/** The vectors of staged vector items (their CBOR decoded once), ticks ascending. */
function stagedVectors(change: SpatialChange, hasher: LshHasher): SegmentVectors {
  const { staged } = change;
  const dim = change.spatial.index.dimension;
  const count = staged.count;
  const ticks = new BigUint64Array(count);
  const vectors = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const item = decodeCanonical(staged.bytes(i)) as { payload?: unknown };
    ticks[i] = staged.ticks[i]!;
    vectors.set(payloadVector(item.payload, dim, `${change.timeline}/${change.track}@${ticks[i]}`), i * dim);
  }
  return { count, ticks, keys: hasher.keysOf(vectors, count), vectors };
}

function concat(parts: readonly SegmentVectors[], dim: number, tables: number): SegmentVectors {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const out = {
    count,
    ticks: new BigUint64Array(count),
    keys: new Uint32Array(tables * count),
    vectors: new Float32Array(count * dim),
  };
  let at = 0;
  for (const p of parts) {
    out.ticks.set(p.ticks.subarray(0, p.count), at);
    out.vectors.set(p.vectors.subarray(0, p.count * dim), at * dim);
    for (let t = 0; t < tables; t++)
      out.keys.set(p.keys.subarray(t * p.count, (t + 1) * p.count), t * count + at);
    at += p.count;
  }
  return out;
}

/**
 * Write vectors (ticks ascending) as segments of at most the capacity, each in spatial order, and
 * return their references. Splitting by tick keeps segments' tick ranges apart for time-window pruning.
 */
async function writeSegments(
  change: SpatialChange,
  vectors: SegmentVectors,
  uploader: Uploader,
): Promise<SegmentRef[]> {
  const { index } = change.spatial;
  const { dimension, tables } = index;
  const lineage = spatialIndexHash(index);
  const capacity = segmentCapacity(dimension, tables);
  const pieces = Math.ceil(vectors.count / capacity);
  const refs: SegmentRef[] = [];
  for (let p = 0; p < pieces; p++) {
    // Equal pieces, so a large write does not leave a tiny last segment.
    const from = Math.floor((p * vectors.count) / pieces);
    const to = Math.floor(((p + 1) * vectors.count) / pieces);
    const part = spatialOrder(vectors, dimension, tables, from, to);
    const first = vectors.ticks[from]!;
    const last = vectors.ticks[to - 1]!;
    const parts = encodeSpatialSegment({
      ...part,
      timeline: change.timeline,
      track: change.track,
      lineage,
      dimension,
      tables,
      first,
      last,
    });
    const object = await hashParts(parts);
    await uploader.put(parts, object);
    refs.push({ object, count: part.count, first, last });
  }
  return refs;
}

/** Every vector of some segments, ticks ascending (segments hold each tick at most once between them). */
async function readSegments(
  session: Session,
  change: SpatialChange,
  refs: readonly SegmentRef[],
): Promise<SegmentVectors> {
  const { index } = change.spatial;
  const lineage = spatialIndexHash(index);
  const decoded = await Promise.all(
    refs.map(async (ref) => decodeSpatialSegment(await session.store.getObject(ref.object), lineage)),
  );
  const all = concat(decoded, index.dimension, index.tables);
  return byTick(all, index.dimension, index.tables);
}

/** Rows reordered by tick ascending. */
function byTick(v: SegmentVectors, dim: number, tables: number): SegmentVectors {
  const order = Array.from({ length: v.count }, (_, n) => n).sort((a, b) =>
    v.ticks[a]! < v.ticks[b]! ? -1 : v.ticks[a]! > v.ticks[b]! ? 1 : 0,
  );
  return pickRows(v, Uint32Array.from(order), dim, tables);
}

/**
 * The spatial index of a vector track after a publish (spec 0004 §6.2). An append writes the new
 * vectors as new segments, merged log-structured (appendSegments). Any other change (a tick written again, an item inserted before the
 * last tick) rebuilds the track's segments from the old segments and the new items.
 */
export async function publishSpatial(
  session: Session,
  change: SpatialChange,
  uploader: Uploader,
): Promise<TrackSpatial> {
  const { index } = change.spatial;
  const { dimension, tables } = index;
  const hasher = new LshHasher(index);
  const fresh = stagedVectors(change, hasher);
  if (change.append) {
    const added = await writeSegments(change, fresh, uploader);
    const segments = await appendSegments(
      change.spatial.segments,
      added,
      segmentCapacity(dimension, tables),
      async (group) => writeSegments(change, await readSegments(session, change, group), uploader),
    );
    return { index, segments };
  }
  const old = await readSegments(session, change, change.spatial.segments);
  const replaced = new Set<Tick>([...fresh.ticks, ...(change.removed ?? [])]);
  const keep: number[] = [];
  for (let n = 0; n < old.count; n++) if (!replaced.has(old.ticks[n]!)) keep.push(n);
  const all = byTick(
    concat([pickRows(old, Uint32Array.from(keep), dimension, tables), fresh], dimension, tables),
    dimension,
    tables,
  );
  const segments = await writeSegments(change, all, uploader);
  return { index, segments };
}
