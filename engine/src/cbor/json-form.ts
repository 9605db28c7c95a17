import { Tag } from 'cbor-x';
import { EngineError, quote } from '../errors.js';
import { isIntegerValued } from './float.js';

/**
 * The JSON form of CBOR values used by `dreamdb cbor` and the vectors in spec/vectors/cbor.json
 * (spec 0009 §3.4). JSON has no bytes, tags, large integers or non-text keys, so these are written as
 * one-key-set objects: {"$bytes": hex}, {"$tag": n, "$value": v}, {"$bigint": "decimal"},
 * {"$float": "NaN" | "Infinity" | "-Infinity"}, {"$map": [[key, value], ...]}.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const HEX = /^(?:[0-9a-f]{2})*$/;
const BIGINT = /^-?(0|[1-9][0-9]*)$/;

function bad(path: string, why: string): never {
  throw new EngineError('E_CBOR_JSON', `${path || '(root)'}: ${why}`);
}

function onlyKeys(obj: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(obj, k));
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!];
  return out;
}

/** "00".."ff": one lookup per byte instead of a toString and a padStart (playlists hex every address). */
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Bytes from lowercase or uppercase hex (whitespace ignored); odd length or other characters refused. */
export function fromHex(text: string, what = 'hex'): Uint8Array {
  const clean = text.replace(/\s+/g, '').toLowerCase();
  if (!HEX.test(clean))
    throw new EngineError('E_CBOR_JSON', `${what} ${quote(text)} is not an even number of hex digits`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Turn the JSON form into a value encodeCanonical accepts. */
export function fromJsonForm(json: unknown, path = ''): unknown {
  if (json === null || typeof json === 'boolean' || typeof json === 'string') return json;
  if (typeof json === 'number') return json;
  if (Array.isArray(json)) return json.map((v, i) => fromJsonForm(v, `${path}[${i}]`));
  if (typeof json !== 'object') return bad(path, `${typeof json} is not JSON`);
  const obj = json as Record<string, unknown>;
  if (onlyKeys(obj, ['$bytes'])) {
    if (typeof obj.$bytes !== 'string') bad(path, '$bytes must be a hex string');
    return fromHex(obj.$bytes as string, `${path || '(root)'}.$bytes`);
  }
  if (onlyKeys(obj, ['$bigint'])) {
    if (typeof obj.$bigint !== 'string' || !BIGINT.test(obj.$bigint))
      bad(path, '$bigint must be a decimal string');
    return BigInt(obj.$bigint as string);
  }
  if (onlyKeys(obj, ['$float'])) {
    const names: Record<string, number> = {
      NaN: Number.NaN,
      Infinity: Number.POSITIVE_INFINITY,
      '-Infinity': Number.NEGATIVE_INFINITY,
    };
    const value = names[obj.$float as string];
    if (value === undefined) bad(path, '$float must be "NaN", "Infinity" or "-Infinity"');
    return value;
  }
  if (onlyKeys(obj, ['$tag', '$value'])) {
    const tag = obj.$tag;
    if (typeof tag !== 'number' || !Number.isSafeInteger(tag) || tag < 0)
      bad(path, '$tag must be a tag number');
    return new Tag(fromJsonForm(obj.$value, `${path}<${tag}>`), tag as number);
  }
  if (onlyKeys(obj, ['$map'])) {
    if (!Array.isArray(obj.$map)) bad(path, '$map must be an array of [key, value] pairs');
    const map = new Map<unknown, unknown>();
    (obj.$map as unknown[]).forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) bad(`${path}.$map[${i}]`, 'must be a [key, value] pair');
      const key = fromJsonForm(pair[0], `${path}.$map[${i}][0]`);
      if (map.has(key)) bad(`${path}.$map[${i}]`, `duplicate key ${quote(key)}`);
      map.set(key, fromJsonForm(pair[1], `${path}.$map[${i}][1]`));
    });
    return map;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('$')) bad(path, `key ${quote(k)} starts with "$"; write such maps as {"$map": [...]}`);
    out[k] = fromJsonForm(v, path ? `${path}.${k}` : k);
  }
  return out;
}

/** Turn a decoded value into the JSON form; the inverse of fromJsonForm for every canonical value. */
export function toJsonForm(value: unknown, path = ''): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $float: 'NaN' };
    if (!Number.isFinite(value)) return { $float: value > 0 ? 'Infinity' : '-Infinity' };
    if (isIntegerValued(value) && !Number.isSafeInteger(value)) return { $bigint: BigInt(value).toString() };
    return value;
  }
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : { $bigint: value.toString() };
  }
  if (value instanceof Uint8Array) return { $bytes: toHex(value) };
  if (value instanceof Tag)
    return { $tag: value.tag, $value: toJsonForm(value.value, `${path}<${value.tag}>`) };
  if (Array.isArray(value)) return value.map((v, i) => toJsonForm(v, `${path}[${i}]`));
  if (value instanceof Map) {
    const entries = [...value.entries()];
    if (entries.every(([k]) => typeof k === 'string' && !k.startsWith('$') && k !== '__proto__')) {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of entries) out[k] = toJsonForm(v, `${path}.${k}`);
      return out;
    }
    return { $map: entries.map(([k, v]) => [toJsonForm(k, path), toJsonForm(v, `${path}.${String(k)}`)]) };
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.some(([k]) => k.startsWith('$'))) {
      return { $map: entries.map(([k, v]) => [k, toJsonForm(v, `${path}.${k}`)]) };
    }
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of entries) out[k] = toJsonForm(v, path ? `${path}.${k}` : k);
    return out;
  }
  return bad(path, `${typeof value} has no JSON form`);
}
