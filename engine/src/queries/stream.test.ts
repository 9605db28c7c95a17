import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { type Resolved, Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import type { ByteRange, ObjectStore, PutOptions } from '../store/object-store.js';
import { SpaceStore } from '../store/space-store.js';
import { camAndDetections } from '../testing/fixtures.js';
import { publish } from '../writes/publish.js';
import { range } from './read.js';
import { stream } from './stream.js';

const SECOND = 1_000_000_000n;
const KIB = 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A store whose ranged GETs take `delay` ms, recording the bytes and GETs outstanding at once (the
 * prefetcher's load on the store). Unranged GETs (refs, index pages) are delayed but not counted.
 */
class SlowStore implements ObjectStore {
  readonly name = 'slow';
  delay = 0;
  jitter = 0;
  failRangesAfter = Number.POSITIVE_INFINITY;
  outstandingBytes = 0;
  outstandingGets = 0;
  peakBytes = 0;
  peakGets = 0;
  rangeGets = 0;

  constructor(private readonly inner: ObjectStore) {}

  async get(key: string, range?: ByteRange) {
    if (!range) {
      if (this.delay) await sleep(this.delay);
      return this.inner.get(key);
    }
    this.rangeGets++;
    const bytes = range.end - range.start;
    this.outstandingBytes += bytes;
    this.outstandingGets++;
    this.peakBytes = Math.max(this.peakBytes, this.outstandingBytes);
    this.peakGets = Math.max(this.peakGets, this.outstandingGets);
    try {
      if (this.delay || this.jitter) await sleep(this.delay + Math.random() * this.jitter);
      if (this.failRangesAfter-- <= 0) throw new EngineError('E_STORE', `injected failure reading ${key}`);
      return await this.inner.get(key, range);
    } finally {
      this.outstandingBytes -= bytes;
      this.outstandingGets--;
    }
  }
  head(key: string) {
    return this.inner.head(key);
  }
  put(key: string, body: Uint8Array, options?: PutOptions) {
    return this.inner.put(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(prefix: string, options?: { token?: string; maxKeys?: number }) {
    return this.inner.list(prefix, options);
  }
}

/** 10 minutes: a 2 s fragment of 8 KiB each (300), a detection every second (600). */
async function recording(): Promise<{ slow: SlowStore; cold: () => Promise<[Session, Resolved]> }> {
  const memory = new MemoryStore();
  const slow = new SlowStore(memory);
  const writer = camAndDetections();
  const fragments = [];
  for (let i = 0; i < 300; i++) {
    const payload = new Uint8Array(8 * KIB).fill(i & 0xff);
    fragments.push({ tick: BigInt(i) * 2n * SECOND, duration: 2n * SECOND, payload });
  }
  writer.write('s1', 'cam', fragments);
  const detections = [];
  for (let i = 0; i < 600; i++) detections.push({ tick: BigInt(i) * SECOND, payload: { n: i } });
  writer.write('s1', 'det', detections);
  await publish(new Session(new SpaceStore(memory, 'lab')), writer, { ref: 'main' });
  // A fresh session each time: nothing cached, every item byte comes through the slow store.
  const cold = async (): Promise<[Session, Resolved]> => {
    const session = new Session(new SpaceStore(slow, 'lab'));
    return [session, (await session.resolve('main'))!];
  };
  return { slow, cold };
}

const label = (i: { track: string; tick: bigint }) => `${i.track}@${i.tick}`;

test('stream yields exactly what range returns, in (tick, track) order', async () => {
  const { cold } = await recording();
  const [session, main] = await cold();
  for (const query of [
    { timeline: 's1', from: 0n },
    { timeline: 's1', from: 101n * SECOND, to: 333n * SECOND },
    { timeline: 's1', tracks: ['det'], from: 7n * SECOND + 1n, to: 20n * SECOND },
  ]) {
    const expected = await range(session, main, {
      ...query,
      t0: query.from,
      t1: query.to ?? 10_000n * SECOND,
    });
    const got = [];
    const items = stream(session, main, { ...query, maxBytesInFlight: 100 * KIB });
    for await (const item of items) got.push(item);
    assert.deepEqual(got.map(label), expected.items.map(label));
    assert.deepEqual(got, expected.items);
    assert.equal(items.stats.yielded, got.length);
    assert.equal(items.stats.hits + items.stats.misses, got.length);
    assert.equal(items.stats.bytesInFlight, 0);
  }
});

test('bytes in flight never exceed the bound, and prefetch runs GETs concurrently', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 1;
  slow.jitter = 3;
  const bound = 64 * KIB;
  const items = stream(session, main, { timeline: 's1', from: 0n, maxBytesInFlight: bound });
  let bytes = 0;
  let count = 0;
  for await (const item of items) {
    bytes += item.bytes.length;
    count++;
    assert.ok(items.stats.bytesInFlight <= bound, `${items.stats.bytesInFlight} bytes in flight`);
  }
  assert.equal(count, 900);
  assert.ok(slow.peakBytes <= bound, `store saw ${slow.peakBytes} bytes outstanding, bound ${bound}`);
  assert.ok(items.stats.peakBytesInFlight <= bound);
  assert.ok(slow.peakGets >= 2, `at most ${slow.peakGets} GET at a time: no prefetch`);
  assert.ok(items.stats.bytesFetched >= bytes);
  assert.equal(items.stats.fetches, slow.rangeGets);
  assert.equal(items.stats.window, bound);
});

test('an item larger than the bound is still fetched, alone', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 1;
  const items = stream(session, main, {
    timeline: 's1',
    tracks: ['cam'],
    from: 0n,
    to: 40n * SECOND,
    maxBytesInFlight: 4 * KIB,
  });
  let count = 0;
  for await (const _ of items) count++;
  assert.equal(count, 20);
  assert.equal(slow.peakGets, 1);
  assert.equal(items.stats.peakBytesInFlight, 8 * KIB);
});

test('with a consumer slower than the store, items are ready when asked for after warm-up', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 5;
  const items = stream(session, main, { timeline: 's1', tracks: ['cam'], from: 0n, to: 300n * SECOND });
  const initialWindow = items.stats.window;
  let seen = 0;
  let warm = { hits: 0, yielded: 0 };
  for await (const _ of items) {
    if (++seen === 20) warm = { hits: items.stats.hits, yielded: items.stats.yielded };
    await sleep(2); // the consumer's work on each item
  }
  const rate = (items.stats.hits - warm.hits) / (items.stats.yielded - warm.yielded);
  assert.ok(rate > 0.8, `hit rate ${rate.toFixed(2)} after warm-up (${JSON.stringify(items.stats)})`);
  assert.ok(items.stats.window > initialWindow, 'the window grew during in-order playback');
  assert.ok(items.stats.fetches < 150 / 2, `${items.stats.fetches} GETs for 150 neighbouring fragments`);
});

test('breaking out early stops fetching and leaves nothing running', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 10;
  const items = stream(session, main, { timeline: 's1', from: 0n, maxBytesInFlight: 512 * KIB });
  let count = 0;
  for await (const _ of items) if (++count === 5) break;
  assert.equal(slow.outstandingGets, 0, 'a GET still running after return');
  assert.equal(items.stats.bytesInFlight, 0);
  const gets = slow.rangeGets;
  await sleep(50);
  assert.equal(slow.rangeGets, gets, 'a GET started after return');
  assert.deepEqual(await items.next(), { done: true, value: undefined });
});

test('seek drops the prefetched items, restarts at the new tick, and closes the window', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 2;
  const items = stream(session, main, { timeline: 's1', from: 0n, initialWindow: 32 * KIB });
  for (let i = 0; i < 30; i++) await items.next();
  assert.ok(items.stats.window > 32 * KIB);
  await items.seek(400n * SECOND);
  assert.equal(items.stats.window, 32 * KIB);
  assert.equal(items.stats.bytesInFlight, 0);
  const after = [];
  for (let i = 0; i < 6; i++) after.push((await items.next()).value!);
  const expected = await range(session, main, { timeline: 's1', t0: 400n * SECOND, t1: 410n * SECOND });
  assert.deepEqual(after.map(label), expected.items.slice(0, 6).map(label));
  await items.return();
  assert.equal(slow.outstandingGets, 0);
});

test('a failed GET ends the stream with its error, leaving nothing running', async () => {
  const { slow, cold } = await recording();
  const [session, main] = await cold();
  slow.delay = 2;
  slow.failRangesAfter = 3;
  const items = stream(session, main, { timeline: 's1', from: 0n, initialWindow: 16 * KIB });
  await assert.rejects(
    (async () => {
      for await (const _ of items);
    })(),
    /injected failure/,
  );
  assert.equal(slow.outstandingGets, 0);
  assert.deepEqual(await items.next(), { done: true, value: undefined });
  assert.throws(
    () => stream(session, main, { timeline: 's1', from: 0n, maxBytesInFlight: 0 }),
    /maxBytesInFlight/,
  );
  assert.throws(() => stream(session, main, { timeline: 's1', tracks: ['nope'], from: 0n }), /s1\/nope/);
});
