import { Tag } from 'cbor-x';
import { assertMultihash, type Multihash, multihashToHex } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { TAGS } from '../cbor/tags.js';
import { openObject, sealObject } from '../format/envelope.js';
import type { UnixNanos } from '../time/clock.js';
import { FieldReader, fieldError } from './fields.js';
import { assertName } from './names.js';
import { type Timeline, timelineFromCbor, timelineToCbor } from './timeline.js';
import { type Track, trackFromCbor, trackToCbor } from './track.js';

/** The manifest format version this engine writes and reads. */
export const MANIFEST_VERSION = 1;

/**
 * A Manifest: an immutable snapshot of a space, the only thing a ref points at (spec 0001 §6). It names
 * its parents explicitly, forming a DAG (spec 0008). `created` is for display; it is never trusted.
 */
export interface Manifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly space: string;
  readonly parents: readonly Multihash[];
  readonly created: UnixNanos;
  readonly author?: string;
  readonly message?: string;
  readonly timelines: readonly Timeline[];
  readonly tracks: readonly Track[];
  /** The TombstoneList of what this manifest's publish deleted (spec 0020 §3); absent when nothing. */
  readonly tombstones?: Multihash;
}

function trackOrder(a: Track, b: Track): number {
  return a.timeline < b.timeline
    ? -1
    : a.timeline > b.timeline
      ? 1
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0;
}

/** Refuse duplicate parents, timelines or tracks, and tracks on timelines the manifest lacks. */
function checkStructure(manifest: Manifest): void {
  const parents = new Set<string>();
  manifest.parents.forEach((parent, i) => {
    const hex = multihashToHex(assertMultihash(parent, `manifest.parents[${i}]`));
    if (parents.has(hex)) fieldError(`manifest.parents[${i}]`, 'the same parent is listed twice');
    parents.add(hex);
  });
  const names = new Set<string>();
  manifest.timelines.forEach((t, i) => {
    if (names.has(t.name)) fieldError(`manifest.timelines[${i}]`, `timeline ${t.name} is listed twice`);
    if (i > 0 && manifest.timelines[i - 1]!.name > t.name) {
      fieldError(`manifest.timelines[${i}]`, 'timelines must be sorted by name');
    }
    names.add(t.name);
  });
  manifest.tracks.forEach((track, i) => {
    if (!names.has(track.timeline)) {
      fieldError(`manifest.tracks[${i}].timeline`, `timeline ${track.timeline} is not in this manifest`);
    }
    if (i > 0) {
      const order = trackOrder(manifest.tracks[i - 1]!, track);
      if (order === 0)
        fieldError(`manifest.tracks[${i}]`, `track ${track.timeline}/${track.name} is listed twice`);
      if (order > 0) fieldError(`manifest.tracks[${i}]`, 'tracks must be sorted by timeline, then name');
    }
  });
}

/** The CBOR map of a Manifest; timelines and tracks are written sorted, so input order does not matter. */
export function manifestToCbor(manifest: Manifest): Record<string, unknown> {
  const sorted: Manifest = {
    ...manifest,
    timelines: [...manifest.timelines].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    tracks: [...manifest.tracks].sort(trackOrder),
  };
  if (manifest.version !== MANIFEST_VERSION)
    fieldError('manifest.v', `this engine writes version ${MANIFEST_VERSION}`);
  checkStructure(sorted);
  const out: Record<string, unknown> = {
    v: MANIFEST_VERSION,
    space: assertName(manifest.space, 'manifest.space'),
    parents: manifest.parents.map((p) => new Tag(p, TAGS.multihash)),
    created_unix_ns: manifest.created,
    timelines: sorted.timelines.map(timelineToCbor),
    tracks: sorted.tracks.map((t, i) => trackToCbor(t, `manifest.tracks[${i}]`)),
  };
  if (manifest.author !== undefined) out.author = manifest.author;
  if (manifest.message !== undefined) out.message = manifest.message;
  if (manifest.tombstones !== undefined)
    out.tombstones = new Tag(assertMultihash(manifest.tombstones, 'manifest.tombstones'), TAGS.multihash);
  return out;
}

/** Read and validate a Manifest from its decoded CBOR map. */
export function manifestFromCbor(value: unknown, path = 'manifest'): Manifest {
  const r = new FieldReader(value, path, [
    'v',
    'space',
    'parents',
    'created_unix_ns',
    'author',
    'message',
    'timelines',
    'tracks',
    'tombstones',
  ]);
  const version = r.uint('v');
  if (version !== MANIFEST_VERSION)
    fieldError(r.at('v'), `version ${version} is not supported (this engine reads ${MANIFEST_VERSION})`);
  const author = r.optionalText('author', 256);
  const message = r.optionalText('message');
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    space: r.name('space'),
    parents: r.multihashes('parents'),
    created: r.int64('created_unix_ns'),
    timelines: r.array('timelines').map((t, i) => timelineFromCbor(t, `${r.at('timelines')}[${i}]`)),
    tracks: r.array('tracks').map((t, i) => trackFromCbor(t, `${r.at('tracks')}[${i}]`)),
    ...(author !== undefined && { author }),
    ...(message !== undefined && { message }),
    ...(r.has('tombstones') && { tombstones: r.multihashesOf([r.raw('tombstones')], 'tombstones')[0]! }),
  };
  checkStructure(manifest);
  return manifest;
}

/** Deterministic CBOR bytes of a Manifest, checked by the same rules its decoder applies. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const map = manifestToCbor(manifest);
  manifestFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(map);
}

/** Decode and validate a Manifest. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  return manifestFromCbor(decodeCanonical(bytes));
}

/** The manifest as a stored object: the envelope (spec 0007 §2) around its CBOR map. */
export function sealManifest(manifest: Manifest): Uint8Array {
  const map = manifestToCbor(manifest);
  manifestFromCbor(map);
  return sealObject('manifest', map);
}

/** Read a stored manifest object. */
export function openManifest(bytes: Uint8Array, what = 'manifest'): Manifest {
  return manifestFromCbor(openObject(bytes, 'manifest', what).header, what);
}
