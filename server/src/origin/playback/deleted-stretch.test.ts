/** A deleted stretch of media (spec 0020 §5) plays across in ffmpeg and GStreamer, over HLS and DASH. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gstPlay } from '../testing/gstreamer.js';
import { labForTests } from '../testing/lab.js';

const run = promisify(execFile);
const served = labForTests('deleted-stretch');
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
    const doc = (await response.json()) as { deleted: number; tombstones: { track: string; count: number }[] };
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
    await run('ffmpeg', ['-v', 'error', '-y', '-i', url, '-map', '0:v:0', '-c', 'copy', copy]);
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
