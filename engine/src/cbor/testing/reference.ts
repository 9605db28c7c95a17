import { Encoder, Tag } from 'cbor-x';
import { EngineError, quote } from '../../errors.js';
import { exactHalfBits, isIntegerValued } from '../float.js';
import { MAX_DEPTH } from '../inspect.js';
import { ALLOWED_TAGS, TAGS } from '../tags.js';

/**
 * The deterministic encoder as it was before emit.ts (commit 94bef06): normalize the value, encode it
 * with cbor-x, then rewrite cbor-x's 9-byte floats into their shortest form. Kept for tests only, as an
 * independent reference the one-pass encoder must match byte for byte.
 */

/** The shortest CBOR encoding (major type 7) of a float: 3, 5 or 9 bytes. */
function encodeShortestFloat(value: number): Uint8Array {
  const half = exactHalfBits(value);
  if (half !== undefined) return Uint8Array.of(0xf9, half >>> 8, half & 0xff);
  if (Math.fround(value) === value) {
    const out = new Uint8Array(5);
    out[0] = 0xfa;
    new DataView(out.buffer).setFloat32(1, value);
    return out;
  }
  const out = new Uint8Array(9);
  out[0] = 0xfb;
  new DataView(out.buffer).setFloat64(1, value);
  return out;
}

/**
 * Offsets of the 9-byte floats (0xfb) that a shorter float holds, in cbor-x output (which is
 * well formed: definite lengths only). What inspect.ts's lax mode collected as longFloats.
 */
function findLongFloats(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: number[] = [];
  let pos = 0;
  const argument = (info: number): number => {
    if (info < 24) return info;
    const width = 1 << (info - 24);
    const v =
      width === 1
        ? bytes[pos]!
        : width === 2
          ? view.getUint16(pos)
          : width === 4
            ? view.getUint32(pos)
            : Number(view.getBigUint64(pos));
    pos += width;
    return v;
  };
  const item = (): void => {
    const start = pos;
    const initial = bytes[pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) {
      if (info >= 25 && info <= 27) {
        const width = 1 << (info - 24);
        if (width === 8) {
          const value = view.getFloat64(pos);
          if (exactHalfBits(value) !== undefined || Math.fround(value) === value) found.push(start);
        }
        pos += width;
      }
      return;
    }
    const n = argument(info);
    if (major === 2 || major === 3) pos += n;
    else if (major === 4) for (let i = 0; i < n; i++) item();
    else if (major === 5) for (let i = 0; i < 2 * n; i++) item();
    else if (major === 6) item();
  };
  item();
  return found;
}

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
    // One deliberate change from the old encoder: offsets up to 2^53 - 1 (spec 0009 §3.3), which the
    // normalized value holds as bigints from 2^32 up; the old one refused those.
    const [mh, start, end] = Array.isArray(value) ? value : [];
    const offset = (v: unknown) =>
      (typeof v === 'number' && Number.isInteger(v)) ||
      (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER));
    ok =
      Array.isArray(value) &&
      value.length === 3 &&
      multihash(mh) &&
      offset(start) &&
      offset(end) &&
      Number(start) >= 0 &&
      Number(start) <= Number(end);
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
  const longFloats = findLongFloats(bytes);
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
export function referenceEncode(value: unknown): Uint8Array {
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
