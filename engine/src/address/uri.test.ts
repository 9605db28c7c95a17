import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatModality, parseModality } from './modality.js';
import { hashBytes, multihashToHex } from './multihash.js';
import { formatAddress, parseAddress } from './uri.js';

test('an address formats and parses back to itself', () => {
  const object = multihashToHex(hashBytes(Uint8Array.of(1, 2, 3)));
  const address = { space: 'lab', object, start: 10, end: 20 };
  const uri = formatAddress(address);
  assert.equal(uri, `dreamdb://lab/${object}#bytes:10-20`);
  assert.deepEqual(parseAddress(uri), address);
  assert.throws(() => formatAddress({ ...address, end: 5 }), /ends before it starts/);
  assert.throws(() => formatAddress({ ...address, start: -1 }), /not a byte offset/);
});

test('modality parameters are canonicalized by formatModality and must be sorted when parsed', () => {
  const text = formatModality({
    segments: ['vector', 'f32'],
    params: new Map([
      ['dim', '768'],
      ['compress', 'dreamdb.qinco-cosine'],
    ]),
  });
  assert.equal(text, 'vector.f32;compress=dreamdb.qinco-cosine;dim=768');
  assert.throws(() => parseModality('vector.f32;dim=768;compress=x'), /ascending key order/);
  assert.equal(parseModality('com.acme.lidar').builtin, false);
});

test('formatModality refuses segments and values that would parse back as something else', () => {
  assert.throws(() => formatModality({ segments: ['video.h264'] }), /cannot/);
  assert.throws(
    () => formatModality({ segments: ['video'], params: new Map([['a', 'x;b=y']]) }),
    /E_MODALITY/,
  );
});
