import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blake3 } from '@noble/hashes/blake3.js';
import { toHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import {
  createMultihasher,
  hashBytes,
  hashStream,
  multihashFromHex,
  multihashToHex,
  verifyBytes,
} from './multihash.js';

test('multihash is 0x1e 0x20 + BLAKE3-256, equal to @noble/hashes (the reference)', () => {
  for (const n of [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 100_000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256);
    const mh = hashBytes(bytes);
    assert.equal(mh.length, 34);
    assert.equal(toHex(mh), `1e20${toHex(blake3(bytes))}`);
  }
});

test('streamed hashing equals one-shot whatever the chunking, and interleaved streams do not mix', async () => {
  const bytes = Uint8Array.from({ length: 70_001 }, (_, i) => i % 251);
  const expected = multihashToHex(hashBytes(bytes));
  for (const size of [1, 7, 1024, 1025, 65_536]) {
    const chunks = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    assert.equal(multihashToHex(await hashStream(chunks)), expected, `chunks of ${size}`);
  }
  const a = await createMultihasher();
  const b = await createMultihasher();
  a.update(bytes.subarray(0, 10));
  b.update(Uint8Array.of(1, 2, 3));
  hashBytes(Uint8Array.of(9)); // the shared one-shot hasher between updates must not disturb streams
  a.update(bytes.subarray(10));
  assert.equal(multihashToHex(a.digest()), expected);
  assert.equal(a.bytesHashed, bytes.length);
  assert.equal(multihashToHex(b.digest()), multihashToHex(hashBytes(Uint8Array.of(1, 2, 3))));
});

test('web ReadableStreams hash too (the browser path)', async () => {
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 256);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, 1234));
      controller.enqueue(bytes.subarray(1234));
      controller.close();
    },
  });
  assert.equal(multihashToHex(await hashStream(stream)), multihashToHex(hashBytes(bytes)));
});

test('a flipped byte is detected as E_HASH_MISMATCH', () => {
  const bytes = Uint8Array.from({ length: 4096 }, (_, i) => i % 256);
  const mh = hashBytes(bytes);
  verifyBytes(bytes, mh);
  const bad = Uint8Array.from(bytes);
  bad[2048]! ^= 0x01;
  assert.throws(
    () => verifyBytes(bad, mh, 'object'),
    (e: unknown) =>
      e instanceof EngineError && e.code === 'E_HASH_MISMATCH' && e.message.includes(multihashToHex(mh)),
  );
});

test('hex form round-trips and refuses anything else', () => {
  const mh = hashBytes(Uint8Array.of(1));
  assert.deepEqual(multihashFromHex(multihashToHex(mh)), mh);
  assert.throws(() => multihashFromHex(multihashToHex(mh).toUpperCase()), /not a BLAKE3 multihash/);
  assert.throws(() => multihashToHex(new Uint8Array(34)), /not a 34-byte BLAKE3 multihash/);
});
