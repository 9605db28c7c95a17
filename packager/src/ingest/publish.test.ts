import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EngineError, multihashToHex } from '@dreamdb/engine';
import { range } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { MediaError } from '../errors.js';
import { makeClip } from '../ffmpeg/lavfi.js';
import { ingest, packageInput } from './ingest.js';
import { type IngestBatch, publishIngest } from './publish.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-publish-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const clip = makeClip(join(dir, 'clip.mp4'), { seconds: 5, size: '192x108', rate: 25, audio: 48000 });
const options = { fragmentSeconds: 1, thumbnails: { everySeconds: 1 }, audioLevels: true } as const;
const HOUR = 3600n * 1_000_000_000n;
const newSession = () => new Session(new SpaceStore(new MemoryStore(), 'lab'));

/** Every item of timeline s1 on main: track, tick, duration and stored bytes (hex), in (tick, track) order. */
async function items(session: Session) {
  const main = (await session.resolve('main'))!;
  const page = await range(session, main, { timeline: 's1', t0: 0n, t1: HOUR });
  return page.items.map((i) => ({
    track: i.track,
    tick: i.tick,
    duration: i.duration,
    bytes: Buffer.from(i.bytes).toString('hex'),
  }));
}

/** The batches an ingest of the clip publishes, taken all at once (no store involved). */
async function batchesOf(file: string): Promise<IngestBatch[]> {
  const out: IngestBatch[] = [];
  for await (const batch of (await packageInput(file, options)).batches) out.push(batch);
  return out;
}

test('publishing an ingest fragment by fragment gives the items (ticks, bytes) of a one-shot ingest of the same file', async () => {
  const oneShot = newSession();
  const report = await ingest(oneShot, clip, { timeline: 's1', ...options });
  const expected = await items(oneShot);

  const live = newSession();
  const packaged = await packageInput(clip, options);
  const versions = new Set<string>();
  let calls = 0;
  // As a live recording would: one version per batch, published while ffmpeg is still cutting.
  for await (const batch of packaged.batches) {
    const done = await publishIngest(live, [batch], { timeline: 's1', source: clip });
    assert.equal(done.unchanged, false, `call ${calls}`);
    versions.add(multihashToHex(done.published.hash));
    calls++;
  }
  const fragments = report.tracks.reduce((n, t) => n + t.fragments, 0);
  assert.ok(fragments >= 10, `${fragments} fragments`);
  // A batch per track header, per fragment, per derived track and chunk, and the RenditionPlaylist.
  assert.ok(calls > fragments, `${calls} calls for ${fragments} fragments`);
  assert.equal(versions.size, calls, 'every call published a version of its own');

  const got = await items(live);
  assert.equal(got.length, expected.length);
  assert.deepEqual(got, expected);
  assert.deepEqual(
    new Set(expected.map((i) => i.track)),
    new Set(['video', 'audio', 'thumbnails', 'audio-level', 'renditions']),
  );
  // The same track definitions (CMAF headers included) on both sides.
  const definitions = async (session: Session) =>
    (await session.resolve('main'))!.manifest.tracks
      .map((t) => [t.name, t.kind, t.modality, t.codecs, t.init && multihashToHex(t.init)])
      .sort();
  assert.deepEqual(await definitions(live), await definitions(oneShot));
  assert.deepEqual(
    packaged.tracks.map((t) => [t.name, t.fragments, t.first, t.end]),
    report.tracks.map((t) => [t.name, t.fragments, t.first, t.end]),
  );
  assert.equal(packaged.origin, report.origin);
});

test('a batch published again changes nothing; other bytes at a stored tick are refused and the ref stays', async () => {
  const batches = await batchesOf(clip);
  const session = newSession();
  const first = await publishIngest(session, batches, { timeline: 's1' });
  assert.ok(first.written > 10);
  assert.equal(first.skipped, 0);
  const fragment = batches.find((b) => b.items?.[0]?.track === 'video')!;
  const again = await publishIngest(session, [fragment], { timeline: 's1' });
  assert.equal(again.unchanged, true);
  assert.equal(again.skipped, 1);
  assert.deepEqual(again.published.hash, first.published.hash);
  // The RenditionPlaylist is a constant item: equal to the stored one, it is skipped too.
  const renditions = batches.at(-1)!;
  assert.equal((await publishIngest(session, [renditions], { timeline: 's1' })).unchanged, true);

  const item = fragment.items![0]!.items[0]!;
  const other = new Uint8Array(item.payload as Uint8Array);
  other[other.length - 1]! ^= 0xff;
  await assert.rejects(
    publishIngest(session, [{ items: [{ track: 'video', items: [{ ...item, payload: other }] }] }], {
      timeline: 's1',
      source: 'take2.mp4',
    }),
    (error: unknown) =>
      error instanceof MediaError &&
      error.message ===
        `take2.mp4: track s1/video already holds other media at tick ${item.tick}; ingest into another timeline`,
  );
  assert.deepEqual((await session.resolve('main'))!.hash, first.published.hash);
});

test('a failed or refused publish of batches publishes nothing', async () => {
  const session = newSession();
  const batches = await batchesOf(clip);
  await publishIngest(session, batches.slice(0, 3), { timeline: 'before' });
  const before = (await session.resolve('main'))!.hash;
  const failing = async function* () {
    yield* batches.slice(0, 6);
    throw new MediaError('cam.mp4', 'the camera went away');
  };
  await assert.rejects(
    publishIngest(session, failing(), { timeline: 's1' }),
    /cam\.mp4: the camera went away/,
  );
  await assert.rejects(
    publishIngest(session, [{ items: [{ track: 'nowhere', items: [] }] }], { timeline: 's1' }),
    (error: unknown) =>
      error instanceof EngineError && /track s1\/nowhere is not defined/.test(error.message),
  );
  const headerless = { track: { name: 'video', kind: 'stream', modality: 'video.h264' } } as const;
  await assert.rejects(
    publishIngest(session, [{ tracks: [headerless] }], { timeline: 's1', source: 'cam.mp4' }),
    /cam\.mp4: stream track s1\/video comes without its CMAF header/,
  );
  await assert.rejects(
    publishIngest(session, batches, { timeline: 'before', requireNew: true }),
    /E_CONFLICT|timeline before already exists in main/,
  );
  const aborted = new AbortController();
  aborted.abort(new Error('stopped'));
  await assert.rejects(
    publishIngest(session, batches, { timeline: 's1', signal: aborted.signal }),
    /stopped/,
  );
  assert.deepEqual((await session.resolve('main'))!.hash, before, 'nothing was published');
  assert.equal((await session.resolve('main'))!.manifest.timelines.length, 1);
});
