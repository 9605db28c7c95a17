import { hashParts, type Multihash } from '../../address/multihash.js';
import { decodeCanonical } from '../../cbor/deterministic.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Session } from '../../session/session.js';
import type { Tick } from '../../time/ticks.js';
import { payloadVector } from '../../vectors/payload.js';
import type { Uploader } from '../../writes/uploader.js';
import type { IndexChange, IndexContext } from '../kind.js';
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
import { type SpatialIndex, spatialIndexHash } from './spatial-index.js';

/** Whose segments these are, under which index: what every segment written here names. */
interface Owner {
  readonly timeline: string;
  readonly track: string;
  readonly index: SpatialIndex;
}

/** The vectors of staged vector items (their CBOR decoded once), ticks ascending. */
function stagedVectors(owner: Owner, change: IndexChange, hasher: LshHasher): SegmentVectors {
  const { staged } = change;
  const dim = owner.index.dimension;
  const count = staged.count;
  const ticks = new BigUint64Array(count);
  const vectors = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const item = decodeCanonical(staged.bytes(i)) as { payload?: unknown };
    ticks[i] = staged.ticks[i]!;
    vectors.set(payloadVector(item.payload, dim, `${owner.timeline}/${owner.track}@${ticks[i]}`), i * dim);
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
  owner: Owner,
  vectors: SegmentVectors,
  uploader: Uploader,
): Promise<SegmentRef[]> {
  const { index } = owner;
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
      timeline: owner.timeline,
      track: owner.track,
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
  index: SpatialIndex,
  refs: readonly SegmentRef[],
): Promise<SegmentVectors> {
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
 * The segments of a vector track's index after a change of its items (spec 0004 §6.2). An append writes
 * the new vectors as new segments, merged log-structured (appendSegments). Any other change (a tick
 * written again, an item inserted before the last tick, a removal) rebuilds the track's segments from the
 * old segments and the new items.
 */
export async function updateSpatial(
  context: IndexContext,
  index: SpatialIndex,
  segments: readonly SegmentRef[],
  change: IndexChange,
): Promise<SegmentRef[]> {
  const { session, uploader } = context;
  const owner: Owner = { timeline: change.track.timeline, track: change.track.name, index };
  const { dimension, tables } = index;
  const fresh = stagedVectors(owner, change, new LshHasher(index));
  if (change.append) {
    const added = await writeSegments(owner, fresh, uploader);
    return appendSegments(segments, added, segmentCapacity(dimension, tables), async (group) =>
      writeSegments(owner, await readSegments(session, index, group), uploader),
    );
  }
  const old = await readSegments(session, index, segments);
  const replaced = new Set<Tick>([...fresh.ticks, ...change.removed]);
  const keep: number[] = [];
  for (let n = 0; n < old.count; n++) if (!replaced.has(old.ticks[n]!)) keep.push(n);
  const all = byTick(
    concat([pickRows(old, Uint32Array.from(keep), dimension, tables), fresh], dimension, tables),
    dimension,
    tables,
  );
  return all.count > 0 ? writeSegments(owner, all, uploader) : [];
}

/** Erasure (spec 0020 §7): one segment without the vectors of erased ticks, as one new segment. */
export async function eraseSpatial(
  context: IndexContext,
  index: SpatialIndex,
  segment: SegmentRef,
  erased: (tick: Tick) => boolean,
): Promise<{ object?: Multihash } | undefined> {
  const old = decodeSpatialSegment(
    await context.session.store.getObject(segment.object),
    spatialIndexHash(index),
  );
  const keep: number[] = [];
  for (let n = 0; n < old.count; n++) if (!erased(old.ticks[n]!)) keep.push(n);
  if (keep.length === old.count) return undefined;
  if (keep.length === 0) return {};
  const rows = byTick(
    pickRows(old, Uint32Array.from(keep), index.dimension, index.tables),
    index.dimension,
    index.tables,
  );
  const [written] = await writeSegments(
    { timeline: old.timeline, track: old.track, index },
    rows,
    context.uploader,
  );
  return { object: written!.object };
}
