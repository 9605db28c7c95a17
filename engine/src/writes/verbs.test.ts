import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { decodeBucket } from '../format/bucket.js';
import { range, read } from '../queries/read.js';
import { stream } from '../queries/stream.js';
import { Session } from '../session/session.js';
import { CountingStore } from '../store/counting-store.js';
import { MemoryStore } from '../store/memory-store.js';
import { RefConflictError, SpaceStore } from '../store/space-store.js';
import { camAndDetections, failingStore, SECOND } from '../testing/fixtures.js';
import { parseRate } from '../time/rate.js';
import { decodePage } from '../timeindex/page.js';
import { publish } from './publish.js';
import { spill } from './spill.js';
import { Writer } from './writer.js';

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

const newWriter = camAndDetections;

/** 5 minutes of 2 s fragments and a detection every 300 ms. */
function fill(writer: Writer, minutes = 5) {
  const fragments = [];
  for (let t = 0n; t < BigInt(minutes) * 60n * SECOND; t += 2n * SECOND) {
    fragments.push({ tick: t, duration: 2n * SECOND, payload: new TextEncoder().encode(`fragment@${t}`) });
  }
  writer.write('s1', 'cam', fragments);
  const detections = [];
  for (let t = 0n; t < BigInt(minutes) * 60n * SECOND; t += 300_000_000n) {
    detections.push({ tick: t, payload: { label: t % 2n === 0n ? 'person' : 'car', score: 0.5 } });
  }
  writer.write('s1', 'det', detections);
  return { fragments: fragments.length, detections: detections.length };
}

test('write, publish, resolve, read and range round-trip a session', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const session = new Session(space);
  const writer = newWriter();
  const counts = fill(writer);
  const published = await publish(session, writer, { ref: 'main', author: 'ana', message: 'first' });
  assert.ok(published.objectsWritten > 5);

  const fresh = new Session(space);
  const main = (await fresh.resolve('main'))!;
  assert.equal(multihashToHex(main.hash), multihashToHex(published.hash));
  const det = main.manifest.tracks.find((t) => t.name === 'det')!;
  assert.equal(det.index?.count, counts.detections);

  // stream: the fragment covering a tick; event: the item at or before it
  const frag = await read(fresh, main, { timeline: 's1', track: 'cam', tick: 61n * SECOND + 5n });
  assert.equal(new TextDecoder().decode(frag!.bytes), `fragment@${60n * SECOND}`);
  assert.equal(frag!.address.end - frag!.address.start, frag!.bytes.length);
  const event = await read(fresh, main, { timeline: 's1', track: 'det', tick: 1_000_000_001n });
  assert.equal(event!.tick, 900_000_000n);
  assert.deepEqual(event!.payload, { label: 'person', score: 0.5 });
  assert.equal(await read(fresh, main, { timeline: 's1', track: 'cam', tick: 10_000n * SECOND }), undefined);

  // one second of both tracks
  const window = await range(fresh, main, { timeline: 's1', t0: 30n * SECOND, t1: 31n * SECOND });
  assert.deepEqual(
    window.items.map((i) => `${i.track}@${i.tick}`),
    ['cam@30000000000', 'det@30000000000', 'det@30300000000', 'det@30600000000', 'det@30900000000'],
  );

  // paging with a cursor gives exactly the unpaged answer
  const all = await range(fresh, main, { timeline: 's1', t0: 0n, t1: 60n * SECOND });
  const paged = [];
  let cursor: string | undefined;
  do {
    const page = await range(fresh, main, {
      timeline: 's1',
      t0: 0n,
      t1: 60n * SECOND,
      limit: 37,
      ...(cursor && { cursor }),
    });
    paged.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  assert.deepEqual(
    paged.map((i) => `${i.track}@${i.tick}`),
    all.items.map((i) => `${i.track}@${i.tick}`),
  );
  assert.equal(all.items.length, 30 + 200);
});

test('a second publish adds to a track, keeps the old items, and names its parent', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const session = new Session(space);
  const first = await publish(
    session,
    (() => {
      const w = newWriter();
      fill(w);
      return w;
    })(),
    { ref: 'main' },
  );
  const writer = new Writer(first);
  writer.write('s1', 'det', [
    { tick: 150_000_000n, payload: { label: 'dog', score: 0.9 } },
    { tick: 0n, payload: { label: 'replaced' } },
  ]);
  writer.write('s1', 'cam', [{ tick: 300n * SECOND, duration: 2n * SECOND, payload: Uint8Array.of(1) }]);
  const second = await publish(session, writer, { ref: 'main', message: 'annotations' });
  assert.deepEqual(second.manifest.parents.map(multihashToHex), [multihashToHex(first.hash)]);
  const det = second.manifest.tracks.find((t) => t.name === 'det')!;
  assert.equal(det.index!.count, first.manifest.tracks.find((t) => t.name === 'det')!.index!.count + 1);
  const window = await range(session, second, { timeline: 's1', tracks: ['det'], t0: 0n, t1: 400_000_000n });
  assert.deepEqual(
    window.items.map((i) => (i.payload as { label: string }).label),
    ['replaced', 'dog', 'person'],
  );
  assert.ok(
    second.objectsWritten < first.objectsWritten,
    `${second.objectsWritten} objects for a small change`,
  );
  assert.throws(
    () => writer.write('s1', 'cam', [{ tick: 100n, duration: 1n, payload: Uint8Array.of(1) }]),
    code('E_TICK_RANGE'),
  );
});

test('a lost race is a conflict carrying the winner, and the ref stays on the winner', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const session = new Session(space);
  const base = await publish(
    session,
    (() => {
      const w = newWriter();
      fill(w, 1);
      return w;
    })(),
    { ref: 'main' },
  );
  const a = new Writer(base).write('s1', 'det', [{ tick: 5n, payload: 'a' }]);
  const b = new Writer(base).write('s1', 'det', [{ tick: 6n, payload: 'b' }]);
  const winner = await publish(new Session(space), a, { ref: 'main' });
  await assert.rejects(publish(new Session(space), b, { ref: 'main' }), (e: unknown) => {
    assert.ok(e instanceof RefConflictError);
    assert.equal(multihashToHex(e.current!.manifest), multihashToHex(winner.hash));
    return true;
  });
  assert.equal(multihashToHex((await space.readRef('main'))!.manifest), multihashToHex(winner.hash));
});

test('bad input is refused before anything is published', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const session = new Session(space);
  const writer = newWriter();
  assert.throws(
    () => writer.write('s1', 'nope', [{ tick: 0n, payload: 1 }]),
    /track s1\/nope is not defined/,
  );
  assert.throws(
    () => writer.write('s1', 'cam', [{ tick: 0n, duration: 1n, payload: { not: 'bytes' } }]),
    code('E_FIELD'),
  );
  assert.throws(
    () =>
      writer.write('s1', 'cam', [
        { tick: 5n, duration: 1n, payload: Uint8Array.of(1) },
        { tick: 5n, duration: 1n, payload: Uint8Array.of(2) },
      ]),
    /stream time must increase/,
  );
  assert.throws(() => writer.write('s1', 'det', [{ tick: -1n, payload: 1 }]), code('E_TICK_RANGE'));
  assert.throws(
    () =>
      writer.track({
        timeline: 's1',
        name: 'det',
        kind: 'stream',
        modality: 'video.h264',
        rate: parseRate('90000'),
      }),
    /cannot become/,
  );
  fill(writer, 1);
  await assert.rejects(publish(session, writer, { ref: 'heads/../main' }), code('E_NAME'));
  await assert.rejects(
    publish(session, writer, { ref: 'main', parents: [hashBytes(Uint8Array.of(9))] }),
    /parent manifest .* cannot be read/,
  );
  assert.equal(await space.readRef('main'), undefined);
});

test('a publish that fails part way leaves the ref as it was, and a retry completes', async () => {
  let failAfter = Number.POSITIVE_INFINITY;
  const flaky = failingStore(() => failAfter-- <= 0);
  const space = new SpaceStore(flaky, 'lab');
  const first = await publish(
    new Session(space),
    (() => {
      const w = newWriter();
      fill(w, 1);
      return w;
    })(),
    { ref: 'main' },
  );
  const writer = new Writer(first).write('s1', 'det', [{ tick: 7n, payload: 'late' }]);
  failAfter = 1;
  await assert.rejects(publish(new Session(space), writer, { ref: 'main' }), /injected failure/);
  assert.equal(multihashToHex((await space.readRef('main'))!.manifest), multihashToHex(first.hash));
  failAfter = Number.POSITIVE_INFINITY;
  const retried = await publish(new Session(space), writer, { ref: 'main' });
  assert.equal(multihashToHex((await space.readRef('main'))!.manifest), multihashToHex(retried.hash));
});

test('a cold 1-second range reads at most index height + 1 objects, and never lists', async () => {
  const counting = new CountingStore(new MemoryStore());
  const space = new SpaceStore(counting, 'lab');
  const writer = newWriter();
  fill(writer, 30);
  const published = await publish(new Session(space), writer, { ref: 'main' });
  const cold = new Session(new SpaceStore(counting, 'lab'));
  const main = (await cold.resolve('main'))!;
  counting.reset();
  const page = await range(cold, main, {
    timeline: 's1',
    tracks: ['det'],
    t0: 600n * SECOND,
    t1: 601n * SECOND,
  });
  assert.equal(page.items.length, 4);
  const height = published.manifest.tracks.find((t) => t.name === 'det')!.index!.height;
  assert.ok(counting.counts.get <= height + 1, `${counting.counts.get} GETs, height ${height}`);
  assert.equal(counting.counts.list, 0);
});

test('constant tracks: the lexicographically greatest correction layer wins, in a writer and across publishes', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const session = new Session(space);
  const writer = new Writer()
    .timeline({ name: 's1' })
    .track({ timeline: 's1', name: 'calib', kind: 'constant', modality: 'meta.calibration' });
  writer.write('s1', 'calib', [{ tick: 0n, layer: '2026-01', payload: { fx: 600 } }]);
  writer.write('s1', 'calib', [{ tick: 0n, layer: '2025-12', payload: { fx: 1 } }]); // older layer: ignored
  const first = await publish(session, writer, { ref: 'main' });
  const at = async (version: Awaited<ReturnType<typeof publish>>) =>
    (await read(new Session(space), version, { timeline: 's1', track: 'calib', tick: 5n * SECOND }))!;
  assert.deepEqual((await at(first)).payload, { fx: 600 });
  const stale = await publish(
    new Session(space),
    new Writer(first).write('s1', 'calib', [{ tick: 0n, layer: '2025-11', payload: { fx: 2 } }]),
    {
      ref: 'main',
    },
  );
  assert.deepEqual((await at(stale)).payload, { fx: 600 });
  const newer = await publish(
    new Session(space),
    new Writer(stale).write('s1', 'calib', [{ tick: 0n, layer: '2026-02', payload: { fx: 601 } }]),
    {
      ref: 'main',
    },
  );
  const value = await at(newer);
  assert.deepEqual(value.payload, { fx: 601 });
  assert.equal(value.layer, '2026-02');
  assert.throws(() => new Writer(newer).write('s1', 'calib', [{ tick: 1n, payload: 1 }]), /needs a layer/);
});

test('small indexes travel inline in the manifest: a cold read needs no index GET', async () => {
  const counting = new CountingStore(new MemoryStore());
  const space = new SpaceStore(counting, 'lab');
  const writer = newWriter();
  fill(writer, 2);
  const published = await publish(new Session(space), writer, { ref: 'main' });
  assert.ok(published.manifest.tracks.every((t) => (t.index?.pages?.length ?? 0) > 0));
  const cold = new Session(new SpaceStore(counting, 'lab'));
  const main = (await cold.resolve('main'))!;
  counting.reset();
  const item = await read(cold, main, { timeline: 's1', track: 'det', tick: 61n * SECOND });
  assert.equal(item!.tick, 60_900_000_000n);
  assert.equal(counting.counts.get, 1); // the bucket range only
});

test('edge cases: an item at the last tick survives the next publish; constant buckets decode; limits and repeated tracks', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const writer = new Writer()
    .timeline({ name: 's1' })
    .track({
      timeline: 's1',
      name: 'det',
      kind: 'event',
      modality: 'event.detection',
      bucketDuration: 60n * SECOND,
    })
    .track({ timeline: 's1', name: 'calib', kind: 'constant', modality: 'meta.calibration' });
  writer.write('s1', 'det', [
    { tick: 5n, payload: 'a' },
    { tick: 2n ** 53n + 1n, payload: 'b' },
    { tick: 2n ** 64n - 1n, payload: 'last' },
  ]);
  writer.write('s1', 'calib', [{ tick: 0n, layer: 'l1', payload: { fx: 1 } }]);
  const first = await publish(new Session(space), writer, { ref: 'main' });
  const second = await publish(
    new Session(space),
    new Writer(first).write('s1', 'det', [{ tick: 6n, payload: 'c' }]),
    { ref: 'main' },
  );
  const det = second.manifest.tracks.find((t) => t.name === 'det')!;
  assert.equal(det.index!.count, 4);
  const last = await read(new Session(space), second, { timeline: 's1', track: 'det', tick: 2n ** 64n - 1n });
  assert.equal(last!.payload, 'last');
  const calib = second.manifest.tracks.find((t) => t.name === 'calib')!;
  const leaf = decodePage(await space.getObject(calib.index!.root));
  const bucket = (leaf as unknown as { entries: { object: Uint8Array }[] }).entries[0]!.object;
  assert.equal(decodeBucket(await space.getObject(bucket)).kind, 'constant');
  const session = new Session(space);
  await assert.rejects(
    range(session, second, { timeline: 's1', t0: 0n, t1: 10n, limit: 0 }),
    code('E_BAD_REQUEST'),
  );
  const twice = await range(session, second, { timeline: 's1', tracks: ['det', 'det'], t0: 0n, t1: 10n });
  assert.deepEqual(
    twice.items.map((i) => i.payload),
    ['a', 'c'],
  );
});

test('a paged index carries its root inline; an append rewrites its right edge and equals a full build', async () => {
  const counting = new CountingStore(new MemoryStore());
  const space = new SpaceStore(counting, 'lab');
  const detections = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) => ({
      tick: BigInt(from + k) * 10_000_000n,
      payload: { label: 'person', score: ((from + k) % 100) / 100 },
    }));
  const first = await publish(new Session(space), newWriter().write('s1', 'det', detections(0, 120_000)), {
    ref: 'main',
  });
  const det = (r: { manifest: { tracks: readonly { name: string; index?: unknown }[] } }) =>
    r.manifest.tracks.find((t) => t.name === 'det')!.index as {
      root: Uint8Array;
      height: number;
      count: number;
      pages?: Uint8Array[];
    };
  assert.ok(det(first).height >= 2);
  assert.equal(det(first).pages?.length, 1, 'paged: the root page alone is inline');
  assert.equal(multihashToHex(hashBytes(det(first).pages![0]!)), multihashToHex(det(first).root));

  counting.reset();
  const appended = await publish(
    new Session(space),
    new Writer(first).write('s1', 'det', detections(120_000, 125_000)),
    { ref: 'main' },
  );
  // Read: the parent manifest and one page per level below the root; written: a few buckets and pages.
  assert.ok(counting.counts.get <= det(first).height + 1, `${counting.counts.get} GETs to append`);
  assert.ok(appended.objectsWritten < 20, `${appended.objectsWritten} objects written by the append`);
  const whole = await publish(
    new Session(new SpaceStore(new MemoryStore(), 'lab')),
    newWriter().write('s1', 'det', detections(0, 125_000)),
    { ref: 'main' },
  );
  assert.equal(multihashToHex(det(appended).root), multihashToHex(det(whole).root));
  assert.equal(det(appended).count, 125_000);

  // Cold: the root is inline, so a point read costs height - 1 pages and the item.
  const cold = new Session(new SpaceStore(counting, 'lab'));
  const main = (await cold.resolve('main'))!;
  counting.reset();
  const item = await read(cold, main, { timeline: 's1', track: 'det', tick: 1_234_567_890n });
  assert.equal(item!.tick, 1_230_000_000n);
  assert.equal(counting.counts.get, det(appended).height);
});

test('a write refused part way stages nothing of that call', () => {
  const writer = newWriter();
  writer.write('s1', 'det', [{ tick: 5n, payload: 1 }]);
  assert.throws(
    () =>
      writer.write('s1', 'det', [
        { tick: 6n, duration: 4n, payload: 'x'.repeat(100_000) },
        { tick: 7n, payload: 2 },
        { tick: 8n, payload: undefined },
      ]),
    code('E_CBOR_VALUE'),
  );
  assert.equal(writer.size, 1);
  // The refused item's duration and bytes are gone, not left behind for the next item.
  writer.write('s1', 'det', [{ tick: 9n, payload: 3 }]);
  const staged = writer.stagedItems('s1', 'det')!;
  assert.deepEqual([...staged.ticks.subarray(0, staged.count)], [5n, 9n]);
  assert.equal(staged.duration(1), 0n);
  assert.equal(staged.bytes(1).length < 40, true);
});

test('spill uploads a stream track in buckets as it is written; publish indexes them all; a failed spill keeps the items', async () => {
  let failing = false;
  const flaky = failingStore(() => failing);
  const space = new SpaceStore(flaky, 'lab');
  const session = new Session(space);
  const writer = newWriter();
  const fragment = (i: number) => new TextEncoder().encode(`fragment ${i} `.repeat(1 + (i % 7)));
  for (let i = 0; i < 50; i++) {
    writer.write('s1', 'cam', [
      { tick: BigInt(i) * 2n * SECOND, duration: 2n * SECOND, payload: fragment(i) },
    ]);
    if (i % 10 === 9 && i < 40) await spill(session, writer, 's1', 'cam');
  }
  assert.equal(writer.stagedBytes('s1', 'cam') > 0, true);
  failing = true;
  await assert.rejects(spill(session, writer, 's1', 'cam'), /injected failure/);
  assert.equal(writer.size, 50, 'the failed spill kept its items');
  failing = false;
  await assert.rejects(spill(session, writer, 's1', 'det'), code('E_BAD_REQUEST'));
  const published = await publish(session, writer, { ref: 'main' });
  const cam = published.manifest.tracks.find((t) => t.name === 'cam')!;
  assert.equal(cam.index!.count, 50);
  const { items } = await range(new Session(space), published, {
    timeline: 's1',
    tracks: ['cam'],
    t0: 0n,
    t1: 200n * SECOND,
  });
  assert.deepEqual(
    items.map((i) => new TextDecoder().decode(i.bytes)),
    Array.from({ length: 50 }, (_, i) => new TextDecoder().decode(fragment(i))),
  );
  // Four spills and the rest at publish: five buckets.
  assert.equal(new Set(items.map((i) => i.address.object)).size, 5);
});

test('large event items keep their own bytes; bad concurrency and bad layers are refused up front', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const writer = newWriter().write('s1', 'det', [
    { tick: 0n, payload: 'A'.repeat(100_000) },
    { tick: 1n, payload: 'B'.repeat(100_000) },
    { tick: 2n, payload: 'C' },
  ]);
  await assert.rejects(
    publish(new Session(space), writer, { ref: 'main', concurrency: 0 }),
    code('E_BAD_REQUEST'),
  );
  assert.equal(await space.readRef('main'), undefined);
  const published = await publish(new Session(space), writer, { ref: 'main' });
  for (const [tick, text] of [
    [0n, 'A'.repeat(100_000)],
    [1n, 'B'.repeat(100_000)],
    [2n, 'C'],
  ] as const) {
    const item = await read(new Session(space), published, { timeline: 's1', track: 'det', tick });
    assert.equal(item!.payload, text);
  }
  const calib = new Writer()
    .timeline({ name: 's1' })
    .track({ timeline: 's1', name: 'calib', kind: 'constant', modality: 'meta.calibration' });
  assert.throws(() => calib.write('s1', 'calib', [{ tick: 0n, layer: '', payload: 1 }]), /1-255 characters/);
  assert.throws(
    () => calib.write('s1', 'calib', [{ tick: 0n, layer: 'x'.repeat(256), payload: 1 }]),
    /1-255/,
  );
});

test('an item over 64 MiB is stored as parts behind an ItemManifest and reads back whole; over 2 GiB it is refused', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const big = new Uint8Array(70 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
  const writer = newWriter().write('s1', 'cam', [
    { tick: 0n, duration: 2n * SECOND, payload: new TextEncoder().encode('small fragment') },
    { tick: 2n * SECOND, duration: 2n * SECOND, payload: big },
  ]);
  const published = await publish(new Session(space), writer, { ref: 'main' });
  const session = new Session(space);
  const item = (await read(session, published, { timeline: 's1', track: 'cam', tick: 3n * SECOND }))!;
  assert.equal(item.bytes.length, big.length);
  assert.ok(Buffer.compare(item.bytes, big) === 0, 'the parts join into the item');
  // In the bucket, the item's range holds its ItemManifest: an envelope of kind 4.
  const stored = await session.store.getRange(multihashFromHex(item.address.object), item.address);
  assert.equal(stored[5], 4);
  assert.ok(stored.length < 1024);
  const { items } = await range(session, published, {
    timeline: 's1',
    tracks: ['cam'],
    t0: 0n,
    t1: 10n * SECOND,
  });
  assert.deepEqual(
    items.map((i) => i.bytes.length),
    [14, big.length],
  );
  const streamed: number[] = [];
  for await (const it of stream(session, published, { timeline: 's1', tracks: ['cam'], from: 0n }))
    streamed.push(it.bytes.length);
  assert.deepEqual(streamed, [14, big.length]);
  const huge = new Uint8Array(2 ** 31); // never touched: no memory is used
  assert.throws(
    () => newWriter().write('s1', 'cam', [{ tick: 0n, duration: SECOND, payload: huge }]),
    code('E_TOO_LARGE'),
  );
});
