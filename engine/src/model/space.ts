import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { FieldReader } from './fields.js';
import { assertName } from './names.js';

/** A Space: the unit of isolation; it owns timelines, objects and refs (spec 0001 §2). */
export interface Space {
  readonly name: string;
  readonly title?: string;
}

/** The CBOR map of a Space. */
export function spaceToCbor(space: Space): Record<string, unknown> {
  const out: Record<string, unknown> = { name: assertName(space.name, 'space.name') };
  if (space.title !== undefined) out.title = space.title;
  return out;
}

/** Read and validate a Space from its decoded CBOR map. */
export function spaceFromCbor(value: unknown, path = 'space'): Space {
  const r = new FieldReader(value, path, ['name', 'title']);
  const title = r.optionalText('title');
  return { name: r.name('name'), ...(title !== undefined && { title }) };
}

/** Deterministic CBOR bytes of a Space, checked by the same rules its decoder applies. */
export function encodeSpace(space: Space): Uint8Array {
  const map = spaceToCbor(space);
  spaceFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(map);
}

/** Decode and validate a Space. */
export function decodeSpace(bytes: Uint8Array): Space {
  return spaceFromCbor(decodeCanonical(bytes));
}
