import { EngineError } from '../errors.js';
import { exactHalfBits, halfToNumber, isIntegerValued } from './float.js';
import { ALLOWED_TAGS, TAGS } from './tags.js';

/**
 * A structural pass over CBOR bytes that cbor-x does not offer: it checks DreamDB's deterministic
 * profile (spec 0009 §3) without building values.
 * The walk keeps its state in module variables (as cbor-x does): it is synchronous and never re-entered,
 * and per-call closures would cost more than the walk itself on small items.
 */

/** What a pass learned about the bytes. */
export interface Inspection {
  /** Some map has a key that is not text (or is "__proto__"), so maps must decode as Map. */
  needsMaps: boolean;
}

/** Arrays, maps and tags nest at most this deep, so hostile input cannot exhaust the stack. */
export const MAX_DEPTH = 256;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PROTO = [0x69, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // text "__proto__"

let bytes: Uint8Array = new Uint8Array(0);
let view: DataView = new DataView(bytes.buffer);
let pos = 0;
let result: Inspection = { needsMaps: false };

function malformed(offset: number, why: string): EngineError {
  return new EngineError('E_CBOR_MALFORMED', `at byte ${offset}: ${why}`);
}

function noncanonical(offset: number, why: string): EngineError {
  return new EngineError('E_CBOR_NONCANONICAL', `at byte ${offset}: ${why}`);
}

function need(n: number, start: number): void {
  if (pos + n > bytes.length) throw malformed(start, `needs ${n} more bytes but the input ends`);
}

function compareSlices(a0: number, a1: number, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = bytes[a0 + i]! - bytes[b0 + i]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/** Read the argument of the head at `start` (pos is just past the initial byte). */
function argument(info: number, start: number): number | bigint {
  if (info < 24) return info;
  if (info === 24) {
    need(1, start);
    const v = bytes[pos++]!;
    if (v < 24) throw noncanonical(start, `argument ${v} should be in the initial byte`);
    return v;
  }
  if (info === 25) {
    need(2, start);
    const v = view.getUint16(pos);
    pos += 2;
    if (v < 0x100) throw noncanonical(start, `argument ${v} is not in its shortest form`);
    return v;
  }
  if (info === 26) {
    need(4, start);
    const v = view.getUint32(pos);
    pos += 4;
    if (v < 0x10000) throw noncanonical(start, `argument ${v} is not in its shortest form`);
    return v;
  }
  if (info === 27) {
    need(8, start);
    const v = view.getBigUint64(pos);
    pos += 8;
    if (v < 0x100000000n) throw noncanonical(start, `argument ${v} is not in its shortest form`);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (info === 31) {
    const major = bytes[start]! >> 5;
    if (major >= 2 && major <= 5) throw noncanonical(start, 'indefinite-length items are not allowed');
    throw malformed(start, `additional information 31 is not valid for major type ${major}`);
  }
  throw malformed(start, `reserved additional information ${info}`);
}

function length(info: number, start: number): number {
  const n = argument(info, start);
  if (typeof n === 'bigint') throw malformed(start, `length ${n} is larger than any input`);
  return n;
}

function checkFloat(value: number, width: number, start: number): void {
  if (Number.isNaN(value)) {
    if (width !== 2 || view.getUint16(start + 1) !== 0x7e00) throw noncanonical(start, 'NaN must be f9 7e00');
    return;
  }
  if (isIntegerValued(value)) throw noncanonical(start, `float ${value} is integral; write it as an integer`);
  if (width > 2 && exactHalfBits(value) !== undefined)
    throw noncanonical(start, `float ${value} fits a half`);
  if (width > 4 && Math.fround(value) === value) throw noncanonical(start, `float ${value} fits a single`);
}

function checkText(start: number, n: number): void {
  const end = pos + n;
  for (let i = pos; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        utf8.decode(bytes.subarray(pos, end));
      } catch {
        throw malformed(start, 'text string is not valid UTF-8');
      }
      return;
    }
  }
}

/** A 34-byte string holding a BLAKE3 multihash at pos (truncated input is malformed, not merely wrong). */
function multihashContent(wrong: () => EngineError): void {
  const start = pos;
  need(2, start);
  if (bytes[pos] !== 0x58 || bytes[pos + 1] !== 34) throw wrong();
  need(36, start);
  if (bytes[pos + 2] !== 0x1e || bytes[pos + 3] !== 0x20) throw wrong();
  pos += 36;
}

/** Read an unsigned integer item at pos (for tag contents), or undefined if it is not one. */
function readUint(): number | bigint | undefined {
  if (pos >= bytes.length || bytes[pos]! >> 5 !== 0) return undefined;
  const start = pos;
  pos++;
  return argument(bytes[start]! & 0x1f, start);
}

/** The content a DreamDB tag must carry (spec 0009 §3.2); the walk continues after it. */
function tagContent(tag: number, start: number, depth: number): void {
  need(1, start);
  const wrong = () => noncanonical(start, `tag ${tag} holds the wrong kind of item`);
  if (tag === TAGS.timeAnchor || tag === TAGS.duration) {
    if (readUint() === undefined) throw wrong();
    return;
  }
  if (tag === TAGS.multihash) {
    multihashContent(wrong);
    return;
  }
  if (tag === TAGS.modality) {
    // Text; its grammar (0002 §5) is the data model's to check, where the error can name the field.
    if (bytes[pos]! >> 5 !== 3) throw wrong();
    item(depth + 1);
    return;
  }
  // item address: [multihash bytes, uint start, uint end] with start <= end < 2^53
  if (bytes[pos] !== 0x83) throw wrong();
  pos++;
  multihashContent(wrong);
  const first = readUint();
  const last = readUint();
  if (typeof first !== 'number' || typeof last !== 'number' || first > last || !Number.isSafeInteger(last))
    throw wrong();
}

function isProtoKey(start: number, end: number): boolean {
  if (end - start !== PROTO.length) return false;
  for (let i = 0; i < PROTO.length; i++) if (bytes[start + i] !== PROTO[i]) return false;
  return true;
}

function map(n: number, depth: number): void {
  let prevStart = -1;
  let prevEnd = -1;
  for (let i = 0; i < n; i++) {
    const keyStart = pos;
    need(1, keyStart);
    const keyMajor = bytes[pos]! >> 5;
    if (keyMajor !== 0 && keyMajor !== 1 && keyMajor !== 3) {
      throw noncanonical(keyStart, 'map keys must be integers or text');
    }
    item(depth + 1);
    const keyEnd = pos;
    if (keyMajor !== 3 || isProtoKey(keyStart, keyEnd)) result.needsMaps = true;
    if (prevStart >= 0) {
      const order = compareSlices(prevStart, prevEnd, keyStart, keyEnd);
      if (order === 0) throw noncanonical(keyStart, 'duplicate map key');
      if (order > 0) throw noncanonical(keyStart, 'map keys are not sorted by their encoded bytes');
    }
    prevStart = keyStart;
    prevEnd = keyEnd;
    item(depth + 1);
  }
}

function item(depth: number): void {
  const start = pos;
  need(1, start);
  const initial = bytes[pos++]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      argument(info, start);
      return;
    case 1:
      if (argument(info, start) === 0xffffffffffffffffn) {
        throw noncanonical(start, 'integer -2^64 is outside the profile range -(2^64-1)..2^64-1');
      }
      return;
    case 2:
    case 3: {
      const n = length(info, start);
      need(n, start);
      if (major === 3) checkText(start, n);
      pos += n;
      return;
    }
    case 4: {
      const n = length(info, start);
      if (depth >= MAX_DEPTH) throw malformed(start, `nesting deeper than ${MAX_DEPTH}`);
      for (let i = 0; i < n; i++) item(depth + 1);
      return;
    }
    case 5: {
      const n = length(info, start);
      if (depth >= MAX_DEPTH) throw malformed(start, `nesting deeper than ${MAX_DEPTH}`);
      map(n, depth);
      return;
    }
    case 6: {
      const tag = argument(info, start);
      if (depth >= MAX_DEPTH) throw malformed(start, `nesting deeper than ${MAX_DEPTH}`);
      if (typeof tag !== 'number' || !ALLOWED_TAGS.has(tag)) {
        throw noncanonical(start, `tag ${tag} is not a DreamDB tag (65521-65525)`);
      }
      tagContent(tag, start, depth);
      return;
    }
    default: {
      if (info === 20 || info === 21 || info === 22) return; // false, true, null
      if (info >= 25 && info <= 27) {
        const width = 1 << (info - 24); // 2, 4 or 8 bytes
        need(width, start);
        const value =
          width === 2
            ? halfToNumber(view.getUint16(pos))
            : width === 4
              ? view.getFloat32(pos)
              : view.getFloat64(pos);
        pos += width;
        checkFloat(value, width, start);
        return;
      }
      if (info === 31) throw malformed(start, 'break code outside an indefinite-length item');
      if (info >= 28) throw malformed(start, `reserved additional information ${info}`);
      if (info === 24) {
        need(1, start);
        if (bytes[pos]! < 32)
          throw malformed(start, `simple value ${bytes[pos]} must not use the two-byte form`);
      }
      throw noncanonical(
        start,
        `simple value ${info === 24 ? bytes[pos] : info} is not allowed (only false, true, null)`,
      );
    }
  }
}

/**
 * Walk one CBOR data item spanning all of `input`, throwing on anything outside the deterministic
 * profile.
 */
export function inspectCbor(input: Uint8Array): Inspection {
  bytes = input;
  view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  pos = 0;
  const found: Inspection = { needsMaps: false };
  result = found;
  try {
    item(0);
    if (pos !== bytes.length) throw malformed(pos, `${bytes.length - pos} bytes after the end of the item`);
  } finally {
    bytes = new Uint8Array(0); // do not keep the caller's buffer alive
  }
  return found;
}
