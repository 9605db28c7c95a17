import { Tag } from 'cbor-x';
import { assertModality, parseModality } from '../address/modality.js';
import type { Multihash } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { TAGS, tagDuration, tagTick } from '../cbor/tags.js';
import { type SpatialIndex, spatialIndexFromCbor, spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { ANALYZER } from '../indexes/text/tokenize.js';
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
  /** Vector tracks: the spatial index (spec 0004 §6): its parameters and its segments. */
  readonly spatial?: TrackSpatial;
  /** Text and event tracks: the BM25 text index of the items' text fields (spec 0015 §5). */
  readonly text?: TrackText;
}

/** A track's text index: the analyzer its segments were built with, and the segments (directories). */
export interface TrackText {
  readonly analyzer: string;
  /** Empty until the track has items with text; ordered by first tick. */
  readonly segments: readonly SegmentRef[];
}

function textFromCbor(value: unknown, path: string): TrackText {
  const r = new FieldReader(value, path, ['analyzer', 'segments']);
  const analyzer = r.text('analyzer', 64);
  if (analyzer !== ANALYZER) fieldError(r.at('analyzer'), `analyzer ${analyzer} is not ${ANALYZER}`);
  return { analyzer, segments: segmentsFromCbor(r.array('segments'), r.at('segments')) };
}

/** A vector track's `dreamdb.lsh-cosine` index: the SpatialIndex record and the segments built under it. */
export interface TrackSpatial {
  readonly index: SpatialIndex;
  /** Empty until the track has items; ordered by first tick. */
  readonly segments: readonly SegmentRef[];
}

function spatialFromCbor(value: unknown, path: string): TrackSpatial {
  const r = new FieldReader(value, path, ['index', 'segments']);
  return {
    index: spatialIndexFromCbor(r.raw('index'), r.at('index')),
    segments: segmentsFromCbor(r.array('segments'), r.at('segments')),
  };
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
  if (track.text !== undefined && track.kind !== 'event')
    fieldError(`${path}.text`, 'only event tracks have a text index');
  if (track.spatial !== undefined) {
    const dim = family.segments.join('.') === 'vector.f32' ? family.params.get('dim') : undefined;
    if (track.kind !== 'event' || dim === undefined)
      fieldError(`${path}.spatial`, 'only event tracks of vector.f32;dim=N have a spatial index');
    if (Number(dim) !== track.spatial.index.dimension)
      fieldError(
        `${path}.spatial.index.dimension`,
        `${track.spatial.index.dimension} differs from the track's dim=${dim}`,
      );
  }
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
  if (track.spatial !== undefined)
    out.spatial = {
      index: spatialIndexToCbor(track.spatial.index),
      segments: track.spatial.segments.map(segmentToCbor),
    };
  if (track.text !== undefined)
    out.text = { analyzer: track.text.analyzer, segments: track.text.segments.map(segmentToCbor) };
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
    'spatial',
    'text',
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
  if (r.has('spatial')) track.spatial = spatialFromCbor(r.raw('spatial'), r.at('spatial'));
  if (r.has('text')) track.text = textFromCbor(r.raw('text'), r.at('text'));
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
 * A track's definition as deterministic CBOR: the record without what its items made (the index, the
 * spatial and text segments; the index parameters and analyzer stay). Two versions define a track alike
 * exactly when these bytes are equal.
 */
export function trackDefinition(track: Track): Uint8Array {
  const { index: _index, spatial, text, ...rest } = track;
  return encodeCanonical(
    trackToCbor({
      ...rest,
      ...(spatial && { spatial: { index: spatial.index, segments: [] } }),
      ...(text && { text: { analyzer: text.analyzer, segments: [] } }),
    }),
  );
}
