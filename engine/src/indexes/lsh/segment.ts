import { Tag } from 'cbor-x';
import type { Multihash } from '../../address/multihash.js';
import { TAGS, tagTick } from '../../cbor/tags.js';
import { EngineError } from '../../errors.js';
import { openObject, sealObjectParts } from '../../format/envelope.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import type { Tick } from '../../time/ticks.js';
import { orderByKey } from './radix.js';

/** A segment is one object: at most 100 MiB (spec 0007 §6.4), the header included. */
export const MAX_SEGMENT_BYTES = 100 * 1024 * 1024 - 64 * 1024;

/**
 * The vectors of a spatial segment (spec 0004 §6.1) in segment order: spatial-first (by table-0 key),
 * then by tick. `keys` is table-major: keys[t·count + n].
 */
export interface SegmentVectors {
  readonly count: number;
  readonly ticks: BigUint64Array;
  readonly keys: Uint32Array;
  /** count × dimension f32, row-major. */
  readonly vectors: Float32Array;
}

/** A decoded spatial segment: whose vectors, under which SpatialIndex, and the vectors. */
export interface SpatialSegment extends SegmentVectors {
  readonly timeline: string;
  readonly track: string;
  readonly lineage: Multihash;
  readonly dimension: number;
  readonly tables: number;
  readonly first: Tick;
  readonly last: Tick;
}

/** Items a segment of this shape can hold under the object size limit. */
export const segmentCapacity = (dimension: number, tables: number): number =>
  Math.floor(MAX_SEGMENT_BYTES / (8 + 4 * tables + 4 * dimension));

/** The rows `order` names, in that order. */
export function pickRows(
  v: SegmentVectors,
  order: Uint32Array,
  dimension: number,
  tables: number,
): SegmentVectors {
  const count = order.length;
  const out = {
    count,
    ticks: new BigUint64Array(count),
    keys: new Uint32Array(tables * count),
    vectors: new Float32Array(count * dimension),
  };
  const { ticks, keys, vectors } = v;
  for (let to = 0; to < count; to++) {
    const from = order[to]!;
    out.ticks[to] = ticks[from]!;
    for (let t = 0; t < tables; t++) out.keys[t * count + to] = keys[t * v.count + from]!;
    for (let i = 0, a = from * dimension, b = to * dimension; i < dimension; i++)
      out.vectors[b + i] = vectors[a + i]!;
  }
  return out;
}

/**
 * Rows [from, to) of some vectors in segment order: table-0 key ascending, then tick ascending (OQ-13,
 * spatial-first), copied once. Rows in tick order (as every writer has them) take a stable radix sort by
 * key; others a full sort.
 */
export function spatialOrder(
  v: SegmentVectors,
  dimension: number,
  tables: number,
  from = 0,
  to = v.count,
): SegmentVectors {
  const { ticks, keys } = v;
  let ascending = true;
  for (let n = from + 1; n < to && ascending; n++) ascending = ticks[n - 1]! < ticks[n]!;
  let order: Uint32Array;
  if (ascending) {
    order = orderByKey(keys, from, to - from);
    for (let i = 0; i < order.length; i++) order[i]! += from;
  } else {
    const rows = Array.from({ length: to - from }, (_, n) => from + n);
    rows.sort((a, b) => keys[a]! - keys[b]! || (ticks[a]! < ticks[b]! ? -1 : ticks[a]! > ticks[b]! ? 1 : 0));
    order = Uint32Array.from(rows);
  }
  return pickRows(v, order, dimension, tables);
}

/** Little-endian bytes of a typed array (a view when the platform is little-endian, as all are here). */
function littleEndian(array: BigUint64Array | Uint32Array | Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * Encode a spatial segment (already in segment order, see spatialOrder) as object parts. Header:
 * v, timeline, track, spatial_index (the lineage), count, dimension, tables, first, last. Payload:
 * ticks (count × u64 LE), keys (tables × count × u32 LE, table-major), vectors (count × dimension × f32 LE).
 */
export function encodeSpatialSegment(segment: SpatialSegment): Uint8Array[] {
  const { count, dimension, tables } = segment;
  if (count < 1) throw new EngineError('E_FIELD', `spatial segment of ${segment.track}: no vectors`);
  if (count > segmentCapacity(dimension, tables))
    throw new EngineError(
      'E_TOO_LARGE',
      `spatial segment of ${segment.track}: ${count} vectors exceed the ${segmentCapacity(dimension, tables)} that fit in one object`,
    );
  const header = {
    v: 0,
    timeline: segment.timeline,
    track: segment.track,
    spatial_index: new Tag(segment.lineage, TAGS.multihash),
    count,
    dimension,
    tables,
    first: tagTick(segment.first),
    last: tagTick(segment.last),
  };
  return sealObjectParts('spatialSegment', header, [
    littleEndian(segment.ticks.subarray(0, count)),
    littleEndian(segment.keys.subarray(0, tables * count)),
    littleEndian(segment.vectors.subarray(0, count * dimension)),
  ]);
}

/**
 * Decode a spatial segment, refusing one built under another SpatialIndex than `lineage` (0007 §6.1.1):
 * its keys would mean something else. Checks sizes, segment order, tick bounds and finite vectors.
 */
export function decodeSpatialSegment(
  bytes: Uint8Array,
  lineage: Multihash,
  what = 'spatial segment',
): SpatialSegment {
  const { header, payloadStart } = openObject(bytes, 'spatialSegment', what);
  const r = new FieldReader(header, what, [
    'v',
    'timeline',
    'track',
    'spatial_index',
    'count',
    'dimension',
    'tables',
    'first',
    'last',
  ]);
  if (r.uint('v') !== 0) fieldError(r.at('v'), `version ${String(r.raw('v'))} is not 0`);
  const [built] = r.multihashesOf([r.raw('spatial_index')], 'spatial_index');
  if (!sameBytes(built!, lineage))
    throw new EngineError(
      'E_LINEAGE',
      `${what} was built under another spatial index than the track's: its keys cannot be compared (0004 §6)`,
    );
  const count = r.uint('count');
  const dimension = r.uint('dimension');
  const tables = r.uint('tables');
  const first = r.tick('first');
  const last = r.tick('last');
  const expected = count * (8 + 4 * tables + 4 * dimension);
  if (count < 1 || bytes.length - payloadStart !== expected)
    fieldError(what, `payload of ${bytes.length - payloadStart} bytes; ${count} vectors need ${expected}`);
  // Copies into buffers of their own: typed arrays need aligned offsets, the caller keeps the arrays
  // beyond the object, and a Node Buffer's slice is a view into a shared pool, not a copy.
  const at = (offset: number, size: number) => {
    const copy = new Uint8Array(size);
    copy.set(bytes.subarray(payloadStart + offset, payloadStart + offset + size));
    return copy.buffer;
  };
  const ticks = new BigUint64Array(at(0, 8 * count));
  const keys = new Uint32Array(at(8 * count, 4 * tables * count));
  const vectors = new Float32Array(at((8 + 4 * tables) * count, 4 * dimension * count));
  for (let n = 0; n < count; n++) {
    if (ticks[n]! < first || ticks[n]! > last)
      fieldError(what, `tick ${ticks[n]} of vector ${n} is outside [first, last]`);
    if (n > 0 && (keys[n - 1]! > keys[n]! || (keys[n - 1] === keys[n] && ticks[n - 1]! >= ticks[n]!)))
      fieldError(what, `vector ${n} is out of segment order (table-0 key, then tick)`);
  }
  for (let i = 0; i < vectors.length; i++)
    if (!Number.isFinite(vectors[i]!))
      fieldError(what, `vector ${Math.floor(i / dimension)} has a non-finite component`);
  return {
    timeline: r.name('timeline'),
    track: r.name('track'),
    lineage: built!,
    dimension,
    tables,
    first,
    last,
    count,
    ticks,
    keys,
    vectors,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
