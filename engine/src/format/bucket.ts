import { Tag } from 'cbor-x';
import { assertMultihash, equalBytes, type Multihash, multihashToHex } from '../address/multihash.js';
import { joinParts } from '../bytes.js';
import { TAGS, tagTick, untagTick } from '../cbor/tags.js';
import { EngineError } from '../errors.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { assertName } from '../model/names.js';
import type { Tick } from '../time/ticks.js';
import { openObject, sealObjectParts } from './envelope.js';

/** Objects are at most 100 MiB in v0 (spec 0005 §2); a bucket splits below it (spec 0007 §6.4). */
export const MAX_BUCKET_BYTES = 100 * 1024 * 1024;

/** One item going into a bucket: where it sits on the timeline and its bytes. */
export interface BucketItem {
  readonly tick: Tick;
  readonly duration?: Tick;
  readonly bytes: Uint8Array;
}

/** Where an item landed: bytes [start, end) of the bucket object. */
export interface ItemLocator {
  readonly start: number;
  readonly end: number;
}

/** A decoded bucket header with each item's place. */
export interface BucketContents {
  readonly timeline: string;
  readonly track: string;
  readonly kind: 'stream' | 'event' | 'constant';
  readonly spatialIndex?: Multihash;
  /** The part objects of its items stored as parts (spec 0014 §4), in item order. */
  readonly parts?: readonly Multihash[];
  readonly items: readonly { tick: Tick; duration: Tick; start: number; end: number }[];
}

const big = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(v as number));

/** A bucket's items column by column: ticks strictly increasing, and the items' bytes back to back. */
export interface BucketColumns {
  readonly timeline: string;
  readonly track: string;
  readonly kind: 'stream' | 'event' | 'constant';
  /** Items [from, to) of the columns go into the bucket. */
  readonly from: number;
  readonly to: number;
  readonly ticks: ArrayLike<Tick>;
  readonly durations?: ArrayLike<Tick>;
  readonly lengths: ArrayLike<number>;
  /** The items' bytes in order, in as many pieces as convenient. */
  readonly payload: readonly Uint8Array[];
  readonly spatialIndex?: Multihash;
  /** The part objects of the items stored as parts: what collect must keep for them (0014 §4). */
  readonly parts?: readonly Multihash[];
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Pack items into one bucket object (spec 0007 §6): header with the ticks as deltas and the item lengths
 * as a positional array, then the items' bytes back to back, so an item's address is a plain byte range
 * (for stream tracks, a whole CMAF fragment). Item i of the bucket starts at `payloadStart` plus the
 * lengths before it.
 */
export function encodeBucketColumns(input: BucketColumns): {
  /** The object as parts (header, then the payload's own arrays): join them for one array. */
  parts: Uint8Array[];
  size: number;
  payloadStart: number;
} {
  const { from, to, ticks } = input;
  const n = to - from;
  if (n <= 0) throw new EngineError('E_FIELD', `bucket of ${input.track}: no items`);
  const deltas: (number | bigint)[] = new Array(n);
  const lengths: number[] = new Array(n);
  let anyDuration = false;
  let payloadBytes = 0;
  deltas[0] = 0;
  for (let i = from; i < to; i++) {
    if (i > from) {
      const delta = ticks[i]! - ticks[i - 1]!;
      if (delta <= 0n) {
        fieldError(
          `bucket of ${input.track}: items[${i - from}].tick`,
          `ticks must increase (${ticks[i]} after ${ticks[i - 1]})`,
        );
      }
      deltas[i - from] = delta <= SAFE ? Number(delta) : delta;
    }
    const length = input.lengths[i]!;
    lengths[i - from] = length;
    payloadBytes += length;
    if (input.durations && input.durations[i] !== 0n) anyDuration = true;
  }
  const header: Record<string, unknown> = {
    v: 0,
    kind: input.kind,
    track: assertName(input.track, 'bucket track'),
    first: tagTick(ticks[from]!),
    deltas,
    lengths,
    timeline: assertName(input.timeline, 'bucket timeline'),
  };
  if (anyDuration) header.durations = Array.from({ length: n }, (_, i) => input.durations![from + i]!);
  if (input.spatialIndex) header.spatial_index = new Tag(assertMultihash(input.spatialIndex), TAGS.multihash);
  if (input.parts && input.parts.length > 0)
    header.parts = input.parts.map((part) => new Tag(assertMultihash(part), TAGS.multihash));
  const parts = sealObjectParts('bucket', header, input.payload);
  const size = parts[0]!.length + payloadBytes;
  if (size > MAX_BUCKET_BYTES) {
    throw new EngineError(
      'E_TOO_LARGE',
      `bucket of ${input.track} would be ${size} bytes, over ${MAX_BUCKET_BYTES}`,
    );
  }
  return { parts, size, payloadStart: parts[0]!.length };
}

/** Pack item objects into one bucket (encodeBucketColumns), with each item's byte range. */
export function encodeBucket(input: {
  timeline: string;
  track: string;
  kind: 'stream' | 'event' | 'constant';
  items: readonly BucketItem[];
  spatialIndex?: Multihash;
  parts?: readonly Multihash[];
}): { bytes: Uint8Array; locators: ItemLocator[] } {
  const { items } = input;
  const { parts, payloadStart } = encodeBucketColumns({
    ...input,
    from: 0,
    to: items.length,
    ticks: items.map((item) => item.tick),
    durations: items.map((item) => item.duration ?? 0n),
    lengths: items.map((item) => item.bytes.length),
    payload: items.map((item) => item.bytes),
  });
  const bytes = joinParts(parts);
  let at = payloadStart;
  const locators = items.map((item) => {
    const locator = { start: at, end: at + item.bytes.length };
    at = locator.end;
    return locator;
  });
  return { bytes, locators };
}

/**
 * Read a bucket's header and the place of each item from the object's first bytes (at least the
 * preamble and the header: what collect fetches), without checking that the items cover the object.
 */
export function decodeBucketHeader(bytes: Uint8Array, what = 'bucket'): BucketContents & { end: number } {
  const { header, payloadStart } = openObject(bytes, 'bucket', what);
  const r = new FieldReader(header, what, [
    'v',
    'kind',
    'track',
    'timeline',
    'first',
    'deltas',
    'durations',
    'lengths',
    'spatial_index',
    'parts',
  ]);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'bucket version is not 0');
  const deltas = r.array('deltas');
  const lengths = r.array('lengths');
  const durations = r.has('durations') ? r.array('durations') : undefined;
  if (lengths.length !== deltas.length || (durations && durations.length !== deltas.length)) {
    fieldError(what, 'deltas, durations and lengths must be the same length');
  }
  let tick = untagTick(r.raw('first'), r.at('first'));
  let at = payloadStart;
  const items = deltas.map((delta, i) => {
    if (i > 0) tick += big(delta);
    const length = lengths[i] as number;
    const item = { tick, duration: durations ? big(durations[i]) : 0n, start: at, end: at + length };
    at += length;
    return item;
  });
  const spatial = r.has('spatial_index')
    ? r.multihashesOf([r.raw('spatial_index')], 'spatial_index')[0]
    : undefined;
  const parts = r.has('parts') ? r.multihashes('parts') : undefined;
  if (parts?.length === 0) fieldError(r.at('parts'), 'an empty list: leave the field out instead');
  return {
    timeline: r.name('timeline'),
    track: r.name('track'),
    kind: r.oneOf('kind', ['stream', 'event', 'constant'] as const),
    items,
    ...(spatial && { spatialIndex: spatial }),
    ...(parts && { parts }),
    end: at,
  };
}

/**
 * Read a whole bucket: its header, and the place of each item, which must cover the object exactly. With
 * `lineage` (a track's vector index lineage, or undefined for a track without one), a bucket that names
 * another lineage, or none where one is expected, is refused with E_LINEAGE (spec 0007 §6.1.1).
 */
export function decodeBucket(
  bytes: Uint8Array,
  what = 'bucket',
  expect?: { readonly lineage: Multihash | undefined },
): BucketContents {
  const { end, ...contents } = decodeBucketHeader(bytes, what);
  if (end !== bytes.length) fieldError(what, `items cover ${end} bytes but the object has ${bytes.length}`);
  if (expect) {
    const have = contents.spatialIndex;
    const want = expect.lineage;
    if (have === undefined ? want !== undefined : want === undefined || !equalBytes(have, want))
      throw new EngineError(
        'E_LINEAGE',
        `${what} carries lineage ${have ? multihashToHex(have) : 'none'}, not ${want ? multihashToHex(want) : 'none'}: it was written under another vector index`,
      );
  }
  return contents;
}
