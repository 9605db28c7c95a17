import { Tag } from 'cbor-x';
import { compareBytes } from '../bytes.js';
import { EngineError, quote } from '../errors.js';
import { exactHalfBits } from './float.js';
import { MAX_DEPTH } from './inspect.js';
import { ALLOWED_TAGS, TAGS } from './tags.js';

/**
 * The deterministic CBOR encoder (spec 0009 §3): one pass over a JS value, writing straight into a
 * growable module-level buffer. Like inspect.ts it keeps its state in module variables: it is
 * synchronous and never re-entered, and per-call closures would cost more than the work on small items.
 * Map keys are encoded into arrays of their own (never into the output buffer), so sorting them
 * needs no nested use of the output state.
 */

const INITIAL_SIZE = 0x10000;
/** A buffer grown past this for one large value is dropped before the next call. */
const MAX_RETAINED = 0x800000;

let buf = new Uint8Array(INITIAL_SIZE);
let view = new DataView(buf.buffer);
let pos = 0;

const TWO_32 = 0x100000000;
const TWO_64 = 2 ** 64;
// -2^64 is valid CBOR but outside the profile (spec 0009 §3.3 item 2), so the range stops one short.
const MIN_INT = -(1n << 64n) + 1n;
const MAX_INT = (1n << 64n) - 1n;

const utf8 = new TextEncoder();

// Imported bindings copied into module constants: run through tsx (as the tests and benches are), reads
// of imports showed in profiles as getter calls.
const TagClass = Tag;
const TAG_ALLOWED = ALLOWED_TAGS;
const NESTING = MAX_DEPTH;
const halfBits = exactHalfBits;
const { timeAnchor: TIME_ANCHOR, duration: DURATION, multihash: MULTIHASH, modality: MODALITY } = TAGS;

/**
 * Paths name the offending field in errors, but building them for every field costs more than the
 * encoding itself. So the first pass runs without paths (null) and throws this marker on a refusal;
 * only then is the value encoded again with paths, to word the error.
 */
const REFUSED = Symbol('refused');
type Path = string | null;

const key = (path: Path, k: string): Path => (path === null ? null : path ? `${path}.${k}` : k);

function fail(path: Path, why: string): never {
  if (path === null) throw REFUSED;
  throw new EngineError('E_CBOR_VALUE', `${path || '(root)'}: ${why}`);
}

function grow(need: number): void {
  let size = buf.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(buf.buffer);
}

/** A head with an argument below 2^32 (every length, tag and small integer). */
function head(major: number, n: number): void {
  if (pos + 9 > buf.length) grow(pos + 9);
  const m = major << 5;
  if (n < 24) buf[pos++] = m | n;
  else if (n < 0x100) {
    buf[pos++] = m | 24;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = m | 25;
    buf[pos++] = n >>> 8;
    buf[pos++] = n & 0xff;
  } else {
    buf[pos++] = m | 26;
    view.setUint32(pos, n);
    pos += 4;
  }
}

/** An integer-valued number in (-2^64, 2^64), -0 included. */
function integer(v: number): void {
  if (v >= 0) {
    if (v < TWO_32) head(0, v);
    else long(0x1b, Math.floor(v / TWO_32), v % TWO_32);
  } else if (v >= -TWO_32) head(1, -1 - v);
  else {
    // -1 - v is not exact in doubles past 2^53; split |v| (exact) and take one off the split instead.
    const m = -v;
    const hi = Math.floor(m / TWO_32);
    const lo = m % TWO_32;
    if (lo === 0) long(0x3b, hi - 1, TWO_32 - 1);
    else long(0x3b, hi, lo - 1);
  }
}

function long(initial: number, hi: number, lo: number): void {
  if (pos + 9 > buf.length) grow(pos + 9);
  buf[pos] = initial;
  view.setUint32(pos + 1, hi);
  view.setUint32(pos + 5, lo);
  pos += 9;
}

function bigint(v: bigint, path: Path): void {
  if (v >= -0x100000000n && v < 0x100000000n) {
    integer(Number(v));
    return;
  }
  if (v < MIN_INT || v > MAX_INT) fail(path, `integer ${v} is outside -(2^64-1)..2^64-1`);
  if (pos + 9 > buf.length) grow(pos + 9);
  if (v > 0n) {
    buf[pos] = 0x1b;
    view.setBigUint64(pos + 1, v);
  } else {
    buf[pos] = 0x3b;
    view.setBigUint64(pos + 1, -1n - v);
  }
  pos += 9;
}

/** A number that is not integer-valued: the shortest of half, single and double that holds it exactly. */
function float(v: number): void {
  if (pos + 9 > buf.length) grow(pos + 9);
  if (Math.fround(v) !== v && !Number.isNaN(v)) {
    buf[pos] = 0xfb;
    view.setFloat64(pos + 1, v);
    pos += 9;
    return;
  }
  const half = halfBits(v);
  if (half !== undefined) {
    buf[pos] = 0xf9;
    buf[pos + 1] = half >>> 8;
    buf[pos + 2] = half & 0xff;
    pos += 3;
  } else {
    buf[pos] = 0xfa;
    view.setFloat32(pos + 1, v);
    pos += 5;
  }
}

function number(v: number): void {
  // isIntegerValued (float.ts), inlined: integral values in (-2^64, 2^64) are integers, -0 is 0.
  if (Number.isInteger(v) && v > -TWO_64 && v < TWO_64) integer(v);
  else float(v);
}

const headSize = (n: number): number => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

function text(s: string, path: Path): void {
  const n = s.length;
  // Room for the widest head and UTF-8 (at most 3 bytes per UTF-16 unit), so nothing below grows.
  if (pos + 3 * n + 9 > buf.length) grow(pos + 3 * n + 9);
  // ASCII (the common case) is its own UTF-8 and always well formed: write it as it is scanned.
  if (n < 0x100) {
    let p = n < 24 ? pos + 1 : pos + 2;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === n) {
      if (n < 24) buf[pos] = 0x60 | n;
      else {
        buf[pos] = 0x78;
        buf[pos + 1] = n;
      }
      pos = p;
      return;
    }
  }
  if (!s.isWellFormed()) fail(path, 'text has a lone surrogate (not valid UTF-16, so not UTF-8 either)');
  // Encode past the widest head, then write the head and close the gap.
  const { written } = utf8.encodeInto(s, buf.subarray(pos + 5));
  const at = pos + 5;
  head(3, written);
  if (pos !== at) buf.copyWithin(pos, at, at + written);
  pos += written;
}

function bytes(b: Uint8Array): void {
  const n = b.length;
  head(2, n);
  if (pos + n > buf.length) grow(pos + n);
  if (n < 32) for (let i = 0; i < n; i++) buf[pos + i] = b[i]!;
  else buf.set(b, pos);
  pos += n;
}

/** The encoding of a map key on its own: text or an integer already within the profile's range. */
function keyBytes(k: string | number | bigint): Uint8Array {
  if (typeof k === 'string') {
    const n = k.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (k.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    const body = ascii ? null : utf8.encode(k);
    const len = body ? body.length : n;
    const h = headSize(len);
    const out = new Uint8Array(h + len);
    if (h === 1) out[0] = 0x60 | len;
    else if (h === 2) out.set([0x78, len]);
    else if (h === 3) out.set([0x79, len >>> 8, len & 0xff]);
    else {
      out[0] = 0x7a;
      new DataView(out.buffer).setUint32(1, len);
    }
    if (body) out.set(body, h);
    else for (let i = 0; i < n; i++) out[h + i] = k.charCodeAt(i);
    return out;
  }
  // An integer key: encode it with the value encoder into a fresh buffer of its own.
  const out = new Uint8Array(9);
  const view9 = new DataView(out.buffer);
  let v: bigint | number = k;
  let major = 0;
  if (typeof v === 'number' ? v < 0 : v < 0n) {
    major = 0x20;
    v = typeof v === 'number' ? -1 - v : -1n - v;
  }
  if (typeof v === 'bigint') {
    out[0] = major | 27;
    view9.setBigUint64(1, v);
    return out;
  }
  if (v < 24) out[0] = major | v;
  else if (v < 0x100) {
    out[0] = major | 24;
    out[1] = v;
    return out.subarray(0, 2);
  } else if (v < 0x10000) {
    out[0] = major | 25;
    view9.setUint16(1, v);
    return out.subarray(0, 3);
  } else {
    out[0] = major | 26;
    view9.setUint32(1, v);
    return out.subarray(0, 5);
  }
  return out.subarray(0, 1);
}

/** Within the profile's integer range, integers below 2^32 as numbers and the rest as bigints. */
function normalizeBigint(value: bigint, path: Path): number | bigint {
  if (value < MIN_INT || value > MAX_INT) fail(path, `integer ${value} is outside -(2^64-1)..2^64-1`);
  return value >= -0x100000000n && value < 0x100000000n ? Number(value) : value;
}

/** A map key in its normalized form: text, or an integer as number (< 2^32) or bigint. */
function normalizeKey(k: unknown, path: Path): string | number | bigint {
  if (typeof k === 'string') {
    if (!k.isWellFormed()) fail(path, `map key ${quote(k)} has a lone surrogate`);
    return k;
  }
  if (typeof k === 'number') {
    if (!Number.isSafeInteger(k)) fail(path, `map key ${k} is not an integer`);
    return normalizeBigint(BigInt(k), path);
  }
  if (typeof k === 'bigint') return normalizeBigint(k, path);
  return fail(path, `map key ${quote(k)} must be text or an integer`);
}

/** The sort order and encoded keys of one object shape (its list of own enumerable keys). */
interface Shape {
  /** The keys in insertion order: the shape's identity. */
  keys: string[];
  /** The keys in canonical order (by their encoded bytes). */
  sorted: string[];
  /** The encoded keys in canonical order, back to back; key i spans offsets[i]..offsets[i + 1]. */
  keyBytes: Uint8Array;
  offsets: Uint32Array;
  /** For each key in canonical order, its index in insertion order. */
  order: Uint32Array;
}

/** Shapes by their first key; objects of a kind share their first key, so a bucket stays short. */
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;
const MAX_SHAPES = 4096;
const MAX_BUCKET = 8;
/** Objects with more keys than this are sorted on each encode instead of being cached. */
const MAX_SHAPE_KEYS = 64;

function makeShape(keys: string[], path: Path): Shape {
  const n = keys.length;
  const encoded: { k: string; i: number; bytes: Uint8Array }[] = new Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (!k.isWellFormed()) fail(path, `map key ${quote(k)} has a lone surrogate`);
    const bytes = keyBytes(k);
    encoded[i] = { k, i, bytes };
    total += bytes.length;
  }
  encoded.sort((x, y) => compareBytes(x.bytes, y.bytes));
  const keyBytesAll = new Uint8Array(total);
  const offsets = new Uint32Array(n + 1);
  const sorted: string[] = new Array(n);
  const order = new Uint32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const e = encoded[i]!;
    sorted[i] = e.k;
    order[i] = e.i;
    offsets[i] = at;
    keyBytesAll.set(e.bytes, at);
    at += e.bytes.length;
  }
  offsets[n] = at;
  return { keys: keys.slice(), sorted, keyBytes: keyBytesAll, offsets, order };
}

function shapeOf(keys: string[], path: Path): Shape {
  const n = keys.length;
  if (n > MAX_SHAPE_KEYS) return makeShape(keys, path);
  const first = keys[0]!;
  let bucket = shapes.get(first);
  if (bucket !== undefined) {
    next: for (let b = 0; b < bucket.length; b++) {
      const shape = bucket[b]!;
      const known = shape.keys;
      if (known.length !== n) continue;
      for (let i = 1; i < n; i++) if (known[i] !== keys[i]) continue next;
      return shape;
    }
  }
  const shape = makeShape(keys, path);
  if (shapeCount >= MAX_SHAPES) {
    shapes.clear();
    shapeCount = 0;
    bucket = undefined;
  }
  if (bucket === undefined) {
    bucket = [];
    shapes.set(first, bucket);
  }
  if (bucket.length >= MAX_BUCKET) bucket.pop();
  else shapeCount++;
  bucket.unshift(shape);
  return shape;
}

function object(record: Record<string, unknown>, path: Path, depth: number): void {
  const keys = Object.keys(record);
  const n = keys.length;
  if (n === 0) {
    head(5, 0);
    return;
  }
  const shape = shapeOf(keys, path);
  const sorted = shape.sorted;
  const kb = shape.keyBytes;
  const offsets = shape.offsets;
  const order = shape.order;
  const values = Object.values(record);
  head(5, n);
  for (let i = 0; i < n; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (pos + (to - from) > buf.length) grow(pos + (to - from));
    for (let j = from; j < to; j++) buf[pos++] = kb[j]!;
    value(values[order[i]!], path === null ? null : key(path, sorted[i]!), depth + 1);
  }
}

function map(m: Map<unknown, unknown>, path: Path, depth: number): void {
  const entries: { k: string | number | bigint; bytes: Uint8Array; v: unknown }[] = [];
  for (const [k, v] of m) {
    const nk = normalizeKey(k, path);
    entries.push({ k: nk, bytes: keyBytes(nk), v });
  }
  entries.sort((x, y) => compareBytes(x.bytes, y.bytes));
  head(5, entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0 && compareBytes(entries[i - 1]!.bytes, e.bytes) === 0)
      fail(path, `duplicate map key ${quote(e.k)}`);
    const kb = e.bytes;
    if (pos + kb.length > buf.length) grow(pos + kb.length);
    buf.set(kb, pos);
    pos += kb.length;
    value(e.v, path === null ? null : key(path, String(e.k)), depth + 1);
  }
}

/** An integer in the profile's range, as a number or a bigint (the shapes the encoder writes as integers). */
function isInteger(v: unknown): boolean {
  return typeof v === 'number'
    ? Number.isInteger(v) && v > -TWO_64 && v < TWO_64
    : typeof v === 'bigint' && v >= MIN_INT && v <= MAX_INT;
}

const isMultihash = (v: unknown): boolean =>
  v instanceof Uint8Array && v.length === 34 && v[0] === 0x1e && v[1] === 0x20;

/**
 * Check what a DreamDB tag holds (after its content was encoded, so errors inside the content come
 * first), so the encoder never writes what the decoder refuses.
 */
function checkTagValue(tag: number, inner: unknown, path: Path): void {
  let ok: boolean;
  if (tag === TIME_ANCHOR || tag === DURATION) {
    ok = isInteger(inner) && (inner as number | bigint) >= 0;
  } else if (tag === MULTIHASH) ok = isMultihash(inner);
  else if (tag === MODALITY)
    ok = typeof inner === 'string'; // grammar: the data model's check
  else {
    // item address [multihash, start, end]: integers with 0 <= start <= end <= 2^53 - 1 (spec 0009 §3.3)
    ok = false;
    if (Array.isArray(inner) && inner.length === 3 && isMultihash(inner[0])) {
      const [, start, end] = inner as unknown[];
      if (isInteger(start) && isInteger(end)) {
        const s = Number(start);
        const e = Number(end);
        ok = s >= 0 && s <= e && e <= Number.MAX_SAFE_INTEGER;
      }
    }
  }
  if (!ok) fail(path, `tag ${tag} cannot hold ${quote(normalized(inner))} (spec 0009 §3.2)`);
}

function tag(t: Tag, path: Path, depth: number): void {
  const n = t.tag;
  if (!TAG_ALLOWED.has(n)) fail(path, `tag ${n} is not a DreamDB tag (65521-65525)`);
  head(6, n);
  const inner = t.value;
  value(inner, path === null ? null : `${path}<${n}>`, depth + 1);
  checkTagValue(n, inner, path);
}

function value(v: unknown, path: Path, depth: number): void {
  switch (typeof v) {
    case 'string':
      text(v, path);
      return;
    case 'number':
      number(v);
      return;
    case 'bigint':
      bigint(v, path);
      return;
    case 'boolean':
      if (pos + 1 > buf.length) grow(pos + 1);
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'object': {
      if (v === null) {
        if (pos + 1 > buf.length) grow(pos + 1);
        buf[pos++] = 0xf6;
        return;
      }
      if (v instanceof Uint8Array) {
        bytes(v);
        return;
      }
      if (depth >= NESTING) fail(path, `nesting deeper than ${NESTING}`);
      if (Array.isArray(v)) {
        const n = v.length;
        head(4, n);
        for (let i = 0; i < n; i++) value(v[i], path === null ? null : `${path}[${i}]`, depth + 1);
        return;
      }
      // Plain objects first: their prototypes rule out Tag and Map, and they are the common case.
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) {
        object(v as Record<string, unknown>, path, depth);
        return;
      }
      if (v instanceof TagClass) {
        tag(v, path, depth);
        return;
      }
      if (v instanceof Map) {
        map(v, path, depth);
        return;
      }
      fail(path, `${proto?.constructor?.name ?? 'object'} values have no DreamDB CBOR encoding`);
      return;
    }
    default:
      fail(path, `${typeof v} values have no DreamDB CBOR encoding`);
  }
}

/**
 * A value as the encoder sees it, for quoting in an error: integers of 2^32 and beyond as bigints,
 * smaller ones as numbers, object keys in canonical order.
 */
function normalized(v: unknown): unknown {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v <= -TWO_64 || v >= TWO_64) return v;
    return v >= -TWO_32 && v < TWO_32 ? v + 0 : BigInt(v);
  }
  if (typeof v === 'bigint') return v >= -0x100000000n && v < 0x100000000n ? Number(v) : v;
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(normalized);
  if (v instanceof TagClass) return new TagClass(normalized(v.value), v.tag);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, normalized(x)]));
  const record = v as Record<string, unknown>;
  const keys = Object.keys(record);
  const sorted = keys.map((k) => ({ k, bytes: keyBytes(k) })).sort((x, y) => compareBytes(x.bytes, y.bytes));
  // Keys that a fresh object would reorder (array indexes) or treat specially keep a Map, as JSON "{}".
  if (keys.some((k) => /^(0|[1-9][0-9]*)$/.test(k) || k === '__proto__')) return new Map();
  const out: Record<string, unknown> = {};
  for (const { k } of sorted) out[k] = normalized(record[k]);
  return out;
}

/** Encode `value` into the module buffer and return its length: the bytes are buf[0, length). */
function emit(v: unknown): number {
  if (buf.length > MAX_RETAINED) {
    buf = new Uint8Array(INITIAL_SIZE);
    view = new DataView(buf.buffer);
  }
  pos = 0;
  try {
    value(v, null, 0);
  } catch (error) {
    if (error !== REFUSED) throw error;
    pos = 0;
    value(v, '', 0); // again, with paths: throws the worded error
    throw new EngineError('E_CBOR_VALUE', '(root): the value changed while it was being encoded');
  }
  return pos;
}

/**
 * The deterministic encoding of `v`, in an array of its own. Refusals are EngineError E_CBOR_VALUE
 * naming the path of the offending field.
 */
export function emitCopy(v: unknown): Uint8Array {
  const n = emit(v); // first: it may replace buf
  return buf.slice(0, n);
}

/** As emitCopy, but a view of the module buffer: valid only until the next encode. */
export function emitView(v: unknown): Uint8Array {
  const n = emit(v); // first: it may replace buf
  return buf.subarray(0, n);
}
