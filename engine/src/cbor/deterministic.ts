import { Decoder, Tag } from 'cbor-x';
import { EngineError } from '../errors.js';
import { emitCopy, emitView } from './emit.js';
import { inspectCbor } from './inspect.js';

/**
 * Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding, DreamDB profile in spec 0009 §3).
 * Encoding is emit.ts's one-pass encoder; decoding is cbor-x behind a strict structural pass
 * (inspect.ts) that refuses anything the encoder would not have written.
 */

/** A value the DreamDB profile can encode. Text-keyed maps may be plain objects or Maps. */
export type CborValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Tag
  | CborValue[]
  | Map<string | number | bigint, CborValue>
  | { [key: string]: CborValue };

// copyBuffers: decoded byte strings are the caller's own, not views of the input.
const objectDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true } as never);
const mapDecoder = new Decoder({ useRecords: false, mapsAsObjects: false, copyBuffers: true } as never);

/** Encode a value in DreamDB's deterministic CBOR; the same value always gives the same bytes. */
export function encodeCanonical(value: unknown): Uint8Array {
  return emitCopy(value);
}

/**
 * encodeCanonical without the copy: a view of the encoder's shared buffer, valid only until the next
 * encode. For callers that copy the bytes at once (into an arena, a hash, a write).
 */
export function encodeCanonicalView(value: unknown): Uint8Array {
  return emitView(value);
}

/**
 * Decode bytes that MUST be deterministic CBOR: malformed or non-canonical input is refused with an
 * error naming the byte offset. Text-keyed maps decode as objects, other maps as Map; integers that
 * needed 8 bytes decode as bigint.
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new EngineError('E_CBOR_MALFORMED', 'input is not a byte array');
  const { needsMaps } = inspectCbor(bytes);
  // cbor-x caches a DataView on the array it reads; give it a fresh view so the caller's array stays clean.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return needsMaps ? textMapsToObjects(mapDecoder.decode(view)) : objectDecoder.decode(view);
}

/** After a Map-mode decode: text-keyed maps (without "__proto__") become objects, as in object mode. */
function textMapsToObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(textMapsToObjects);
  if (value instanceof Tag) return new Tag(textMapsToObjects(value.value), value.tag);
  if (value instanceof Map) {
    const textKeys = [...value.keys()].every((k) => typeof k === 'string' && k !== '__proto__');
    if (!textKeys) return new Map([...value].map(([k, v]) => [k, textMapsToObjects(v)]));
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[k as string] = textMapsToObjects(v);
    return out;
  }
  return value;
}

/** True when `bytes` are exactly what encodeCanonical gives for their value. */
export function isCanonical(bytes: Uint8Array): boolean {
  try {
    inspectCbor(bytes);
    return true;
  } catch {
    return false;
  }
}
