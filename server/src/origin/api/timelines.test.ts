import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serveLab } from '../testing/lab.js';

/** The timeline API: a timeline's listing with its playback URLs, and time-seek from the index. */

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-timelines-'));
let base = '';
let close: () => Promise<void>;

before(async () => {
  const lab = await serveLab(
    dir,
    '{"seconds": 1, "label": "start", "who": "ana"}\n{"seconds": 3.5, "duration_s": 1.5, "label": "grasp \\"cup\\""}\n',
    { thumbnails: { everySeconds: 2, width: 96 }, genesis: 1_795_600_000_000_000_000n },
  );
  ({ base } = lab);
  close = lab.close;
});
after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

test('the API lists a timeline with its playback URL; bad requests get a clear 4xx', async () => {
  const listing = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1`)).json()) as {
    tracks: { name: string; kind: string; items: number }[];
    playback: { hls: string };
  };
  assert.equal(listing.playback.hls, '/hls/lab/main/s1/master.m3u8');
  assert.ok(listing.tracks.some((t) => t.name === 'video-180p' && t.kind === 'stream' && t.items === 3));
  const missing = await fetch(`${base}/hls/lab/nope/s1/master.m3u8`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { message: string }).message, /no ref nope/);
  assert.equal((await fetch(`${base}/objects/lab/not-a-hash`)).status, 400);
  assert.equal((await fetch(`${base}/hls/lab/main/s1/nope.m3u8`)).status, 404);
  assert.equal((await fetch(`${base}/v0/spaces/lab/timelines/elsewhere`)).status, 404);
});

test('seek: the fragment covering t on every stream track, from the index alone', async () => {
  const answer = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=3.5s`)).json()) as {
    t: string;
    tracks: {
      track: string;
      tick: string;
      duration: string;
      offset: string;
      url: string;
      range: { start: number; end: number };
    }[];
  };
  assert.equal(answer.t, '3500000000');
  assert.deepEqual(answer.tracks.map((h) => h.track).sort(), ['audio', 'video-144p', 'video-180p']);
  for (const hit of answer.tracks) {
    const tick = BigInt(hit.tick);
    assert.ok(
      tick <= 3_500_000_000n && 3_500_000_000n < tick + BigInt(hit.duration),
      `${hit.track} covers t`,
    );
    assert.equal(BigInt(hit.offset), 3_500_000_000n - tick);
    const bytes = await fetch(`${base}${hit.url}`, {
      headers: { range: `bytes=${hit.range.start}-${hit.range.end - 1}` },
    });
    assert.equal(bytes.status, 206);
    // The fragment itself: a moof box first.
    assert.equal(Buffer.from(await bytes.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  }
  // Video rungs are cut at the same ticks.
  const video = answer.tracks.filter((h) => h.track.startsWith('video'));
  assert.equal(video[0]!.tick, video[1]!.tick);
  assert.equal((await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=soon`)).status, 400);
  const late = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=3600s`)).json()) as {
    tracks: unknown[];
  };
  assert.deepEqual(late.tracks, []);
});
