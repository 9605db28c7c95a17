import { Decoder, Encoder, Tag } from 'cbor-x';
import { EngineError, quote } from '../errors.js';
import { encodeShortestFloat, isIntegerValued } from './float.js';
import { inspectCbor } from './inspect.js';
import { ALLOWED_TAGS } from './tags.js';

/**
 * Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding, DreamDB profile in spec 0009 §3)
 * through cbor-x. cbor-x writes shortest heads and definite lengths; this module adds what it lacks:
 * map keys sorted by their encoded bytes, shortest integers for bigint and large numbers, shortest
 * floats, refusal of values outside the profile, and a strict decoder.
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

const encoderOptions = {
  useRecords: false,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
  structuredClone: false,
  useTag259ForMaps: false,
  bundleStrings: false,
  largeBigIntToFloat: false,
} as const;

const keyEncoder = new Encoder(encoderOptions);
const valueEncoder = new Encoder(encoderOptions);
const objectDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const mapDecoder = new Decoder({ useRecords: false, mapsAsObjects: false });

const TWO_32 = 0x100000000;
// -2^64 is valid CBOR but cbor-x can only write it as a bignum, so the profile stops one short.
const MIN_INT = -(1n << 64n) + 1n;
const MAX_INT = (1n << 64n) - 1n;

/** Sort order and plain-object safety for one object shape, cached by its key list. */
interface Shape {
  sortedKeys: string[];
  /** Insertion order of a fresh object is the sorted order (no array-index-like keys). */
  plain: boolean;
}
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 4096;
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

interface Walk {
  hasFloat: boolean;
}

function fail(path: string, why: string): never {
  throw new EngineError('E_CBOR_VALUE', `${path || '(root)'}: ${why}`);
}

function normalizeNumber(value: number, walk: Walk): number | bigint {
  if (isIntegerValued(value)) {
    if (value >= -TWO_32 && value < TWO_32) return value === 0 ? 0 : value; // -0 becomes 0
    return BigInt(value);
  }
  // cbor-x writes every float as 9 bytes; only those a shorter float holds exactly need rewriting.
  if (Math.fround(value) === value || Number.isNaN(value)) walk.hasFloat = true;
  return value;
}

function normalizeBigint(value: bigint, path: string): number | bigint {
  if (value < MIN_INT || value > MAX_INT) fail(path, `integer ${value} is outside -(2^64-1)..2^64-1`);
  return value >= -0x100000000n && value < 0x100000000n ? Number(value) : value;
}

function encodedKey(key: string | number | bigint, path: string): Uint8Array {
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) fail(path, `map key ${key} is not an integer`);
    return keyEncoder.encode(normalizeBigint(BigInt(key), path));
  }
  if (typeof key === 'bigint') return keyEncoder.encode(normalizeBigint(key, path));
  if (typeof key === 'string') {
    if (!key.isWellFormed()) fail(path, `map key ${quote(key)} has a lone surrogate`);
    return keyEncoder.encode(key);
  }
  return fail(path, `map key ${quote(key)} must be text or an integer`);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function shapeOf(keys: string[], path: string): Shape {
  const id = keys.join('\u0000');
  let shape = shapes.get(id);
  if (!shape) {
    const encoded = keys.map((k) => ({ k, bytes: encodedKey(k, path) }));
    encoded.sort((x, y) => compare(x.bytes, y.bytes));
    shape = { sortedKeys: encoded.map((e) => e.k), plain: !keys.some((k) => ARRAY_INDEX.test(k)) };
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(id, shape);
  }
  return shape;
}

/** True when ASCII keys a, b are in canonical order (shorter first, then bytewise); false if unsure. */
function asciiOrdered(a: string, b: string): boolean {
  if (a.length !== b.length) return a.length < b.length && isAscii(a) && isAscii(b);
  return a < b && isAscii(a) && isAscii(b);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Keys already in canonical order with no index-like key: the object can be encoded as it is. */
function inCanonicalOrder(keys: string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!asciiOrdered(keys[i - 1]!, keys[i]!)) return false;
  for (const k of keys) if (ARRAY_INDEX.test(k)) return false;
  return true;
}

/**
 * Bring a value into the shape cbor-x encodes canonically. Copy-on-write: a part that needs no change
 * (keys already sorted, integers already small) is returned as it is, so records built in canonical
 * key order cost no allocation.
 */
function normalize(value: unknown, path: string, walk: Walk): unknown {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed())
        fail(path, 'text has a lone surrogate (not valid UTF-16, so not UTF-8 either)');
      return value;
    case 'number':
      return normalizeNumber(value, walk);
    case 'bigint':
      return normalizeBigint(value, path);
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (value instanceof Uint8Array) return value;
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v = normalize(value[i], `${path}[${i}]`, walk);
          if (out === undefined && v !== value[i]) out = value.slice(0, i);
          if (out !== undefined) out.push(v);
        }
        return out ?? value;
      }
      if (value instanceof Tag) {
        if (!ALLOWED_TAGS.has(value.tag)) fail(path, `tag ${value.tag} is not a DreamDB tag (65521-65525)`);
        const inner = normalize(value.value, `${path}<${value.tag}>`, walk);
        return inner === value.value ? value : new Tag(inner, value.tag);
      }
      if (value instanceof Map) return normalizeMap(value, path, walk);
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        fail(path, `${proto?.constructor?.name ?? 'object'} values have no DreamDB CBOR encoding`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (inCanonicalOrder(keys)) {
        let out: Record<string, unknown> | undefined;
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]!;
          const v = normalize(record[k], path ? `${path}.${k}` : k, walk);
          if (out === undefined && v !== record[k]) {
            out = {};
            for (let j = 0; j < i; j++) out[keys[j]!] = record[keys[j]!];
          }
          if (out !== undefined) out[k] = v;
        }
        return out ?? record;
      }
      const shape = shapeOf(keys, path);
      if (shape.plain) {
        const out: Record<string, unknown> = {};
        for (const k of shape.sortedKeys) out[k] = normalize(record[k], path ? `${path}.${k}` : k, walk);
        return out;
      }
      const out = new Map<string, unknown>();
      for (const k of shape.sortedKeys) out.set(k, normalize(record[k], path ? `${path}.${k}` : k, walk));
      return out;
    }
    default:
      return fail(path, `${typeof value} values have no DreamDB CBOR encoding`);
  }
}

function normalizeMap(value: Map<unknown, unknown>, path: string, walk: Walk): Map<unknown, unknown> {
  const entries = [...value.entries()].map(([k, v]) => ({
    k:
      typeof k === 'string'
        ? k
        : normalizeBigint(typeof k === 'number' ? toBigint(k, path) : (k as bigint), path),
    bytes: encodedKey(k as string | number | bigint, path),
    v,
  }));
  entries.sort((x, y) => compare(x.bytes, y.bytes));
  const out = new Map<unknown, unknown>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0 && compare(entries[i - 1]!.bytes, e.bytes) === 0) fail(path, `duplicate map key ${quote(e.k)}`);
    out.set(e.k, normalize(e.v, `${path}.${String(e.k)}`, walk));
  }
  return out;
}

function toBigint(key: number, path: string): bigint {
  if (!Number.isSafeInteger(key)) fail(path, `map key ${key} is not an integer`);
  return BigInt(key);
}

/** Rewrite the 9-byte floats of cbor-x's output into their shortest form (lengths in heads are counts). */
function shrinkFloats(bytes: Uint8Array): Uint8Array {
  const { longFloats } = inspectCbor(bytes, false);
  if (longFloats.length === 0) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let from = 0;
  let size = 0;
  for (const at of longFloats) {
    const head = bytes.subarray(from, at);
    const short = encodeShortestFloat(view.getFloat64(at + 1));
    parts.push(head, short);
    size += head.length + short.length;
    from = at + 9;
  }
  const tail = bytes.subarray(from);
  parts.push(tail);
  size += tail.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Encode a value in DreamDB's deterministic CBOR; the same value always gives the same bytes. */
export function encodeCanonical(value: unknown): Uint8Array {
  const walk: Walk = { hasFloat: false };
  const normalized = normalize(value, '', walk);
  // cbor-x hands back a view into its shared output buffer; callers get bytes of their own.
  const bytes = valueEncoder.encode(normalized);
  return walk.hasFloat ? shrinkFloats(bytes) : new Uint8Array(bytes);
}

/**
 * Decode bytes that MUST be deterministic CBOR: malformed or non-canonical input is refused with an
 * error naming the byte offset. Text-keyed maps decode as objects, other maps as Map; integers that
 * needed 8 bytes decode as bigint.
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new EngineError('E_CBOR_MALFORMED', 'input is not a byte array');
  const { needsMaps } = inspectCbor(bytes, true);
  // cbor-x caches a DataView on the array it reads; give it a fresh view so the caller's array stays clean.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (needsMaps ? mapDecoder : objectDecoder).decode(view);
}

/** True when `bytes` are exactly what encodeCanonical gives for their value. */
export function isCanonical(bytes: Uint8Array): boolean {
  try {
    inspectCbor(bytes, true);
    return true;
  } catch {
    return false;
  }
}
