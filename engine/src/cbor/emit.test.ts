import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tag } from 'cbor-x';
import { EngineError } from '../errors.js';
import { decodeCanonical, encodeCanonical, encodeCanonicalView } from './deterministic.js';
import { halfToNumber } from './float.js';
import { toHex } from './json-form.js';
import { TAGS } from './tags.js';
import { referenceEncode } from './testing/reference.js';

/**
 * The one-pass encoder (emit.ts) against the encoder it replaced (testing/reference.ts: normalize,
 * cbor-x, then float shrinking): the same bytes for every value, the same refusal for every value
 * outside the profile, and bytes the strict decoder accepts.
 */

/** A small deterministic PRNG so random cases reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, options: readonly T[]): T => options[int(rand, options.length)]!;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

const SPECIAL_FLOATS = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.5,
  -1.5,
  65504, // largest half
  65505,
  2 ** -14, // smallest normal half
  2 ** -24, // smallest subnormal half
  -(2 ** -24),
  2 ** -25,
  3 * 2 ** -24,
  2 ** -126, // smallest normal single
  2 ** -149, // smallest subnormal single
  2 ** -150,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  3.4028234663852886e38, // largest single
  2 ** 64,
  -(2 ** 64),
  2 ** 64 + 2 ** 12,
  2 ** 70,
  1e300,
  0.1,
  1 / 3,
  Math.fround(0.1),
];

function randomFloat(rand: Rand): number {
  switch (int(rand, 7)) {
    case 0:
      return pick(rand, SPECIAL_FLOATS);
    case 1:
      return halfToNumber(int(rand, 0x10000)); // every half, subnormals, infinities and NaNs
    case 2:
      u32[0] = int(rand, 2 ** 32); // every single
      return f32[0]!;
    case 3:
      u64[0] = (BigInt(int(rand, 2 ** 32)) << 32n) | BigInt(int(rand, 2 ** 32)); // every double
      return f64[0]!;
    case 4:
      return (rand() - 0.5) * 10 ** int(rand, 20);
    case 5:
      return Math.fround(rand() * 2 ** int(rand, 60)) * (rand() < 0.5 ? -1 : 1);
    default:
      return int(rand, 1000) / 8 - 60; // halves and integers
  }
}

const BOUNDARIES = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 63, 2 ** 64];

/** An integer near a head-width boundary; out of the profile's range (as a bigint) only when `invalid`. */
function randomInteger(rand: Rand, invalid = false): number | bigint {
  const base = BigInt(pick(rand, BOUNDARIES));
  let v = base + BigInt(int(rand, 5) - 2);
  if (rand() < 0.5) v = -v;
  const max = (1n << 64n) - 1n;
  if (!invalid && (v > max || v < -max)) v = v < 0n ? -max : max;
  if (rand() < 0.5) return v; // as a bigint
  // As a number, which rounds: 2^64 - 1 becomes 2^64, a float (valid, but not where an integer must be).
  const n = Number(v);
  return !invalid && Math.abs(n) >= 2 ** 64 ? Math.sign(n) * (2 ** 64 - 2 ** 11) : n;
}

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. $~\u0000\u007f';
const UNICODE = ['é', 'ß', '€', '中', '😀', '\u0080', '\u07ff', '\u0800', '\uffff', '\u{10ffff}', '𝄞'];

function randomString(rand: Rand, length?: number): string {
  const n = length ?? pick(rand, [0, 1, 5, 23, 24, 30, 255, 256, 300, int(rand, 12)]);
  const unicode = rand() < 0.3;
  let s = '';
  while (s.length < n) s += unicode && rand() < 0.3 ? pick(rand, UNICODE) : ASCII[int(rand, ASCII.length)]!;
  return s;
}

function randomBytes(rand: Rand): Uint8Array {
  const n = pick(rand, [0, 1, 23, 24, 34, 255, 256, int(rand, 64)]);
  return Uint8Array.from({ length: n }, () => int(rand, 256));
}

function multihash(rand: Rand): Uint8Array {
  const out = Uint8Array.from({ length: 34 }, () => int(rand, 256));
  out[0] = 0x1e;
  out[1] = 0x20;
  return out;
}

function randomKey(rand: Rand): string {
  switch (int(rand, 6)) {
    case 0:
      return String(int(rand, 1000)); // array-index-like: objects enumerate these first
    case 1:
      return pick(rand, ['__proto__', 'constructor', 'toString', 'a', 'b', 'aa', 'tick', 'track', 'payload']);
    default:
      return randomString(rand, 1 + int(rand, rand() < 0.1 ? 40 : 8));
  }
}

/** A valid DreamDB tag, or (with `invalid`) one the encoder must refuse. */
function randomTag(rand: Rand, depth: number, invalid: boolean): Tag {
  const t = pick(rand, Object.values(TAGS));
  if (invalid && rand() < 0.3) return new Tag(randomValue(rand, depth + 1, invalid), t);
  if (invalid && rand() < 0.1) return new Tag(1, pick(rand, [0, 1, 2, 24, 65520, 65526, 2 ** 32]));
  switch (t) {
    case TAGS.timeAnchor:
    case TAGS.duration: {
      const v = randomInteger(rand, invalid);
      return new Tag(invalid || v >= 0 ? v : -v, t);
    }
    case TAGS.multihash:
      return new Tag(multihash(rand), t);
    case TAGS.modality:
      return new Tag(randomString(rand), t);
    default: {
      // offsets up to 2^32 - 1 are accepted, past it refused (the encoder's rule before and now)
      const starts = [int(rand, 100), 2 ** 32 - 3 - int(rand, 2)];
      if (invalid) starts.push(2 ** 32 - 1, 2 ** 32 + int(rand, 2));
      const start = pick(rand, starts);
      const end = start + int(rand, 3);
      const as = (v: number) => (rand() < 0.3 ? BigInt(v) : v);
      return new Tag([multihash(rand), as(start), as(end)], t);
    }
  }
}

function setKey(obj: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true });
  else obj[k] = v;
}

/** A random value; with `invalid`, now and then something outside the profile. */
function randomValue(rand: Rand, depth: number, invalid = false): unknown {
  if (invalid && rand() < 0.02) {
    return pick(rand, [
      undefined,
      () => 1,
      Symbol('s'),
      new Date(0),
      new Float32Array(2),
      new Set([1]),
      'a\ud800b',
      '\udc00',
      `${'x'.repeat(300)}\ud800`,
      -(2n ** 64n),
      2n ** 64n,
      new Map([[1.5, 1]]),
      new Map([[{}, 1]]),
      new Map([['\ud800', 1]]),
      new Map<unknown, number>([
        [1, 1],
        [1n, 2],
      ]),
      new Map<unknown, number>([
        ['a', 1],
        [2 ** 40, 2],
        [BigInt(2 ** 40), 3],
      ]),
      { '\ud800': 1 },
      new Tag(multihash(rand).subarray(1), TAGS.multihash),
      new Tag([multihash(rand), 5, 4], TAGS.itemAddress),
      new Tag(-1, TAGS.timeAnchor),
      new Tag(2 ** 64, TAGS.duration),
      new Tag(1.5, TAGS.timeAnchor),
    ]);
  }
  const leaf = depth > 4 || rand() < 0.4;
  switch (int(rand, leaf ? 8 : 13)) {
    case 0:
      return randomFloat(rand);
    case 1:
      return randomInteger(rand, invalid);
    case 2:
      return int(rand, 2 ** 20) - 2 ** 19;
    case 3:
      return randomString(rand);
    case 4:
      return randomBytes(rand);
    case 5:
      return pick(rand, [null, true, false]);
    case 6:
      return randomTag(rand, depth, invalid);
    case 7:
      return randomFloat(rand);
    case 8:
      return Array.from({ length: pick(rand, [0, 1, 3, 24, int(rand, 6)]) }, () =>
        randomValue(rand, depth + 1, invalid),
      );
    case 9: {
      const m = new Map<unknown, unknown>();
      for (let i = int(rand, 6); i > 0; i--) {
        const k = rand() < 0.5 ? randomKey(rand) : randomInteger(rand, invalid);
        if (typeof k === 'number' && !Number.isSafeInteger(k)) continue;
        if (typeof k === 'bigint' && (k < -(2n ** 64n) + 1n || k > 2n ** 64n - 1n)) continue;
        m.set(k, randomValue(rand, depth + 1, invalid));
      }
      // integer keys that collide after normalization (5 and 5n) are refused; keep them for invalid runs
      const normal = [...m.keys()].map((k) => (typeof k === 'string' ? `s${k}` : `i${BigInt(k as number)}`));
      if (!invalid && new Set(normal).size !== normal.length) return null;
      return m;
    }
    default: {
      const obj: Record<string, unknown> = rand() < 0.1 ? Object.create(null) : {};
      const n = rand() < 0.05 ? 70 + int(rand, 10) : int(rand, rand() < 0.1 ? 30 : 6);
      for (let i = 0; i < n; i++) setKey(obj, randomKey(rand), randomValue(rand, depth + 1, invalid));
      return obj;
    }
  }
}

/** The bytes of encodeCanonical, or the message it refuses with. */
function outcome(encode: (v: unknown) => Uint8Array, value: unknown): string {
  try {
    return toHex(encode(value));
  } catch (error) {
    assert.ok(error instanceof EngineError, `${error} is not an EngineError`);
    assert.equal(error.code, 'E_CBOR_VALUE');
    return `refused: ${error.message}`;
  }
}

test('the one-pass encoder writes exactly what the cbor-x based encoder wrote', () => {
  const rand = prng(20_240_601);
  let bytes = 0;
  for (let i = 0; i < 10_000; i++) {
    const value = randomValue(rand, 0);
    const got = outcome(encodeCanonical, value);
    assert.equal(got, outcome(referenceEncode, value), `case ${i}`);
    assert.ok(!got.startsWith('refused'), `case ${i}: ${got}`);
    bytes += got.length / 2;
  }
  assert.ok(bytes > 500_000, `only ${bytes} bytes compared`);
});

test('the one-pass encoder refuses what the cbor-x based encoder refused, in the same words', () => {
  const rand = prng(424_242);
  let refused = 0;
  for (let i = 0; i < 10_000; i++) {
    const value = randomValue(rand, 0, true);
    const got = outcome(encodeCanonical, value);
    assert.equal(got, outcome(referenceEncode, value), `case ${i}`);
    if (got.startsWith('refused')) refused++;
  }
  assert.ok(refused > 500, `only ${refused} refusals`);
});

test('encode -> strict decode -> encode gives the same bytes on random values', () => {
  const rand = prng(99);
  for (let i = 0; i < 5000; i++) {
    const bytes = encodeCanonical(randomValue(rand, 0));
    const again = encodeCanonical(decodeCanonical(bytes));
    assert.equal(toHex(again), toHex(bytes), `case ${i}`);
  }
});

test('every half, and singles and doubles at random, take the same shortest form as before', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const v = halfToNumber(bits);
    assert.equal(toHex(encodeCanonical(v)), toHex(referenceEncode(v)), `half ${bits.toString(16)}`);
  }
  const rand = prng(5);
  for (let i = 0; i < 50_000; i++) {
    const v = randomFloat(rand);
    assert.equal(toHex(encodeCanonical(v)), toHex(referenceEncode(v)), `${v}`);
  }
});

test('integers at the 2^32, 2^53 and 2^64 boundaries, as numbers and bigints', () => {
  for (const b of BOUNDARIES) {
    for (let d = -3; d <= 3; d++) {
      for (const sign of [1n, -1n]) {
        const big = sign * (BigInt(b) + BigInt(d));
        for (const v of [big, Number(big)])
          assert.equal(outcome(encodeCanonical, v), outcome(referenceEncode, v));
      }
    }
  }
  assert.equal(toHex(encodeCanonical(-(2 ** 60))), '3b0fffffffffffffff');
  assert.equal(toHex(encodeCanonical(-(2 ** 64) + 2 ** 11)), '3bfffffffffffff7ff');
  assert.equal(toHex(encodeCanonical(-(2n ** 64n) + 1n)), '3bfffffffffffffffe');
  assert.equal(toHex(encodeCanonical(2 ** 64 - 2 ** 11)), '1bfffffffffffff800');
});

test('strings and byte strings of every head width, ASCII and not', () => {
  for (const n of [0, 23, 24, 255, 256, 65535, 65536, 70000]) {
    for (const s of ['a'.repeat(n), 'é'.repeat(n), `${'a'.repeat(n)}😀`, `😀${'a'.repeat(n)}`]) {
      assert.equal(toHex(encodeCanonical(s)), toHex(referenceEncode(s)), `${n}`);
      assert.equal(toHex(encodeCanonical({ [s]: s })), toHex(referenceEncode({ [s]: s })), `key ${n}`);
    }
    const b = Uint8Array.from({ length: n }, (_, i) => i);
    assert.equal(toHex(encodeCanonical(b)), toHex(referenceEncode(b)));
  }
});

test('values larger than the encoder buffer grow it, and the next encode is unaffected', () => {
  const big = {
    blob: new Uint8Array(9_000_000).fill(7),
    text: 'x'.repeat(100_000),
    list: Array.from({ length: 20_000 }, (_, i) => ({ i, f: i + 0.5, s: `item ${i}` })),
  };
  const bytes = encodeCanonical(big);
  assert.ok(bytes.length > 9_000_000);
  assert.ok(Buffer.from(bytes).equals(referenceEncode(big)));
  assert.equal(toHex(encodeCanonical([1, 'a'])), '820161' + '61');
});

test('encodeCanonicalView gives the same bytes as a view valid until the next encode', () => {
  const view = encodeCanonicalView({ b: 1, a: 2 });
  assert.equal(toHex(view), 'a2616102616201');
  const copy = encodeCanonical({ b: 1, a: 2 });
  assert.equal(toHex(copy), toHex(view));
  encodeCanonicalView([9, 9, 9, 9]);
  assert.notEqual(toHex(view), toHex(copy)); // overwritten: callers must copy at once
  assert.equal(toHex(copy), 'a2616102616201'); // the copy is the caller's own
});

test('a refusal leaves the encoder ready for the next value', () => {
  assert.throws(() => encodeCanonical({ a: [1, 2, { b: undefined }] }), /a\[2\]\.b: undefined values/);
  assert.equal(toHex(encodeCanonical({ a: 1 })), 'a1616101');
});

test('object shapes: cached orders never mix up key lists that share a first key', () => {
  for (let round = 0; round < 3; round++) {
    for (let n = 1; n < 12; n++) {
      const obj: Record<string, number> = {};
      for (let i = 0; i < n; i++) obj[`k${(i * 7) % n}x`.repeat(1 + (i % 3))] = i;
      obj.first = -1;
      const fresh = { first: 0, ...obj };
      assert.equal(toHex(encodeCanonical(fresh)), toHex(referenceEncode(fresh)));
    }
  }
  for (let i = 0; i < 5000; i++) {
    const obj = { id: i, [`f${i}`]: i, [`g${i % 7}`]: 1 }; // many shapes: the cache is bounded
    assert.equal(toHex(encodeCanonical(obj)), toHex(referenceEncode(obj)));
  }
});

test('an item address holds integers: a fractional start is refused (the decoder would refuse it)', () => {
  const mh = new Uint8Array(34);
  mh[0] = 0x1e;
  mh[1] = 0x20;
  assert.throws(() => encodeCanonical(new Tag([mh, 1.5, 3], TAGS.itemAddress)), /tag 65522 cannot hold/);
  const ok = encodeCanonical(new Tag([mh, 1n, 3], TAGS.itemAddress));
  assert.equal(toHex(encodeCanonical(decodeCanonical(ok))), toHex(ok));
});
