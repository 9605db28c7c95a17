import {
  formatAddress,
  type Manifest,
  multihashFromHex,
  multihashToHex,
  type ReadItem,
  type SearchHit,
  type Track,
  tickToHex,
} from '@dreamdb/engine';
import { objectUri } from './context.js';
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
export function itemDoc(space: string, item: ReadItem) {
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
export function hitDoc(space: string, hit: SearchHit) {
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

/** A track as listings show it: its definition and what its index says (count, first and last tick). */
export function trackDoc(track: Track) {
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
  };
}

/** A manifest as resolve shows it: its hash, history, metadata, timelines and tracks. */
export function manifestDoc(hash: Uint8Array, manifest: Manifest) {
  return {
    manifest: multihashToHex(hash),
    parents: manifest.parents.map(multihashToHex),
    created: manifest.created,
    author: manifest.author,
    message: manifest.message,
    timelines: manifest.timelines.map((t) => ({ name: t.name, genesis: t.genesis, title: t.title })),
    tracks: manifest.tracks.map(trackDoc),
  };
}
