import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { etagEquals, ifMatchHeader, normalizeEtag } from './etag.js';
import { clipRange, parseRangeHeader, rangeHeader } from './range.js';

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

test('Range headers parse to half-open ranges, clipped like S3 does', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-0', 10, 'k'), { start: 0, end: 1 });
  assert.deepEqual(parseRangeHeader('bytes=2-', 10, 'k'), { start: 2, end: 10 });
  assert.deepEqual(parseRangeHeader('bytes=-3', 10, 'k'), { start: 7, end: 10 });
  assert.deepEqual(parseRangeHeader('bytes=-30', 10, 'k'), { start: 0, end: 10 });
  assert.deepEqual(parseRangeHeader('bytes=5-99', 10, 'k'), { start: 5, end: 10 });
  assert.throws(() => parseRangeHeader('bytes=10-', 10, 'k'), code('E_RANGE'));
  assert.throws(() => parseRangeHeader('bytes=-0', 10, 'k'), code('E_RANGE'));
  assert.throws(() => parseRangeHeader('bytes=-1', 0, 'k'), code('E_RANGE'));
  for (const bad of ['bytes=', 'bytes=a-b', 'items=0-1', 'bytes=0-1,2-3', 'bytes=3-2', 'bytes 0-1']) {
    assert.throws(() => parseRangeHeader(bad, 10, 'k'), code('E_BAD_REQUEST'), bad);
  }
  assert.equal(rangeHeader({ start: 5, end: 10 }), 'bytes=5-9');
  assert.throws(() => clipRange({ start: 3, end: 3 }, 10, 'k'), /empty or malformed/);
});

test('ETags normalize quotes, W/ and case; a multipart suffix stays part of the identity', () => {
  assert.equal(normalizeEtag('"ABC"'), 'abc');
  assert.equal(normalizeEtag('W/"abc"'), 'abc');
  assert.equal(
    normalizeEtag(' w/"9b2cf535f27731c974343645a3985328-2" '),
    '9b2cf535f27731c974343645a3985328-2',
  );
  assert.ok(etagEquals('"abc"', 'ABC'));
  assert.ok(!etagEquals('"abc-2"', 'abc'));
  assert.ok(!etagEquals('', ''));
  assert.equal(ifMatchHeader('W/"Abc"', 'quoted'), '"abc"');
  assert.equal(ifMatchHeader('"abc"', 'bare'), 'abc');
});
