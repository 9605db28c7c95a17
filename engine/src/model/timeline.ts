import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import type { UnixNanos } from '../time/clock.js';
import { FieldReader } from './fields.js';
import { assertName } from './names.js';

/**
 * A Timeline: one clock. Tick 0 is its genesis; `genesis` optionally ties tick 0 to wall-clock time as
 * signed Unix nanoseconds (spec 0003 §2).
 */
export interface Timeline {
  readonly name: string;
  readonly genesis?: UnixNanos;
  readonly title?: string;
}

/** The CBOR map of a Timeline. */
export function timelineToCbor(timeline: Timeline): Record<string, unknown> {
  const out: Record<string, unknown> = { name: assertName(timeline.name, 'timeline.name') };
  if (timeline.genesis !== undefined) out.genesis_unix_ns = timeline.genesis;
  if (timeline.title !== undefined) out.title = timeline.title;
  return out;
}

/** Read and validate a Timeline from its decoded CBOR map. */
export function timelineFromCbor(value: unknown, path = 'timeline'): Timeline {
  const r = new FieldReader(value, path, ['name', 'genesis_unix_ns', 'title']);
  const genesis = r.optionalInt64('genesis_unix_ns');
  const title = r.optionalText('title');
  return {
    name: r.name('name'),
    ...(genesis !== undefined && { genesis }),
    ...(title !== undefined && { title }),
  };
}

/** Deterministic CBOR bytes of a Timeline, checked by the same rules its decoder applies. */
export function encodeTimeline(timeline: Timeline): Uint8Array {
  const map = timelineToCbor(timeline);
  timelineFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(map);
}

/** Decode and validate a Timeline. */
export function decodeTimeline(bytes: Uint8Array): Timeline {
  return timelineFromCbor(decodeCanonical(bytes));
}
