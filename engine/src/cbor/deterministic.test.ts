import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tag } from 'cbor-x';
import { EngineError } from '../errors.js';
import { decodeCanonical, encodeCanonical, isCanonical } from './deterministic.js';
import { toHex } from './json-form.js';

const hex = (v: unknown) => toHex(encodeCanonical(v));
const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

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

function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0:
      return Math.floor(rand() * 2 ** 40) - 2 ** 39;
    case 1:
      return rand() < 0.5 ? rand() * 1e6 : Math.fround(rand()) / 8;
    case 2:
      return String.fromCodePoint(
        ...Array.from({ length: Math.floor(rand() * 30) }, () => 32 + Math.floor(rand() * 3000)),
      );
    case 3:
      return Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
    case 4:
      return [null, true, false][Math.floor(rand() * 3)];
    case 5:
      return BigInt(Math.floor(rand() * 2 ** 52)) * 4099n;
    case 6:
      return new Tag(BigInt(Math.floor(rand() * 2 ** 50)), 65524);
    case 7:
      return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 6); i > 0; i--)
        obj[Math.floor(rand() * 1e4).toString(36)] = randomValue(rand, depth + 1);
      return obj;
    }
  }
}

function shuffledCopy(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledCopy(v, rand));
  if (value && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Tag)) {
    const entries = Object.entries(value).sort(() => rand() - 0.5);
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffledCopy(v, rand)]));
  }
  return value;
}

test('the same value gives the same bytes whatever the key insertion order', () => {
  const rand = prng(7);
  for (let i = 0; i < 500; i++) {
    const value = randomValue(rand, 0);
    assert.equal(hex(shuffledCopy(value, rand)), hex(value));
  }
});

test('encode -> strict decode -> encode is the identity on random values', () => {
  const rand = prng(11);
  for (let i = 0; i < 500; i++) {
    const bytes = encodeCanonical(randomValue(rand, 0));
    assert.ok(isCanonical(bytes));
    assert.equal(toHex(encodeCanonical(decodeCanonical(bytes))), toHex(bytes));
  }
});

test('map keys sort by encoded bytes, not by JavaScript order or length-first', () => {
  assert.equal(hex({ b: 1, a: 2, aa: 3, 10: 4, 9: 5 }), 'a56139056161026162016231300462616103');
  assert.equal(
    hex(
      new Map<string | number, number>([
        [-1, 3],
        ['a', 2],
        [1000, 1],
      ]),
    ),
    'a31903e8012003616102',
  );
});

test('integers take the shortest head; large numbers become 8-byte integers, not floats', () => {
  assert.equal(hex(23), '17');
  assert.equal(hex(24), '1818');
  assert.equal(hex(5e9), '1b000000012a05f200');
  assert.equal(hex(5_000_000_000n), '1b000000012a05f200');
  assert.equal(hex(3n), '03');
  assert.equal(hex(-0), '00');
  assert.equal(hex(2 ** 64), 'fa5f800000'); // 2^64 is past the integer range, so it stays a float
});

test('floats take the shortest exact width', () => {
  assert.equal(hex(1.5), 'f93e00');
  assert.equal(hex(100000.5), 'fa47c35040');
  assert.equal(hex(0.1), 'fb3fb999999999999a');
  assert.equal(hex(Number.NaN), 'f97e00');
  assert.equal(hex(Number.NEGATIVE_INFINITY), 'f9fc00');
  assert.equal(hex(2 ** -24), 'f90001');
  assert.equal(hex([0.5, { x: 0.25, y: 'z' }, 1e300]), '83f93800a26178f934006179617afb7e37e43c8800759c');
});

test('values outside the profile are refused and name their path', () => {
  assert.throws(() => encodeCanonical({ a: [1, undefined] }), /a\[1\]: undefined values/);
  assert.throws(() => encodeCanonical({ when: new Date() }), /when: Date values/);
  assert.throws(() => encodeCanonical(new Tag(1, 1)), /tag 1 is not a DreamDB tag/);
  assert.throws(() => encodeCanonical(2n ** 64n), code('E_CBOR_VALUE'));
  assert.throws(() => encodeCanonical('\ud800'), /lone surrogate/);
  assert.throws(
    () =>
      encodeCanonical(
        new Map<number | bigint, number>([
          [1, 1],
          [1n, 2],
        ]),
      ),
    /duplicate map key/,
  );
  assert.throws(() => encodeCanonical(new Map([[1.5, 1]])), /not an integer/);
  assert.throws(() => encodeCanonical(new Float32Array(2)), /Float32Array values/);
});

test('the strict decoder never throws anything but an EngineError on random bytes', () => {
  const rand = prng(3);
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 24) }, () => Math.floor(rand() * 256));
    try {
      decodeCanonical(bytes);
    } catch (error) {
      assert.ok(error instanceof EngineError, `bytes ${toHex(bytes)} threw ${error}`);
      refused++;
    }
  }
  assert.ok(refused > 4000);
});

test('one flipped bit in canonical bytes is refused or decodes to a different value', () => {
  const rand = prng(5);
  for (let i = 0; i < 300; i++) {
    const bytes = encodeCanonical(randomValue(rand, 0));
    const bit = Math.floor(rand() * bytes.length * 8);
    const flipped = Uint8Array.from(bytes);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    try {
      const again = encodeCanonical(decodeCanonical(flipped));
      assert.notEqual(toHex(again), toHex(bytes));
    } catch (error) {
      assert.ok(error instanceof EngineError);
    }
  }
});

test('decoded maps with a __proto__ key stay data, never a prototype', () => {
  const decoded = decodeCanonical(encodeCanonical(new Map([['__proto__', 1]])));
  assert.ok(decoded instanceof Map);
  assert.equal((decoded as Map<string, number>).get('__proto__'), 1);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('8-byte integers decode as bigint, smaller ones as number', () => {
  assert.equal(decodeCanonical(encodeCanonical(2 ** 32)), 4294967296n);
  assert.equal(decodeCanonical(encodeCanonical(2 ** 32 - 1)), 4294967295);
});

test('a "__proto__" key is kept as data on encode, from objects and from JSON', () => {
  const value = JSON.parse('{"__proto__":{"b":1,"a":2},"z":1}');
  const decoded = decodeCanonical(encodeCanonical(value));
  assert.ok(decoded instanceof Map);
  assert.deepEqual([...(decoded as Map<string, unknown>).keys()], ['z', '__proto__']);
});

test('key lists that look alike never share a cached sort order', () => {
  encodeCanonical({ 'bb\u0000a': 1, c: 2 });
  assert.equal(hex({ bb: 1, a: 2, c: 3 }), 'a3616102616303626262' + '01');
});

test('keys with lone surrogates are refused, even alone', () => {
  assert.throws(() => encodeCanonical({ '\ud800': 1 }), /lone surrogate/);
});

test('a record whose payload has integer keys decodes as an object with a Map inside', () => {
  const bytes = encodeCanonical({ track: 'det', payload: new Map([[1, 'cat']]) });
  const decoded = decodeCanonical(bytes) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(decoded.payload, new Map([[1, 'cat']]));
});

test('the encoder refuses what the decoder would refuse: tag contents and depth', () => {
  assert.throws(() => encodeCanonical(new Tag('x', 65524)), /tag 65524 cannot hold/);
  assert.throws(() => encodeCanonical(new Tag(5, 65521)), /tag 65521 cannot hold/);
  let deep: unknown = 1.5;
  for (let i = 0; i < 257; i++) deep = [deep];
  assert.throws(() => encodeCanonical(deep), /nesting deeper than 256/);
  let ok: unknown = 0;
  for (let i = 0; i < 256; i++) ok = [ok];
  assert.equal(toHex(encodeCanonical(decodeCanonical(encodeCanonical(ok)))), toHex(encodeCanonical(ok)));
});

test('decoded byte strings are copies, not views of the input', () => {
  const src = encodeCanonical({ b: Uint8Array.of(1, 2, 3) });
  const decoded = decodeCanonical(src) as { b: Uint8Array };
  src[src.length - 1] = 99;
  assert.deepEqual(decoded.b, Uint8Array.of(1, 2, 3));
});
