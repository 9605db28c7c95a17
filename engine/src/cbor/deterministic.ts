import { Decoder, Encoder, Tag } from 'cbor-x';
import { EngineError, quote } from '../errors.js';
import { encodeShortestFloat, isIntegerValued } from './float.js';
import { inspectCbor, MAX_DEPTH } from './inspect.js';
import { ALLOWED_TAGS, TAGS } from './tags.js';

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

// cbor-x keeps one output buffer per module, so one encoder serves keys and values alike.
const encoder = new Encoder(encoderOptions);
// copyBuffers: decoded byte strings are the caller's own, not views of the input.
const objectDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true } as never);
const mapDecoder = new Decoder({ useRecords: false, mapsAsObjects: false, copyBuffers: true } as never);

const TWO_32 = 0x100000000;
// -2^64 is valid CBOR but cbor-x can only write it as a bignum, so the profile stops one short.
const MIN_INT = -(1n << 64n) + 1n;
const MAX_INT = (1n << 64n) - 1n;

/** Sort order and plain-object safety for one object shape, cached by its key list. */
interface Shape {
  sortedKeys: string[];
  /** A fresh object keeps the sorted order (no array-index-like keys, no "__proto__"). */
  plain: boolean;
}
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 4096;
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

interface Walk {
  hasFloat: boolean;
}

/**
 * Paths name the offending field in errors, but building them for every field costs more than the
 * encoding itself. So the first pass runs without paths (null) and throws this marker on a refusal;
 * only then is the value walked again with paths, to word the error.
 */
const REFUSED = Symbol('refused');
type Path = string | null;

const key = (path: Path, k: string): Path => (path === null ? null : path ? `${path}.${k}` : k);
const index = (path: Path, i: number): Path => (path === null ? null : `${path}[${i}]`);

function fail(path: Path, why: string): never {
  if (path === null) throw REFUSED;
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

function normalizeBigint(value: bigint, path: Path): number | bigint {
  if (value < MIN_INT || value > MAX_INT) fail(path, `integer ${value} is outside -(2^64-1)..2^64-1`);
  return value >= -0x100000000n && value < 0x100000000n ? Number(value) : value;
}

/** A map key in its normalized form: text, or an integer as number (< 2^32) or bigint. */
function normalizeKey(key: unknown, path: Path): string | number | bigint {
  if (typeof key === 'string') {
    if (!key.isWellFormed()) fail(path, `map key ${quote(key)} has a lone surrogate`);
    return key;
  }
  if (typeof key === 'number') {
    if (!Number.isSafeInteger(key)) fail(path, `map key ${key} is not an integer`);
    return normalizeBigint(BigInt(key), path);
  }
  if (typeof key === 'bigint') return normalizeBigint(key, path);
  return fail(path, `map key ${quote(key)} must be text or an integer`);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function shapeOf(keys: string[], path: Path): Shape {
  const id = JSON.stringify(keys);
  let shape = shapes.get(id);
  if (!shape) {
    const encoded = keys.map((k) => ({ k, bytes: encoder.encode(normalizeKey(k, path)) as Uint8Array }));
    encoded.sort((x, y) => compare(x.bytes, y.bytes));
    shape = {
      sortedKeys: encoded.map((e) => e.k),
      plain: !keys.some((k) => ARRAY_INDEX.test(k) || k === '__proto__'),
    };
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(id, shape);
  }
  return shape;
}

/** Keys that are ASCII, already in canonical order (shorter first, then bytewise) and safe as object keys. */
function inCanonicalOrder(keys: string[]): boolean {
  let previous = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    for (let j = 0; j < k.length; j++) if (k.charCodeAt(j) > 0x7f) return false;
    if (i > 0 && (k.length < previous.length || (k.length === previous.length && k <= previous)))
      return false;
    const c = k.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39 && ARRAY_INDEX.test(k)) || k === '__proto__') return false;
    previous = k;
  }
  return true;
}

/** Check what a DreamDB tag holds before it is written, so the encoder never writes what the decoder refuses. */
function checkTagValue(tag: number, value: unknown, path: Path): void {
  const uint = (v: unknown) =>
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);
  const multihash = (v: unknown) =>
    v instanceof Uint8Array && v.length === 34 && v[0] === 0x1e && v[1] === 0x20;
  let ok: boolean;
  if (tag === TAGS.timeAnchor || tag === TAGS.duration) ok = uint(value);
  else if (tag === TAGS.multihash) ok = multihash(value);
  else if (tag === TAGS.modality)
    ok = typeof value === 'string'; // grammar: the data model's check
  else {
    const [mh, start, end] = Array.isArray(value) ? value : [];
    ok =
      Array.isArray(value) &&
      value.length === 3 &&
      multihash(mh) &&
      typeof start === 'number' &&
      typeof end === 'number' &&
      Number.isSafeInteger(end) &&
      start >= 0 &&
      start <= end;
  }
  if (!ok) fail(path, `tag ${tag} cannot hold ${quote(value)} (spec 0009 §3.2)`);
}

/**
 * Bring a value into the shape cbor-x encodes canonically. Copy-on-write: a part that needs no change
 * (keys already sorted, integers already small) is returned as it is, so records built in canonical
 * key order cost no allocation.
 */
function normalize(value: unknown, path: Path, walk: Walk, depth: number): unknown {
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
      if (depth >= MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH}`);
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v = normalize(value[i], index(path, i), walk, depth + 1);
          if (out === undefined && v !== value[i]) out = value.slice(0, i);
          if (out !== undefined) out.push(v);
        }
        return out ?? value;
      }
      if (value instanceof Tag) {
        if (!ALLOWED_TAGS.has(value.tag)) fail(path, `tag ${value.tag} is not a DreamDB tag (65521-65525)`);
        const inner = normalize(value.value, path === null ? null : `${path}<${value.tag}>`, walk, depth + 1);
        checkTagValue(value.tag, inner, path);
        return inner === value.value ? value : new Tag(inner, value.tag);
      }
      if (value instanceof Map) return normalizeMap(value, path, walk, depth);
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
          const v = normalize(record[k], key(path, k), walk, depth + 1);
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
        for (const k of shape.sortedKeys) out[k] = normalize(record[k], key(path, k), walk, depth + 1);
        return out;
      }
      const out = new Map<string, unknown>();
      for (const k of shape.sortedKeys) out.set(k, normalize(record[k], key(path, k), walk, depth + 1));
      return out;
    }
    default:
      return fail(path, `${typeof value} values have no DreamDB CBOR encoding`);
  }
}

function normalizeMap(
  value: Map<unknown, unknown>,
  path: Path,
  walk: Walk,
  depth: number,
): Map<unknown, unknown> {
  const entries = [...value.entries()].map(([key, v]) => {
    const k = normalizeKey(key, path);
    return { k, bytes: encoder.encode(k) as Uint8Array, v };
  });
  entries.sort((x, y) => compare(x.bytes, y.bytes));
  const out = new Map<unknown, unknown>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0 && compare(entries[i - 1]!.bytes, e.bytes) === 0) fail(path, `duplicate map key ${quote(e.k)}`);
    out.set(e.k, normalize(e.v, key(path, String(e.k)), walk, depth + 1));
  }
  return out;
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
  let normalized: unknown;
  try {
    normalized = normalize(value, null, walk, 0);
  } catch (error) {
    if (error !== REFUSED) throw error;
    normalize(value, '', { hasFloat: false }, 0); // again, with paths: throws the worded error
    throw error;
  }
  // cbor-x hands back a view into its shared output buffer; callers get bytes of their own.
  const bytes = encoder.encode(normalized);
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
    inspectCbor(bytes, true);
    return true;
  } catch {
    return false;
  }
}
