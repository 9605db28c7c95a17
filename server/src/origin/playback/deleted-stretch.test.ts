/** A deleted stretch of media (spec 0020 §5) plays across in ffmpeg and GStreamer, over HLS and DASH. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Session, SpaceStore } from '@dreamdb/engine/store';
import { collect, fsck } from '@dreamdb/engine/versions';
import { ffmpegCopy } from '../testing/ffmpeg.js';
import { gstPlay } from '../testing/gstreamer.js';
import { labForTests } from '../testing/lab.js';

const run = promisify(execFile);
/** The lab's events with a marker: erasure must leave it nowhere in the store's files. */
const MARKER = 'zqxlab7731';
const served = labForTests(
  'deleted-stretch',
  `{"seconds": 1, "label": "start"}\n{"seconds": 3.5, "label": "${MARKER}"}\n`,
);
const lab = () => served.lab;
const api = (path: string, body: unknown) =>
  fetch(`${lab().base}/v0/spaces/lab/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const STREAMS = ['video-180p', 'video-144p', 'audio'];

/** The lab session on branch `cut` with its media from 2 s to 4 s deleted (made once). */
let cut: Promise<void> | undefined;
function cutBranch(): Promise<void> {
  cut ??= (async () => {
    assert.equal((await api('refs', { name: 'cut', at: 'main' })).status, 201);
    const response = await api('delete', {
      ref: 'heads/cut',
      deletes: STREAMS.map((track) => ({ timeline: 's1', track, from: '2s', to: '4s' })),
      message: 'withdrawn',
    });
    const doc = (await response.json()) as {
      deleted: number;
      tombstones: { track: string; count: number }[];
    };
    assert.equal(response.status, 200, JSON.stringify(doc));
    assert.deepEqual(
      doc.tombstones.map((t) => t.track),
      ['audio', 'video-144p', 'video-180p'],
    );
    assert.ok(doc.deleted >= 3);
  })();
  return cut;
}

/** Video frames and their time span in a media file, by ffprobe. */
async function videoFrames(file: string): Promise<{ frames: number; times: number[] }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    '-of',
    'csv=p=0',
    file,
  ]);
  const times = stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  return { frames: times.length, times };
}

test('HLS: the deleted stretch is EXT-X-GAP segments, the media after it keeps its time', async () => {
  await cutBranch();
  const text = await (await fetch(`${lab().base}/hls/lab/heads%2Fcut/s1/video-180p.m3u8`)).text();
  const lines = text.split('\n');
  const gap = lines.indexOf('#EXT-X-GAP');
  assert.ok(gap > 0, text);
  assert.match(lines[gap + 1]!, /^#EXTINF:2\.0+,$/);
  assert.equal(lines[gap + 2], 'gap.m4s');
  assert.equal(lines[gap + 3], '#EXT-X-DISCONTINUITY');
  let total = 0;
  for (const l of lines) if (l.startsWith('#EXTINF:')) total += Number(l.slice(8, -1));
  assert.ok(Math.abs(total - 6) < 0.05, `${total} s listed`);
  const empty = await fetch(`${lab().base}/hls/lab/heads%2Fcut/s1/gap.m4s`);
  assert.equal(empty.status, 200);
  assert.equal((await empty.arrayBuffer()).byteLength, 0);
  // main still has every fragment
  assert.ok(!(await (await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8`)).text()).includes('GAP'));
});

test('ffmpeg plays the HLS and the DASH across the deleted stretch: the frames before and after it, none of it', async () => {
  await cutBranch();
  for (const [name, url] of [
    ['hls', `${lab().base}/hls/lab/heads%2Fcut/s1/video-180p.m3u8`],
    ['dash', `${lab().base}/dash/lab/heads%2Fcut/s1/manifest.mpd`],
  ] as const) {
    const copy = join(served.dir, `cut-${name}.mp4`);
    await ffmpegCopy(url, copy, ['0:v:0']);
    const { frames, times } = await videoFrames(copy);
    // 4 s of the 6 s at 25 fps; nothing between 2 s and 4 s of the timeline.
    assert.ok(Math.abs(frames - 100) <= 1, `${name}: ${frames} frames`);
    const first = times[0]!;
    assert.ok(
      times.every((t) => t - first < 2 - 0.02 || t - first >= 4 - 0.02),
      `${name}: a frame inside the deleted stretch`,
    );
  }
});

test('GStreamer plays the HLS and the DASH across the deleted stretch to the end, without error', async () => {
  await cutBranch();
  for (const url of [
    `${lab().base}/hls/lab/heads%2Fcut/s1/master.m3u8`,
    `${lab().base}/dash/lab/heads%2Fcut/s1/manifest.mpd`,
  ]) {
    const played = await gstPlay(url);
    assert.ok(Math.abs(played.video.buffers - 100) <= 2, `${url}: ${played.video.buffers} video buffers`);
    assert.ok(played.video.end > 5.9, `${url}: played to ${played.video.end} s`);
  }
});

/** Files under the lab's store directory that hold `needle`. */
function holders(needle: Uint8Array): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && readFileSync(path).includes(Buffer.from(needle))) found.push(path);
    }
  };
  walk(join(served.dir, 'store'));
  return found;
}

// Last: erasure changes every version of the lab, main included.
test('erase over HTTP: a real fragment and an event leave the store; the version before plays across them; fsck is clean', async () => {
  await cutBranch();
  assert.equal((await api('refs', { name: 'before', tag: true, at: 'main' })).status, 201);
  const item = (await (
    await fetch(`${lab().base}/v0/spaces/lab/timelines/s1/tracks/video-180p/items/2s`)
  ).json()) as { url: string; range: { start: number; end: number } };
  const bucketUrl = `${lab().base}${item.url}`;
  const fragment = new Uint8Array(
    await (
      await fetch(bucketUrl, { headers: { range: `bytes=${item.range.start}-${item.range.end - 1}` } })
    ).arrayBuffer(),
  );
  // 64 bytes from the middle of the fragment's media data: found in its bucket only.
  const needle = fragment.subarray(fragment.length >> 1, (fragment.length >> 1) + 64);
  assert.equal(holders(needle).length, 1);
  assert.ok(
    holders(new TextEncoder().encode(MARKER)).length >= 2,
    JSON.stringify(holders(new TextEncoder().encode(MARKER))),
  );
  const refused = await api('delete', { ref: 'tags/before', deletes: [{ timeline: 's1', track: 'events' }] });
  assert.equal(refused.status, 403);
  const response = await api('delete', {
    ref: 'main',
    erase: true,
    deletes: [
      ...STREAMS.map((track) => ({ timeline: 's1', track, from: '2s', to: '4s' })),
      { timeline: 's1', track: 'events', from: '3s', to: '4s' },
    ],
  });
  const doc = (await response.json()) as { deleted: number; erase: boolean };
  assert.equal(response.status, 200, JSON.stringify(doc));
  assert.ok(doc.erase && doc.deleted >= 4);
  // The erased fragment's bytes are gone from the version before too: 410; the bucket's others still read.
  const gone = await fetch(bucketUrl, {
    headers: { range: `bytes=${item.range.start}-${item.range.end - 1}` },
  });
  assert.equal(gone.status, 410);
  const gonePlaylist = await (await fetch(`${lab().base}/hls/lab/tags%2Fbefore/s1/video-180p.m3u8`)).text();
  assert.ok(gonePlaylist.includes('#EXT-X-GAP'), gonePlaylist);
  const copy = join(served.dir, 'before-erased.mp4');
  await ffmpegCopy(`${lab().base}/hls/lab/tags%2Fbefore/s1/video-180p.m3u8`, copy, ['0:v:0']);
  assert.ok(Math.abs((await videoFrames(copy)).frames - 100) <= 1);
  const event = await fetch(
    `${lab().base}/v0/spaces/lab/timelines/s1/tracks/events/items/3.99s?ref=tags/before`,
  );
  assert.equal(event.status, 410, await event.text());
  const store = lab().origin.cache.store;
  await collect(new Session(new SpaceStore(store, 'lab')), { graceMs: 0 });
  assert.deepEqual(holders(needle), []);
  assert.deepEqual(holders(new TextEncoder().encode(MARKER)), []);
  assert.deepEqual((await fsck(store)).problems, []);
});
