import { tagTick, untagTick } from '../cbor/tags.js';
import { FieldReader, fieldError } from '../model/fields.js';
import type { Tick } from '../time/ticks.js';
import { openObject, sealObject } from './envelope.js';

/**
 * A DroppedTicks object (spec 0020 §2.1): the ticks of items an index segment still holds but its track
 * no longer does. Envelope kind 9, header only: {v: 1, ticks: [#6.65524(uint), ...]}, ascending, distinct.
 */
export function sealDroppedTicks(ticks: Iterable<Tick>): Uint8Array {
  const sorted = [...new Set(ticks)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0) fieldError('dropped ticks', 'at least one tick');
  return sealObject('droppedTicks', { v: 1, ticks: sorted.map(tagTick) });
}

/** The ticks of a DroppedTicks object, checked ascending and distinct. */
export function openDroppedTicks(bytes: Uint8Array, what = 'dropped ticks'): Tick[] {
  const r = new FieldReader(openObject(bytes, 'droppedTicks', what).header, what, ['v', 'ticks']);
  if (r.uint('v') !== 1) fieldError(r.at('v'), 'this engine reads version 1');
  const ticks = r.array('ticks').map((t, i) => untagTick(t, `${r.at('ticks')}[${i}]`));
  if (ticks.length === 0) fieldError(r.at('ticks'), 'at least one tick');
  for (let i = 1; i < ticks.length; i++)
    if (ticks[i]! <= ticks[i - 1]!) fieldError(r.at('ticks'), 'ticks must ascend, each once');
  return ticks;
}
