import { Tag } from 'cbor-x';
import type { Multihash } from '../address/multihash.js';
import { TAGS } from '../cbor/tags.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { MAGIC, OBJECT_KINDS, openObject, sealObject } from './envelope.js';

/** Items larger than this are stored as parts (spec 0014 §4). */
export const ITEM_PART_BYTES = 64 * 1024 * 1024;

/** An item stored as parts: its size and its part objects, in order. */
export interface ItemManifest {
  readonly size: number;
  readonly parts: readonly { readonly object: Multihash; readonly size: number }[];
}

/**
 * The bytes that stand in a bucket for an item stored as parts: an envelope of kind 4 (spec 0007 §2).
 * No item can begin like it — a CMAF fragment begins with a box size and `moof`, an event item with a
 * CBOR map — so a reader knows an ItemManifest by its first six bytes.
 */
export function encodeItemManifest(manifest: ItemManifest): Uint8Array {
  const total = manifest.parts.reduce((n, p) => n + p.size, 0);
  if (total !== manifest.size) fieldError('item manifest', `parts hold ${total} bytes, not ${manifest.size}`);
  return sealObject('itemManifest', {
    v: 0,
    size: manifest.size,
    parts: manifest.parts.map((p) => [new Tag(p.object, TAGS.multihash), p.size]),
  });
}

/** Whether item bytes are an ItemManifest rather than the item itself. */
export function isItemManifest(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 12 && MAGIC.every((b, i) => bytes[i] === b) && bytes[5] === OBJECT_KINDS.itemManifest
  );
}

/** Read an ItemManifest, checking its parts add up to its size. */
export function decodeItemManifest(bytes: Uint8Array, what = 'item manifest'): ItemManifest {
  const { header } = openObject(bytes, 'itemManifest', what);
  const r = new FieldReader(header, what, ['v', 'size', 'parts']);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'item manifest version is not 0');
  const size = r.uint('size');
  const parts = r.array('parts').map((part, i) => {
    const [object, partSize] = Array.isArray(part) ? part : [];
    if (!(object instanceof Tag) || object.tag !== TAGS.multihash || typeof partSize !== 'number')
      fieldError(`${what}.parts[${i}]`, 'expected [multihash, size]');
    return { object: object.value as Multihash, size: partSize };
  });
  const total = parts.reduce((n, p) => n + p.size, 0);
  if (total !== size) fieldError(what, `parts hold ${total} bytes, not ${size}`);
  return { size, parts };
}
