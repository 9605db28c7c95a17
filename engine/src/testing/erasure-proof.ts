import assert from 'node:assert/strict';
import { deleteItems } from '../deletes/delete.js';
import { erase } from '../deletes/erase.js';
import { EngineError } from '../errors.js';
import { range, read } from '../queries/read.js';
import { search } from '../queries/search.js';
import { stream } from '../queries/stream.js';
import { textSearch } from '../queries/text-search.js';
import { Session } from '../session/session.js';
import type { ObjectStore } from '../store/object-store.js';
import { SpaceStore } from '../store/space-store.js';
import { collect } from '../versions/collect.js';
import { fsck } from '../versions/fsck.js';
import { createRef } from '../versions/refs.js';
import { minuteRecording, SECOND } from './fixtures.js';

/** Raw stored things (objects, refs, registries, files) as a scan sees them: a name and the bytes. */
export type RawScan = () => AsyncIterable<{ name: string; bytes: Uint8Array }>;

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

/**
 * The proof of spec 0020 §7 on any store: plant a unique marker in an event payload and in a media item,
 * delete them with erasure on main while a branch and a tag still hold them, collect, then scan every
 * raw thing the store holds: no copy of either marker anywhere, every other item of every version still
 * reads back, the erased ones answer E_ERASED, and fsck is clean.
 */
export async function erasureProof(store: ObjectStore, scan: RawScan): Promise<void> {
  const eventMarker = `zqxmarker${Math.random().toString().slice(2, 10)}`;
  const mediaMarker = `mediamarker-${Math.random().toString(36).slice(2, 10)}`;
  const holders = async (marker: string) => {
    const needle = Buffer.from(marker);
    const found: string[] = [];
    for await (const { name, bytes } of scan()) if (Buffer.from(bytes).includes(needle)) found.push(name);
    return found;
  };
  const { session, first } = await minuteRecording(store, {
    fragment10: `${mediaMarker}@10`,
    detection17: eventMarker,
  });
  await createRef(session, 'heads/keep', 'main');
  await createRef(session, 'tags/v1', 'main');
  assert.ok((await holders(eventMarker)).length >= 2, 'the bucket and the text index hold the event marker');
  assert.ok((await holders(mediaMarker)).length >= 1);

  const done = await deleteItems(session, {
    ref: 'main',
    selectors: [
      { timeline: 's1', track: 'det', from: 17n * SECOND, to: 18n * SECOND },
      { timeline: 's1', track: 'emb', from: 17n * SECOND, to: 18n * SECOND },
      { timeline: 's1', track: 'cam', from: 10n * SECOND, to: 12n * SECOND },
    ],
    erase: true,
  });
  assert.equal(done.deleted, 3);
  assert.ok(done.erasure!.buckets >= 3 && done.erasure!.segments >= 2, JSON.stringify(done.erasure));
  const fresh = new Session(new SpaceStore(store, 'lab'));
  const before = { hash: first.hash, manifest: first.manifest };
  for (const version of [before, (await fresh.resolve('heads/keep'))!, (await fresh.resolve('tags/v1'))!]) {
    await assert.rejects(
      read(fresh, version, { timeline: 's1', track: 'det', tick: 17n * SECOND }),
      code('E_ERASED'),
    );
    await assert.rejects(
      read(fresh, version, { timeline: 's1', track: 'cam', tick: 10n * SECOND }),
      code('E_ERASED'),
    );
    const around = await range(fresh, version, {
      timeline: 's1',
      tracks: ['det'],
      t0: 15n * SECOND,
      t1: 20n * SECOND,
    });
    assert.deepEqual(
      around.items.map((i) => i.tick / SECOND),
      [15n, 16n, 18n, 19n],
    );
    assert.deepEqual((around.items[1]!.payload as { label: string }).label, 'person 16');
    const frames: bigint[] = [];
    for await (const item of stream(fresh, version, {
      timeline: 's1',
      tracks: ['cam'],
      from: 6n * SECOND,
      to: 16n * SECOND,
    }))
      frames.push(item.tick / SECOND);
    assert.deepEqual(frames, [6n, 8n, 12n, 14n]);
    assert.deepEqual(await textSearch(fresh, version, { timeline: 's1', query: eventMarker, k: 5 }), []);
    assert.equal((await textSearch(fresh, version, { timeline: 's1', query: 'person', k: 100 })).length, 59);
    const near = await search(fresh, version, {
      timeline: 's1',
      track: 'emb',
      vector: [1, 17, 100, 1],
      k: 3,
    });
    assert.ok(near.length === 3 && near.every((h) => h.tick !== 17n * SECOND));
  }
  // The old text pages that held the marker are unreachable now: collect takes them.
  await collect(fresh, { graceMs: 0 });
  assert.deepEqual(await holders(eventMarker), []);
  assert.deepEqual(await holders(mediaMarker), []);
  assert.deepEqual((await fsck(store)).problems, []);
  // Every other item reads back intact, in every version.
  const all = await range(fresh, before, {
    timeline: 's1',
    tracks: ['det', 'emb', 'cam'],
    t0: 0n,
    t1: 100n * SECOND,
  });
  assert.equal(all.items.length, 60 + 60 + 30 - 3);
  const twelve = all.items.find((i) => i.track === 'cam' && i.tick === 12n * SECOND)!;
  assert.equal(new TextDecoder().decode(twelve.bytes), 'fragment@12');
  // Erasing again finds nothing more to do.
  const again = await erase(fresh, done.published!.hash);
  assert.equal(again.buckets + again.segments, 0);
}
