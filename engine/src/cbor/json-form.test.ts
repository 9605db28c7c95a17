import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tag } from 'cbor-x';
import { decodeCanonical, encodeCanonical } from './deterministic.js';
import { fromHex, fromJsonForm, toHex, toJsonForm } from './json-form.js';

test('the JSON form round-trips bytes, tags, bigints, non-finite floats and non-text keys', () => {
  const json = {
    bytes: { $bytes: '00ff' },
    tick: { $tag: 65524, $value: { $bigint: '18446744073709551615' } },
    nan: { $float: 'NaN' },
    keys: {
      $map: [
        [1, 'one'],
        ['$x', 2],
      ],
    },
    list: [1, 'two', null, true, 2.5],
  };
  const bytes = encodeCanonical(fromJsonForm(json));
  assert.deepEqual(toJsonForm(decodeCanonical(bytes)), {
    bytes: { $bytes: '00ff' },
    keys: {
      $map: [
        [1, 'one'],
        ['$x', 2],
      ],
    },
    list: [1, 'two', null, true, 2.5],
    nan: { $float: 'NaN' },
    tick: { $tag: 65524, $value: { $bigint: '18446744073709551615' } },
  });
});

test('fromJsonForm builds real bytes, tags and bigints', () => {
  const value = fromJsonForm({
    a: { $bytes: 'beef' },
    t: { $tag: 65525, $value: 3 },
    n: { $bigint: '-5' },
  }) as Record<string, unknown>;
  assert.deepEqual(value.a, Uint8Array.of(0xbe, 0xef));
  assert.ok(value.t instanceof Tag && value.t.tag === 65525);
  assert.equal(value.n, -5n);
});

test('malformed JSON forms are refused and name their path', () => {
  assert.throws(() => fromJsonForm({ x: [{ $bytes: 'abc' }] }), /x\[0\]/);
  assert.throws(() => fromJsonForm({ $tag: -1, $value: 0 }), /\$tag must be a tag number/);
  assert.throws(() => fromJsonForm({ $x: 1 }), /starts with "\$"/);
  assert.throws(() => fromJsonForm({ $map: [[1]] }), /\[key, value\] pair/);
});

test('hex helpers', () => {
  assert.equal(toHex(fromHex('00 0A ff')), '000aff');
  assert.throws(() => fromHex('abc'), /even number of hex digits/);
});
