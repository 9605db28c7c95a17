import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { tagDuration, tagTick } from '../cbor/tags.js';
import { MAX_TICK, type Tick } from '../time/ticks.js';
import { FieldReader, fieldError } from './fields.js';
import { assertName } from './names.js';
import type { Track } from './track.js';

/**
 * An Item: one value on a track at a tick (spec 0001 §5). It is not an object: items are packed into
 * bucket objects and located by byte range.
 */
export interface Item {
  readonly track: string;
  readonly tick: Tick;
  /** Stream items (fragments) and spans: how long the item lasts. */
  readonly duration?: Tick;
  /** Constant items: the correction layer; the lexicographically greatest layer wins. */
  readonly layer?: string;
  /** Bytes for stream items (a CMAF fragment); any CBOR value for event and constant items. */
  readonly payload: unknown;
}

/** An item must end on the timeline: tick + duration <= the last tick. */
function checkEnd(item: Item, path: string): void {
  if (item.duration !== undefined && item.tick + item.duration > MAX_TICK) {
    fieldError(
      `${path}.duration`,
      `the item at tick ${item.tick} lasting ${item.duration} ends past the last tick`,
    );
  }
}

/** Refuse an item that does not fit its track. */
export function validateItem(item: Item, track: Track, path = 'item'): Item {
  if (item.track !== track.name)
    fieldError(`${path}.track`, `item is for ${item.track}, not track ${track.name}`);
  checkEnd(item, path);
  if (track.kind === 'stream') {
    if (!(item.payload instanceof Uint8Array))
      fieldError(`${path}.payload`, 'a stream item holds bytes (a CMAF fragment)');
    if (item.duration === undefined || item.duration === 0n)
      fieldError(`${path}.duration`, 'a stream item needs a positive duration');
  }
  if (track.kind === 'constant' && item.layer === undefined)
    fieldError(`${path}.layer`, 'a constant item needs a layer');
  if (
    item.layer !== undefined &&
    (typeof item.layer !== 'string' || item.layer.length < 1 || item.layer.length > 255)
  )
    fieldError(`${path}.layer`, 'a layer is text of 1-255 characters');
  if (track.kind !== 'constant' && item.layer !== undefined)
    fieldError(`${path}.layer`, 'only constant items have layers');
  return item;
}

/** The CBOR map of an Item. */
export function itemToCbor(item: Item, trackNameChecked = false): Record<string, unknown> {
  // Keys in canonical order (tick, layer, track, payload, duration): the encoder then copies nothing.
  const out: Record<string, unknown> = { tick: tagTick(item.tick) };
  if (item.layer !== undefined) out.layer = item.layer;
  // A writer stages many items of a track whose name it checked once: it says so (the write path).
  out.track = trackNameChecked ? item.track : assertName(item.track, 'item.track');
  out.payload = item.payload;
  if (item.duration !== undefined) out.duration = tagDuration(item.duration);
  return out;
}

/** Read an Item from its decoded CBOR map (validate it against its track with validateItem). */
export function itemFromCbor(value: unknown, path = 'item'): Item {
  const r = new FieldReader(value, path, ['track', 'tick', 'duration', 'layer', 'payload']);
  const duration = r.optionalDuration('duration');
  const layer = r.optionalText('layer', 255);
  const item: Item = {
    track: r.name('track'),
    tick: r.tick('tick'),
    payload: r.raw('payload'),
    ...(duration !== undefined && { duration }),
    ...(layer !== undefined && { layer }),
  };
  checkEnd(item, path);
  return item;
}

/** Deterministic CBOR bytes of an Item, checked by the same rules its decoder applies. */
export function encodeItem(item: Item): Uint8Array {
  const map = itemToCbor(item);
  itemFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(map);
}

/** Decode an Item. */
export function decodeItem(bytes: Uint8Array): Item {
  return itemFromCbor(decodeCanonical(bytes));
}

/** A top-level field of a map payload (a decoded CBOR map, or a plain object); undefined for any other payload. */
export function payloadField(payload: unknown, name: string): unknown {
  if (payload instanceof Map) return payload.get(name);
  if (payload !== null && typeof payload === 'object') return (payload as Record<string, unknown>)[name];
  return undefined;
}
