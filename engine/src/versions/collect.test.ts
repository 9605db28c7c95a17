import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes, multihashToHex } from '../address/multihash.js';
import { decodeBucket } from '../format/bucket.js';
import { range, read, trackRoot } from '../queries/read.js';
import { Session } from '../session/session.js';
import { refKey } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { parseRate } from '../time/rate.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { collect } from './collect.js';

const SECOND = 1_000_000_000n;
const HOUR = 3_600_000;

async function twoVersions(space: SpaceStore) {
  const writer = new Writer().timeline({ name: 's1' }).track({
    timeline: 's1',
    name: 'det',
    kind: 'event',
    modality: 'event.detection',
    bucketDuration: 10n * SECOND,
  });
  writer.write(
    's1',
    'det',
    Array.from({ length: 500 }, (_, i) => ({ tick: BigInt(i) * 100_000_000n, payload: { n: i } })),
  );
  const first = await publish(new Session(space), writer, { ref: 'main' });
  const second = await publish(
    new Session(space),
    new Writer(first).write('s1', 'det', [{ tick: 7n, payload: 'x' }]),
    {
      ref: 'main',
    },
  );
  return { first, second };
}

test('collect keeps everything reachable from refs and their history, and sweeps old orphans', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const { first, second } = await twoVersions(space);
  const orphan = await space.putObject(new TextEncoder().encode('nobody points here'));

  const dry = await collect(new Session(space), { dryRun: true, now: Date.now() + 2 * HOUR });
  assert.deepEqual(dry.deleted, [multihashToHex(orphan)]);
  assert.equal(dry.refs, 1);
  assert.equal(dry.manifests, 2);
  assert.ok(await space.getObject(orphan)); // a dry run deletes nothing

  const young = await collect(new Session(space));
  assert.deepEqual(young.deleted, []);
  assert.equal(young.keptYoung, 1); // younger than the grace period: a publish might be in flight

  const swept = await collect(new Session(space), { now: Date.now() + 2 * HOUR });
  assert.deepEqual(swept.deleted, [multihashToHex(orphan)]);
  assert.ok(swept.bytesFreed > 0);
  await assert.rejects(new SpaceStore(space.store, 'lab').getObject(orphan), /does not exist/);

  // Both versions are still whole: time travel to the first works after GC.
  for (const version of [first, second]) {
    const session = new Session(new SpaceStore(space.store, 'lab'));
    const resolved = { hash: version.hash, manifest: await session.manifest(version.hash) };
    const all = await range(session, resolved, { timeline: 's1', t0: 0n, t1: 60n * SECOND });
    assert.equal(all.items.length, version === first ? 500 : 501);
  }
  const again = await collect(new Session(space), { now: Date.now() + 2 * HOUR });
  assert.deepEqual(again.deleted, []);
  assert.equal(again.reachable, again.scanned);
});

test('objects of a publish whose ref never moved are kept through the grace period', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  await twoVersions(space);
  const inFlight = [hashBytes(Uint8Array.of(1)), hashBytes(Uint8Array.of(2))];
  for (const [i] of inFlight.entries()) await space.putObject(Uint8Array.of(i + 1));
  const report = await collect(new Session(space), { graceMs: HOUR });
  assert.equal(report.keptYoung, 2);
  assert.deepEqual(report.deleted, []);
});

test('a ref that moves onto old unreachable objects while collect runs keeps them', async () => {
  const inner = new MemoryStore();
  let onList: (() => Promise<void>) | undefined;
  const hooked = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return async (prefix: string, options?: object) => {
          if (prefix.endsWith('/objects/') && onList) {
            const hook = onList;
            onList = undefined;
            await hook(); // a publish lands while collect is listing objects
          }
          return target.list(prefix, options);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const space = new SpaceStore(hooked, 'lab');
  const { second } = await twoVersions(space);
  await space.casRef('tmp', second.hash, undefined);
  const main = await space.readRef('main');
  await hooked.delete(refKey('lab', 'main')); // main's objects are now reachable only from tmp
  await hooked.delete(refKey('lab', 'tmp')); // ...and now from nothing
  onList = async () => {
    await space.casRef('main', main!.manifest, undefined);
  };
  const report = await collect(new Session(space), { now: Date.now() + 2 * HOUR });
  assert.deepEqual(report.deleted, []);
  const session = new Session(new SpaceStore(inner, 'lab'));
  const resolved = (await session.resolve('main'))!;
  const all = await range(session, resolved, { timeline: 's1', t0: 0n, t1: 60n * SECOND });
  assert.equal(all.items.length, 501);
});

test('collect keeps the parts of an item stored as parts: its bucket header names them', async () => {
  const space = new SpaceStore(new MemoryStore(), 'lab');
  const writer = new Writer().timeline({ name: 's1' }).track({
    timeline: 's1',
    name: 'cam',
    kind: 'stream',
    modality: 'video.h264',
    rate: parseRate('90000'),
  });
  const big = new Uint8Array(65 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
  writer.write('s1', 'cam', [{ tick: 0n, duration: SECOND, payload: big }]);
  const published = await publish(new Session(space), writer, { ref: 'main' });
  const entry = (await new Session(space).pages.floor(trackRoot(published.manifest.tracks[0]!)!, 0n))!;
  const header = decodeBucket(await space.getObject(entry.object));
  assert.equal(header.parts?.length, 2, 'the bucket names both parts of the 65 MiB item');

  const swept = await collect(new Session(space), { now: Date.now() + 2 * HOUR });
  assert.deepEqual(swept.deleted, []);
  const session = new Session(space);
  const item = await read(session, (await session.resolve('main'))!, {
    timeline: 's1',
    track: 'cam',
    tick: 0n,
  });
  assert.equal(Buffer.compare(item!.bytes, big), 0, 'the item reads back whole after the collection');
});
