import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ByteRange, MemoryStore } from '@dreamdb/engine/store';
import { ByteCache } from './byte-cache.js';

const KiB = 1024;

/** A store of one object whose byte i is i % 251, counting the GETs it serves. */
async function storeWith(size: number) {
  const store = new MemoryStore();
  const body = new Uint8Array(size).map((_, i) => i % 251);
  await store.put('k', body);
  const gets: ByteRange[] = [];
  const get = store.get.bind(store);
  store.get = async (key, range) => {
    if (range) gets.push(range);
    return get(key, range);
  };
  return { store, body, gets };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

test('a player reading fragments in order is served from read-ahead: one GET per span, prefetched ahead', async () => {
  const { store, body, gets } = await storeWith(1024 * KiB);
  const cache = new ByteCache(store, { readAhead: 256 * KiB });
  await cache.size('k');
  for (let start = 0; start < body.length; start += 32 * KiB) {
    const bytes = await cache.get('k', start, start + 32 * KiB);
    assert.deepEqual(bytes, body.subarray(start, start + 32 * KiB));
    await settle(); // a player takes a while per fragment: the prefetch lands in between
  }
  assert.equal(cache.stats.misses, 1);
  assert.equal(cache.stats.hits, 31);
  assert.equal(cache.stats.prefetches, 3);
  assert.ok(cache.stats.prefetchHits >= 3);
  assert.deepEqual(
    gets.map((g) => g.start),
    [0, 256 * KiB, 512 * KiB, 768 * KiB],
  );
});

test('concurrent misses on one span share a GET; a request larger than a span passes through uncached', async () => {
  const { store, body, gets } = await storeWith(512 * KiB);
  const cache = new ByteCache(store, { readAhead: 64 * KiB });
  await cache.size('k');
  const [a, b] = await Promise.all([cache.get('k', 0, 10), cache.get('k', 0, 20)]);
  assert.deepEqual(a, body.subarray(0, 10));
  assert.deepEqual(b, body.subarray(0, 20));
  assert.equal(gets.length, 1);
  const big = await cache.get('k', 100 * KiB, 300 * KiB);
  assert.deepEqual(big, body.subarray(100 * KiB, 300 * KiB));
  const held = cache.stats.bytes;
  assert.ok(held <= 64 * KiB + 64 * KiB, `holds ${held} bytes`);
  // The end of the object: the span is cut at the size, never past it.
  const tail = await cache.get('k', 512 * KiB - 5, 512 * KiB);
  assert.deepEqual(tail, body.subarray(512 * KiB - 5));
});

test('memory stays under the capacity: least recently used spans go first', async () => {
  const { store } = await storeWith(4096 * KiB);
  const cache = new ByteCache(store, { capacity: 256 * KiB, readAhead: 64 * KiB });
  await cache.size('k');
  for (let start = 0; start < 4096 * KiB; start += 512 * KiB) {
    await cache.get('k', start, start + KiB);
    assert.ok(cache.stats.bytes <= 256 * KiB, `holds ${cache.stats.bytes} bytes`);
  }
  assert.ok(cache.stats.evictions >= 4);
  // The newest span is still there; the oldest is gone.
  const hits = cache.stats.hits;
  await cache.get('k', 3584 * KiB, 3584 * KiB + 10);
  assert.equal(cache.stats.hits, hits + 1);
  await cache.get('k', 0, 10);
  assert.equal(cache.stats.hits, hits + 1);
});

test('a failed GET reaches the asker and is not cached; a failed prefetch costs nothing', async () => {
  const { store, body } = await storeWith(256 * KiB);
  const cache = new ByteCache(store, { readAhead: 64 * KiB });
  await cache.size('k');
  const get = store.get.bind(store);
  let fail = true;
  store.get = async (key, range) => {
    if (fail) throw new Error('store down');
    return get(key, range);
  };
  await assert.rejects(cache.get('k', 0, 10), /store down/);
  fail = false;
  assert.deepEqual(await cache.get('k', 0, 10), body.subarray(0, 10));
  fail = true;
  await cache.get('k', 40 * KiB, 50 * KiB); // past the middle: starts a prefetch, which fails
  await settle();
  fail = false;
  assert.deepEqual(await cache.get('k', 70 * KiB, 80 * KiB), body.subarray(70 * KiB, 80 * KiB));
});

test('ranges across a block boundary are joined from the two blocks, byte for byte', async () => {
  const { store, body, gets } = await storeWith(1024 * KiB + 123);
  const cache = new ByteCache(store, { readAhead: 64 * KiB });
  await cache.size('k');
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 500; i++) {
    const start = random(body.length - 1);
    const end = Math.min(body.length, start + 1 + random(64 * KiB));
    assert.deepEqual(await cache.get('k', start, end), body.subarray(start, end), `${start}-${end}`);
  }
  // Every block was fetched once at most: 17 blocks of 64 KiB cover the object.
  assert.ok(gets.length <= 17, `${gets.length} GETs`);
  for (const g of gets) assert.equal(g.start % (64 * KiB), 0);
});
