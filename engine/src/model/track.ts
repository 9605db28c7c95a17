import { Tag } from 'cbor-x';
import { assertModality, parseModality } from '../address/modality.js';
import type { Multihash } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { TAGS, tagDuration, tagTick } from '../cbor/tags.js';
import { findIndexKind, SCHEME } from '../indexes/registry.js';
import type { Rate } from '../time/rate.js';
import type { Tick } from '../time/ticks.js';
import { FieldReader, fieldError } from './fields.js';
import { assertName } from './names.js';
import { type SegmentRef, segmentsFromCbor, segmentToCbor } from './segments.js';

/** The three kinds of track (spec 0001 §4). */
export const TRACK_KINDS = ['stream', 'event', 'constant'] as const;
export type TrackKind = (typeof TRACK_KINDS)[number];

/** Modality families each kind accepts; user (reverse-DNS) tags are accepted by every kind. */
const KIND_FAMILIES: Record<TrackKind, readonly string[]> = {
  stream: ['video', 'audio'],
  event: ['event', 'text', 'vector', 'sensor', 'image', 'meta'],
  constant: ['meta', 'text', 'vector', 'sensor', 'image', 'event'],
};

/**
 * A Track: one sequence of items of one modality on a timeline. Stream tracks hold back-to-back CMAF
 * fragments with a media rate; event tracks hold discrete items batched per `bucketDuration`; constant
 * tracks hold values that last from a tick on, corrected by layers.
 */
export interface Track {
  readonly timeline: string;
  readonly name: string;
  readonly kind: TrackKind;
  readonly modality: string;
  /** Stream tracks: the media timescale of the fragments (units per second). */
  readonly rate?: Rate;
  /** Stream tracks: the RFC 6381 codecs string, e.g. "avc1.64001f". */
  readonly codecs?: string;
  /** Stream tracks: the object holding the CMAF header (init segment: ftyp + moov) the fragments need. */
  readonly init?: Multihash;
  /** Event tracks: how much time one bucket object covers. */
  readonly bucketDuration?: Tick;
  /** Free-form descriptive fields (language, device, units). */
  readonly attrs?: Readonly<Record<string, unknown>>;
  /** In a manifest: the root of the track's index (spec 0007 §7), absent while the track is empty. */
  readonly index?: TrackIndex;
  /**
   * The track's search indexes by scheme (spec 0001 §4.1): each kind's parameter record and the
   * segments its items built. Absent: the track has none.
   */
  readonly indexes?: Readonly<Record<string, IndexRecord>>;
}

/**
 * One index of a track as its manifest records it: the parameters (a CBOR map the index kind reads) and
 * the segments (immutable objects, ordered by first tick; empty while no item is indexed).
 */
export interface IndexRecord {
  readonly params: Readonly<Record<string, unknown>>;
  readonly segments: readonly SegmentRef[];
}

/** Read the `indexes` map; a registered kind checks its parameters, an unknown scheme is kept as it is. */
function indexesFromCbor(value: unknown, path: string): Record<string, IndexRecord> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    fieldError(path, 'expected a map from scheme to index');
  if (value instanceof Map || value instanceof Tag) fieldError(path, 'expected a map with text keys');
  const out: Record<string, IndexRecord> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) fieldError(path, 'an empty map: leave the field out instead');
  for (const [scheme, entry] of entries) {
    const at = `${path}.${scheme}`;
    if (!SCHEME.test(scheme))
      fieldError(at, 'a scheme is 3-64 characters of a-z 0-9 . - in dot-separated segments');
    const r = new FieldReader(entry, at, ['params', 'segments']);
    out[scheme] = {
      params: r.map('params'),
      segments: segmentsFromCbor(r.array('segments'), r.at('segments')),
    };
  }
  return out;
}

/** Check each index whose kind this engine knows against its kind and the track. */
function checkIndexes(track: Track, path: string): void {
  for (const [scheme, index] of Object.entries(track.indexes ?? {})) {
    const kind = findIndexKind(scheme);
    if (!kind) continue;
    const at = `${path}.indexes.${scheme}`;
    const params = kind.readParams(index.params, `${at}.params`);
    kind.fits?.(track, params, at);
  }
}

/** Where a track's items are found: the root page of its index and what is under it. */
export interface TrackIndex {
  readonly root: Multihash;
  readonly height: number;
  readonly count: number;
  readonly first: Tick;
  readonly last: Tick;
  /**
   * Every page of the index, inline, while the manifest stays under 1 MiB (spec 0007 §7.5): a reader
   * then needs no GET to search it. The pages are stored as objects too.
   */
  readonly pages?: readonly Uint8Array[];
}

function indexToCbor(index: TrackIndex): Record<string, unknown> {
  const out: Record<string, unknown> = {
    last: tagTick(index.last),
    root: new Tag(index.root, TAGS.multihash),
    count: index.count,
    first: tagTick(index.first),
    height: index.height,
  };
  if (index.pages !== undefined) out.pages = index.pages;
  return out;
}

function indexFromCbor(value: unknown, path: string): TrackIndex {
  const r = new FieldReader(value, path, ['last', 'root', 'count', 'first', 'height', 'pages']);
  const [root] = r.multihashesOf([r.raw('root')], 'root');
  const index = {
    root: root!,
    height: r.uint('height'),
    count: r.uint('count'),
    first: r.tick('first'),
    last: r.tick('last'),
    ...(r.has('pages') && { pages: pagesOf(r.array('pages'), r.at('pages')) }),
  };
  if (index.height < 1 || index.count < 1 || index.last < index.first)
    fieldError(path, 'height and count must be positive, last >= first');
  return index;
}

function pagesOf(list: unknown[], path: string): Uint8Array[] {
  return list.map((page, i) => {
    if (!(page instanceof Uint8Array)) fieldError(`${path}[${i}]`, 'an inline index page is a byte string');
    return page;
  });
}

/** Refuse a track whose kind-specific fields do not fit its kind. */
export function validateTrack(track: Track, path = 'track'): Track {
  const family = parseModality(track.modality);
  if (family.builtin && !KIND_FAMILIES[track.kind].includes(family.segments[0]!)) {
    fieldError(`${path}.modality`, `a ${track.kind} track cannot hold ${track.modality} items`);
  }
  if (track.kind === 'stream') {
    if (track.rate === undefined) fieldError(`${path}.rate`, 'a stream track needs its media rate');
    if (track.bucketDuration !== undefined)
      fieldError(`${path}.bucket_duration`, 'only event tracks have buckets');
  } else {
    if (track.rate !== undefined || track.codecs !== undefined || track.init !== undefined) {
      fieldError(
        `${path}.${track.rate !== undefined ? 'rate' : track.codecs !== undefined ? 'codecs' : 'init'}`,
        'only stream tracks have a media rate, codecs and an init segment',
      );
    }
    if (track.kind === 'event' && track.bucketDuration === undefined) {
      fieldError(`${path}.bucket_duration`, 'an event track needs a bucket duration');
    }
    if (track.kind === 'constant' && track.bucketDuration !== undefined) {
      fieldError(`${path}.bucket_duration`, 'only event tracks have buckets');
    }
  }
  if (track.bucketDuration !== undefined && track.bucketDuration === 0n) {
    fieldError(`${path}.bucket_duration`, 'must be positive');
  }
  checkIndexes(track, path);
  return track;
}

/** The CBOR map of a Track. */
export function trackToCbor(track: Track, path = 'track'): Record<string, unknown> {
  validateTrack(track, path);
  const out: Record<string, unknown> = {
    timeline: assertName(track.timeline, `${path}.timeline`),
    name: assertName(track.name, `${path}.name`),
    kind: track.kind,
    modality: new Tag(assertModality(track.modality, `${path}.modality`), TAGS.modality),
  };
  if (track.rate !== undefined) out.rate = [track.rate.num, track.rate.den];
  if (track.codecs !== undefined) out.codecs = track.codecs;
  if (track.init !== undefined) out.init = new Tag(track.init, TAGS.multihash);
  if (track.bucketDuration !== undefined) out.bucket_duration = tagDuration(track.bucketDuration);
  if (track.attrs !== undefined) out.attrs = track.attrs;
  if (track.index !== undefined) out.index = indexToCbor(track.index);
  if (track.indexes !== undefined && Object.keys(track.indexes).length > 0)
    out.indexes = Object.fromEntries(
      Object.entries(track.indexes).map(([scheme, index]) => [
        scheme,
        { params: index.params, segments: index.segments.map(segmentToCbor) },
      ]),
    );
  return out;
}

/** Read and validate a Track from its decoded CBOR map. */
export function trackFromCbor(value: unknown, path = 'track'): Track {
  const r = new FieldReader(value, path, [
    'timeline',
    'name',
    'kind',
    'modality',
    'rate',
    'codecs',
    'init',
    'bucket_duration',
    'attrs',
    'index',
    'indexes',
  ]);
  const track: {
    -readonly [K in keyof Track]: Track[K];
  } = {
    timeline: r.name('timeline'),
    name: r.name('name'),
    kind: r.oneOf('kind', TRACK_KINDS),
    modality: r.modality('modality'),
  };
  if (r.has('rate')) {
    const pair = r.array('rate');
    const [num, den] = pair;
    const positive = (v: unknown) =>
      (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) || (typeof v === 'bigint' && v > 0n);
    if (pair.length !== 2 || !positive(num) || !positive(den)) {
      fieldError(r.at('rate'), 'expected [numerator, denominator], two positive integers');
    }
    track.rate = { num: BigInt(num as number), den: BigInt(den as number) };
  }
  if (r.has('codecs')) track.codecs = r.text('codecs', 256);
  if (r.has('init')) track.init = r.multihashesOf([r.raw('init')], 'init')[0]!;
  if (r.has('bucket_duration')) track.bucketDuration = r.duration('bucket_duration');
  if (r.has('attrs')) track.attrs = r.map('attrs');
  if (r.has('index')) track.index = indexFromCbor(r.raw('index'), r.at('index'));
  if (r.has('indexes')) track.indexes = indexesFromCbor(r.raw('indexes'), r.at('indexes'));
  return validateTrack(track, path);
}

/** Deterministic CBOR bytes of a Track, checked by the same rules its decoder applies. */
export function encodeTrack(track: Track): Uint8Array {
  const map = trackToCbor(track);
  trackFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(map);
}

/** Decode and validate a Track. */
export function decodeTrack(bytes: Uint8Array): Track {
  return trackFromCbor(decodeCanonical(bytes));
}

/**
 * A track's definition as deterministic CBOR: the record without what its items made (the time index,
 * the search indexes' segments; their parameters stay). Two versions define a track alike exactly when
 * these bytes are equal.
 */
export function trackDefinition(track: Track): Uint8Array {
  const { index: _index, indexes, ...rest } = track;
  return encodeCanonical(
    trackToCbor({
      ...rest,
      ...(indexes && {
        indexes: Object.fromEntries(
          Object.entries(indexes).map(([scheme, { params }]) => [scheme, { params, segments: [] }]),
        ),
      }),
    }),
  );
}
