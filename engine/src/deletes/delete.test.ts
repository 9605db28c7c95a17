import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { range, read } from '../queries/read.js';
import { search } from '../queries/search.js';
import { stream } from '../queries/stream.js';
import { textSearch } from '../queries/text-search.js';
import { Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import type { ObjectStore } from '../store/object-store.js';
import { listAll } from '../store/object-store.js';
import { RefConflictError } from '../store/space-store.js';
import { erasureProof } from '../testing/erasure-proof.js';
import { failingStore, minuteRecording, SECOND } from '../testing/fixtures.js';
import { collect } from '../versions/collect.js';
import { fsck } from '../versions/fsck.js';
import { merge } from '../versions/merge.js';
import { MergeConflictError } from '../versions/merge-content.js';
import { createRef } from '../versions/refs.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { compact } from './compact.js';
import { deleteItems } from './delete.js';
import { readRegistry } from './registry.js';
import { openTombstoneList } from './tombstone-list.js';

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

const recorded = (store: ObjectStore = new MemoryStore()) => minuteRecording(store);

const ticks = async (session: Session, track: string, t0 = 0n, t1 = 100n * SECOND) => {
  const main = (await session.resolve('main'))!;
  const page = await range(session, main, { timeline: 's1', tracks: [track], t0, t1 });
  return page.items.map((i) => i.tick / SECOND);
};

test('a deleted tick range is gone from read, range, stream, search and text; earlier versions keep it', async () => {
  const { space, session, first } = await recorded();
  const done = await deleteItems(session, {
    ref: 'main',
    selectors: [
      { timeline: 's1', track: 'det', from: 15n * SECOND, to: 20n * SECOND },
      { timeline: 's1', track: 'emb', from: 17n * SECOND, to: 18n * SECOND },
      { timeline: 's1', track: 'cam', from: 10n * SECOND, to: 14n * SECOND },
    ],
    author: 'ana',
  });
  assert.equal(done.deleted, 5 + 1 + 2);
  const fresh = new Session(space);
  const main = (await fresh.resolve('main'))!;
  assert.deepEqual(
    (await ticks(fresh, 'det')).filter((s) => s >= 13n && s <= 21n),
    [13n, 14n, 20n, 21n],
  );
  // read at a deleted tick: an event track gives the item before it; a stream track has no fragment
  const at = await read(fresh, main, { timeline: 's1', track: 'det', tick: 17n * SECOND });
  assert.equal(at!.tick, 14n * SECOND);
  assert.equal(await read(fresh, main, { timeline: 's1', track: 'cam', tick: 11n * SECOND }), undefined);
  const streamed: bigint[] = [];
  for await (const item of stream(fresh, main, {
    timeline: 's1',
    tracks: ['cam'],
    from: 6n * SECOND,
    to: 20n * SECOND,
  }))
    streamed.push(item.tick / SECOND);
  assert.deepEqual(streamed, [6n, 8n, 14n, 16n, 18n]);
  // text and vector search no longer find the deleted items
  assert.deepEqual(await textSearch(fresh, main, { timeline: 's1', query: 'zqxmarker', k: 5 }), []);
  assert.ok((await textSearch(fresh, main, { timeline: 's1', query: 'person', k: 100 })).length === 55);
  const near = await search(fresh, main, {
    timeline: 's1',
    track: 'emb',
    vector: [1, 17, 100, 1],
    k: 1,
    exact: true,
  });
  assert.notEqual(near[0]!.tick, 17n * SECOND);
  const nearIndexed = await search(fresh, main, {
    timeline: 's1',
    track: 'emb',
    vector: [1, 17, 100, 1],
    k: 3,
  });
  assert.ok(nearIndexed.every((h) => h.tick !== 17n * SECOND));
  // the version before still has them: a delete is a new version, not a rewrite of history
  const before = { hash: first.hash, manifest: first.manifest };
  assert.equal(
    (await read(fresh, before, { timeline: 's1', track: 'det', tick: 17n * SECOND }))!.tick,
    17n * SECOND,
  );
  assert.equal((await textSearch(fresh, before, { timeline: 's1', query: 'zqxmarker', k: 5 })).length, 1);
  // the TombstoneList says what went; the registry lists the manifest
  const list = openTombstoneList(await space.getObject(main.manifest.tombstones!));
  assert.equal(list.erase, false);
  assert.deepEqual(
    list.tombstones.map((t) => [t.track, t.from! / SECOND, t.to! / SECOND, t.count]),
    [
      ['cam', 10n, 14n, 2],
      ['det', 15n, 20n, 5],
      ['emb', 17n, 18n, 1],
    ],
  );
  assert.equal(
    multihashToHex(list.tombstones[1]!.root!),
    multihashToHex(first.manifest.tracks.find((t) => t.name === 'det')!.index!.root),
  );
  assert.deepEqual([...(await readRegistry(space.store, 'lab')).deletes], [multihashToHex(main.hash)]);
  assert.equal(main.manifest.tracks.find((t) => t.name === 'det')!.index!.count, 55);
});

test('whole tracks and timelines go; deleting a track then defining it again starts it empty', async () => {
  const { session } = await recorded();
  await deleteItems(session, { ref: 'main', selectors: [{ timeline: 's1', track: 'emb' }] });
  let main = (await session.resolve('main'))!;
  assert.deepEqual(
    main.manifest.tracks.map((t) => t.name),
    ['cam', 'det'],
  );
  const list = openTombstoneList(await session.store.getObject(main.manifest.tombstones!));
  assert.deepEqual(
    list.tombstones.map((t) => [t.track, t.count, t.from]),
    [['emb', 60, undefined]],
  );
  const done = await deleteItems(session, { ref: 'main', selectors: [{ timeline: 's1' }] });
  assert.equal(done.deleted, 90);
  main = (await session.resolve('main'))!;
  assert.deepEqual(main.manifest.tracks, []);
  assert.deepEqual(main.manifest.timelines, []);
});

test('a delete and a write in one batch: the batch replaces what it deletes', async () => {
  const { session } = await recorded();
  const writer = new Writer((await session.resolve('main'))!);
  writer.delete({ timeline: 's1', track: 'det', from: 0n, to: 10n * SECOND });
  writer.write('s1', 'det', [{ tick: 5n * SECOND, payload: { label: 'fixed' } }]);
  await publish(session, writer, { ref: 'main' });
  assert.deepEqual(await ticks(session, 'det', 0n, 11n * SECOND), [5n, 10n]);
  assert.equal(
    (await textSearch(session, (await session.resolve('main'))!, { timeline: 's1', query: 'fixed', k: 5 }))
      .length,
    1,
  );
});

test('bad deletes are refused and change nothing; an empty range publishes nothing', async () => {
  const { space, session, first } = await recorded();
  await createRef(session, 'tags/v1', 'main');
  await assert.rejects(
    deleteItems(session, { ref: 'tags/v1', selectors: [{ timeline: 's1', track: 'det' }] }),
    code('E_FORBIDDEN'),
  );
  await assert.rejects(
    deleteItems(session, { ref: 'main', selectors: [{ timeline: 's1', track: 'nope' }] }),
    (e: unknown) => code('E_NOT_FOUND')(e) && /s1\/nope/.test((e as Error).message),
  );
  await assert.rejects(
    deleteItems(session, { ref: 'main', selectors: [{ timeline: 's1', track: 'det', from: 5n, to: 5n }] }),
    code('E_TICK_RANGE'),
  );
  await assert.rejects(
    deleteItems(session, { ref: 'main', selectors: [{ timeline: 's1', from: 5n }] }),
    code('E_FIELD'),
  );
  await assert.rejects(
    deleteItems(session, { ref: 'nobranch', selectors: [{ timeline: 's1' }] }),
    code('E_NOT_FOUND'),
  );
  const empty = await deleteItems(session, {
    ref: 'main',
    selectors: [{ timeline: 's1', track: 'det', from: 500n * SECOND }],
  });
  assert.deepEqual(empty, { deleted: 0, tombstones: [] });
  const main = await space.readRef('main');
  assert.equal(multihashToHex(main!.manifest), multihashToHex(first.hash));
  assert.equal((await readRegistry(space.store, 'lab')).deletes.size, 0);
});

test('a delete whose writes fail leaves the ref as it was', async () => {
  let failing = false;
  const inner = new MemoryStore();
  const { space, first } = await recorded(failingStore(() => failing, inner) as MemoryStore);
  failing = true;
  await assert.rejects(
    deleteItems(new Session(space), {
      ref: 'main',
      selectors: [{ timeline: 's1', track: 'det', from: 0n, to: 5n * SECOND }],
    }),
    code('E_STORE'),
  );
  failing = false;
  assert.equal(multihashToHex((await space.readRef('main'))!.manifest), multihashToHex(first.hash));
});

test('a delete racing a write to the same item: one wins by the compare-and-swap, nothing half-applied', async () => {
  const { space, session, first } = await recorded();
  const before = (await space.readRef('main'))!;
  // Another client changes det@17 first; the delete was built on the version before.
  const other = new Writer({ hash: first.hash, manifest: first.manifest });
  other.write('s1', 'det', [{ tick: 17n * SECOND, payload: { label: 'changed' } }]);
  const won = await publish(new Session(space), other, { ref: 'main' });
  const stale = new Writer({
    hash: first.hash,
    manifest: first.manifest,
    ref: { name: 'main', state: before },
  });
  stale.delete({ timeline: 's1', track: 'det', from: 17n * SECOND, to: 18n * SECOND });
  await assert.rejects(publish(session, stale, { ref: 'main' }), RefConflictError);
  await assert.rejects(publish(session, stale, { ref: 'main', rebase: true }), (e: unknown) => {
    assert.ok(e instanceof MergeConflictError);
    assert.equal(e.conflicts[0]!.reason, 'removed on one side and changed on the other');
    assert.ok(e.conflicts[0]!.ours && !('track' in e.conflicts[0]!.ours));
    return true;
  });
  assert.equal(multihashToHex((await space.readRef('main'))!.manifest), multihashToHex(won.hash));
  // A delete of another item rebases onto the winner and keeps its TombstoneList.
  const elsewhere = new Writer({
    hash: first.hash,
    manifest: first.manifest,
    ref: { name: 'main', state: before },
  });
  elsewhere.delete({ timeline: 's1', track: 'det', from: 30n * SECOND, to: 31n * SECOND });
  const rebased = await publish(session, elsewhere, { ref: 'main', rebase: true });
  assert.ok(rebased.manifest.tombstones);
  assert.deepEqual(rebased.manifest.parents.map(multihashToHex), [multihashToHex(won.hash)]);
  const labels = await range(session, rebased, {
    timeline: 's1',
    tracks: ['det'],
    t0: 17n * SECOND,
    t1: 32n * SECOND,
  });
  assert.deepEqual(
    labels.items.map((i) => i.tick / SECOND).filter((s) => s === 17n || s >= 30n),
    [17n, 31n],
  );
  assert.ok((await readRegistry(space.store, 'lab')).deletes.has(multihashToHex(rebased.hash)));
});

test('merges: a delete against an unchanged side is deleted; against a change it is a conflict listing both', async () => {
  const { session } = await recorded();
  await createRef(session, 'heads/review', 'main');
  await deleteItems(session, {
    ref: 'heads/review',
    selectors: [{ timeline: 's1', track: 'det', from: 3n * SECOND, to: 5n * SECOND }],
  });
  const main = (await session.resolve('main'))!;
  const edit = new Writer(main);
  edit.write('s1', 'det', [{ tick: 40n * SECOND, payload: { label: 'other work' } }]);
  await publish(session, edit, { ref: 'main' });
  await merge(session, { into: 'main', from: ['heads/review'] });
  assert.deepEqual(await ticks(session, 'det', 0n, 6n * SECOND), [0n, 1n, 2n, 5n]);
  assert.equal(
    (
      await textSearch(session, (await session.resolve('main'))!, {
        timeline: 's1',
        query: 'other work',
        k: 3,
      })
    )[0]!.tick,
    40n * SECOND,
  );

  await createRef(session, 'heads/b', 'main');
  await deleteItems(session, {
    ref: 'heads/b',
    selectors: [{ timeline: 's1', track: 'det', from: 8n * SECOND, to: 9n * SECOND }],
  });
  const change = new Writer((await session.resolve('main'))!);
  change.write('s1', 'det', [{ tick: 8n * SECOND, payload: { label: 'relabelled' } }]);
  const changed = await publish(session, change, { ref: 'main' });
  await assert.rejects(merge(session, { into: 'main', from: ['heads/b'] }), (e: unknown) => {
    assert.ok(e instanceof MergeConflictError);
    const c = e.conflicts[0]!;
    assert.equal(c.tick, 8n * SECOND);
    assert.deepEqual((c.ours as { payload: unknown }).payload, { label: 'relabelled' });
    assert.equal(c.theirs, undefined);
    assert.deepEqual((c.base as { payload: unknown }).payload, { label: 'person 8' });
    return true;
  });
  assert.equal(multihashToHex((await session.store.readRef('main'))!.manifest), multihashToHex(changed.hash));
});

test('erasure: history no longer holds the bytes; earlier versions answer E_ERASED for those items only; fsck is clean', async () => {
  const store = new MemoryStore();
  await erasureProof(store, async function* () {
    for await (const info of listAll(store, ''))
      yield { name: info.key, bytes: (await store.get(info.key)).body };
  });
});

test("compact rewrites the head's buckets without deleted items; every item reads the same; collect then frees the old ones once history lets go", async () => {
  const store = new MemoryStore();
  const { space, session } = await recorded(store);
  await deleteItems(session, {
    ref: 'main',
    selectors: [
      { timeline: 's1', track: 'det', from: 10n * SECOND, to: 40n * SECOND },
      { timeline: 's1', track: 'cam', from: 20n * SECOND, to: 30n * SECOND },
    ],
  });
  const before = (await session.resolve('main'))!;
  const read = async (v: typeof before) =>
    (await range(session, v, { timeline: 's1', t0: 0n, t1: 100n * SECOND })).items.map((i) => [
      i.track,
      i.tick,
      Buffer.from(i.bytes).toString('hex'),
    ]);
  const done = await compact(session, { ref: 'main' });
  assert.equal(done.buckets, 2);
  assert.equal(done.items, 30 + 25);
  assert.ok(done.bytesAfter < done.bytesBefore, JSON.stringify(done));
  const after = (await session.resolve('main'))!;
  assert.deepEqual(await read(after), await read(before));
  assert.deepEqual(after.manifest.parents.map(multihashToHex), [multihashToHex(before.hash)]);
  assert.equal((await textSearch(session, after, { timeline: 's1', query: 'person', k: 100 })).length, 30);
  // Nothing left to do the second time.
  assert.equal((await compact(session, { ref: 'main' })).buckets, 0);
  assert.deepEqual((await fsck(store)).problems, []);
  // While the first version holds the old buckets, collect keeps them.
  assert.deepEqual((await collect(new Session(space), { graceMs: 0 })).deleted, []);
});
