import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blake3 } from '@noble/hashes/blake3.js';
import {
  type Blake3Backend,
  blake3Backend,
  hashBytes,
  hashStream,
  multihashToHex,
  wasmBlake3,
} from '../address/multihash.js';
import { toHex } from '../cbor/json-form.js';
import { nativeBlake3 } from './native-blake3.js';

test('the native BLAKE3 is installed on this platform and is the Node default', () => {
  assert.ok(nativeBlake3, '@napi-rs/blake-hash did not load; is its linux binary package installed?');
  assert.equal(blake3Backend(), nativeBlake3);
});

const backends: Blake3Backend[] = [wasmBlake3, ...(nativeBlake3 ? [nativeBlake3] : [])];

for (const backend of backends) {
  test(`${backend.name} gives @noble/hashes' digests, one-shot and streamed`, async () => {
    for (const n of [0, 1, 64, 1023, 1024, 1025, 8193, 65_537, 1_000_003]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) % 256);
      const reference = toHex(blake3(bytes));
      assert.equal(toHex(backend.digest(bytes)), reference, `${n} bytes one-shot`);
      const state = await backend.create();
      for (let at = 0; at < n; at += 4099) state.update(bytes.subarray(at, at + 4099));
      assert.equal(toHex(state.digest()), reference, `${n} bytes streamed`);
    }
  });
}

test('hashBytes and hashStream use the installed backend and agree', async () => {
  const bytes = new Uint8Array(300_000).fill(7);
  assert.equal(
    multihashToHex(await hashStream([bytes.subarray(0, 5), bytes.subarray(5)])),
    multihashToHex(hashBytes(bytes)),
  );
});
