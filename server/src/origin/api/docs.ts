import {
  formatAddress,
  type IndexRecord,
  type Manifest,
  multihashFromHex,
  multihashToHex,
  type Tick,
  type Track,
  tickToHex,
} from '@dreamdb/engine';
import type {
  ConflictDoc,
  ConflictSideDoc,
  HybridHitDoc,
  IndexDoc,
  ItemDoc,
  LogEntryDoc,
  ManifestDoc,
  SearchHitDoc,
  TextHitDoc,
  TrackDoc,
  TrackRecordDoc,
  VectorPlanDoc,
} from '@dreamdb/engine/api';
import { findIndexKind, paramsOf, roleIndex, trackIndexes } from '@dreamdb/engine/indexes';
import type { HybridHit, ReadItem, SearchHit, TextHit } from '@dreamdb/engine/query';
import type { ConflictSide, MergeConflict } from '@dreamdb/engine/versions';
import { objectUri } from '../playback/urls.js';
import { Payload } from './negotiate.js';

/**
 * The documents the verb routes answer with, as trees for negotiate.ts: 64-bit integers stay bigints
 * (decimal strings in JSON, integers in CBOR) and stored values are Payloads. Item documents are the
 * lines `dreamdb read`/`range`/`stream` print, plus where the item's bytes are served.
 */

/** Where an item's bytes are: the dreamdb address, and the origin URL with the byte range in it. */
function location(space: string, address: ReadItem['address']) {
  return {
    address: formatAddress(address),
    url: objectUri(space, multihashFromHex(address.object)),
    range: { start: address.start, end: address.end },
  };
}

/** An item: its place on the timeline, where its bytes are, and (event and constant items) its payload. */
export function itemDoc(space: string, item: ReadItem): ItemDoc<bigint> {
  return {
    timeline: item.timeline,
    track: item.track,
    tick: item.tick,
    hex: tickToHex(item.tick),
    duration: item.duration,
    ...location(space, item.address),
    bytes: item.bytes.length,
    ...(item.payload !== undefined && { payload: new Payload(item.payload) }),
    ...(item.layer !== undefined && { layer: item.layer }),
  };
}

/** A search hit: the item, its place, and its cosine similarity to the query. */
export function hitDoc(space: string, hit: SearchHit): SearchHitDoc<bigint> {
  return {
    timeline: hit.timeline,
    track: hit.track,
    tick: hit.tick,
    hex: tickToHex(hit.tick),
    duration: hit.duration,
    score: hit.score,
    ...location(space, hit.address),
    payload: new Payload(hit.payload),
  };
}

/**
 * Where a moment of a timeline is seen, in the version that found it (a manifest hash, so the links keep
 * meaning the same thing): the item read at its tick, and the time-seek of the timeline's stream tracks.
 */
function links(space: string, manifest: string, timeline: string, track: string, tick: Tick) {
  const base = `/v0/spaces/${encodeURIComponent(space)}/timelines/${encodeURIComponent(timeline)}`;
  return {
    item: `${base}/tracks/${encodeURIComponent(track)}/items/${tick}?ref=${manifest}`,
    seek: `${base}/seek?t=${tick}&ref=${manifest}`,
  };
}

/** A text hit: the item's place, its BM25 score, the terms it matched (and in which fields), its links. */
export function textHitDoc(
  space: string,
  manifest: string,
  timeline: string,
  hit: TextHit,
): TextHitDoc<bigint> {
  return {
    timeline,
    track: hit.track,
    tick: hit.tick,
    hex: tickToHex(hit.tick),
    duration: hit.duration,
    score: hit.score,
    matches: hit.matches.map((m) => ({ term: m.term, fields: [...m.fields] })),
    ...links(space, manifest, timeline, hit.track, hit.tick),
  };
}

/** A fused hit: the moment, its reciprocal-rank score, and its rank and score in each query that found it. */
export function hybridHitDoc(space: string, manifest: string, hit: HybridHit): HybridHitDoc<bigint> {
  const { text, vector } = hit.matched;
  return {
    timeline: hit.timeline,
    track: hit.track,
    tick: hit.tick,
    hex: tickToHex(hit.tick),
    duration: hit.duration,
    score: hit.score,
    matched: {
      ...(text && {
        text: {
          rank: text.rank,
          score: text.score,
          terms: text.terms.map((m) => ({ term: m.term, fields: [...m.fields] })),
        },
      }),
      ...(vector && {
        vector: {
          rank: vector.rank,
          score: vector.score,
          track: vector.track,
          tick: vector.tick,
          hex: tickToHex(vector.tick),
        },
      }),
    },
    ...links(space, manifest, hit.timeline, hit.track, hit.tick),
  };
}

/**
 * How a vector query over `track` is answered: by its vector index (scheme, parameters, the probes and
 * re-rank asked for), or by an exact scan when asked to or when the track has no indexed vectors yet.
 */
export function vectorPlan(
  track: Track,
  knobs: { exact?: boolean | undefined; probes?: number | undefined; rerank?: number | undefined },
): VectorPlanDoc {
  const vector = roleIndex<{ probes?: number }>(track, 'vector');
  if (knobs.exact || !vector || vector.record.segments.length === 0) return { exact: true as const };
  const probes = knobs.probes ?? vector.params.probes;
  return {
    index: {
      ...indexDoc(vector.scheme, vector.record, track),
      ...(probes !== undefined && { probes }),
      ...(knobs.rerank !== undefined && { rerank: knobs.rerank }),
    },
  };
}

/** One of a track's indexes as listings show it: its scheme, role, size and the parameters its kind shows. */
export function indexDoc(scheme: string, record: IndexRecord, track: Track): IndexDoc {
  const kind = findIndexKind(scheme);
  const params = kind && paramsOf(kind, record, `track ${track.timeline}/${track.name} indexes.${scheme}`);
  return {
    scheme,
    ...(kind?.role && { role: kind.role }),
    segments: record.segments.length,
    items: record.segments.reduce((n, s) => n + s.count, 0),
    ...(kind?.summary && { params: kind.summary(params) }),
  };
}

/** A track's indexes by scheme, as listings show them (none: undefined). */
export function indexesDoc(track: Track): Pick<TrackDoc, 'indexes'> {
  const list = trackIndexes(track);
  if (list.length === 0) return {};
  return {
    indexes: Object.fromEntries(list.map(([scheme, record]) => [scheme, indexDoc(scheme, record, track)])),
  };
}

/** A track as listings show it: its definition and what its index says (count, first and last tick). */
export function trackDoc(track: Track): TrackRecordDoc<bigint> {
  return {
    timeline: track.timeline,
    name: track.name,
    kind: track.kind,
    modality: track.modality,
    items: track.index?.count ?? 0,
    first: track.index?.first,
    last: track.index?.last,
    rate: track.rate && `${track.rate.num}/${track.rate.den}`,
    codecs: track.codecs,
    init: track.init && multihashToHex(track.init),
    bucketDuration: track.bucketDuration,
    attrs: track.attrs && new Payload(track.attrs),
    ...indexesDoc(track),
  };
}

/** A manifest's place in history: its hash, parents, time, author and message (a log entry). */
export function manifestHeaderDoc(hash: Uint8Array, manifest: Manifest): LogEntryDoc<bigint> {
  return {
    manifest: multihashToHex(hash),
    parents: manifest.parents.map(multihashToHex),
    created: manifest.created,
    author: manifest.author,
    message: manifest.message,
  };
}

/** A manifest as resolve shows it: its hash, history, metadata, timelines and tracks. */
export function manifestDoc(
  hash: Uint8Array,
  manifest: Manifest,
): Omit<ManifestDoc<bigint>, 'space' | 'ref'> {
  return {
    ...manifestHeaderDoc(hash, manifest),
    timelines: manifest.timelines.map((t) => ({ name: t.name, genesis: t.genesis, title: t.title })),
    tracks: manifest.tracks.map(trackDoc),
  };
}

/** One side of a merge conflict: the item as that version has it, or the track for a track-level conflict. */
function sideDoc(space: string, side: ConflictSide): ConflictSideDoc<bigint> {
  if ('track' in side) return { track: trackDoc(side.track) };
  return {
    tick: side.tick,
    hex: tickToHex(side.tick),
    duration: side.duration,
    ...location(space, side.address),
    ...(side.payload !== undefined && { payload: new Payload(side.payload) }),
    ...(side.layer !== undefined && { layer: side.layer }),
  };
}

/** A merge conflict: where, why, and each side's value (a side that lacks the item is absent). */
export function conflictDoc(space: string, conflict: MergeConflict): ConflictDoc<bigint> {
  return {
    timeline: conflict.timeline,
    ...(conflict.track !== undefined && { track: conflict.track }),
    ...(conflict.tick !== undefined && { tick: conflict.tick, hex: tickToHex(conflict.tick) }),
    reason: conflict.reason,
    ...(conflict.base && { base: sideDoc(space, conflict.base) }),
    ...(conflict.ours && { ours: sideDoc(space, conflict.ours) }),
    ...(conflict.theirs && { theirs: sideDoc(space, conflict.theirs) }),
  };
}
