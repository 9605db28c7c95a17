import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { ingest } from '@dreamdb/packager';
import { createOrigin } from '../app.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-dash-duration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Frame rates as ffmpeg takes them, and B-frame settings of libx264 (none, 2 flat, 3 in a pyramid). */
const RATES = ['24', '25', '30000/1001', '30', '50', '60'];
const B_FRAMES = {
  none: 'bframes=0',
  '2': 'bframes=2:b-pyramid=none',
  '3 pyramid': 'bframes=3:b-pyramid=normal',
};

/** Probe a file's video stream: its duration (seconds) and how many frames its B-frames delay. */
async function probeVideo(file: string): Promise<{ duration: number; delay: number }> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=duration,has_b_frames'],
    ...['-of', 'json', file],
  ]);
  const [stream] = (JSON.parse(stdout) as { streams: { duration: string; has_b_frames: number }[] }).streams;
  return { duration: Number(stream!.duration), delay: stream!.has_b_frames };
}

test('the MPD of a video-only stream lasts what ffprobe says of the source, at every frame rate and B-frame setting', async () => {
  const store = new MemoryStore();
  const session = new Session(new SpaceStore(store, 'lab'));
  // Each case publishes a new version of main: resolve it afresh on every request.
  const origin = createOrigin({ store, maxStalenessMs: 0 });
  const wrong: string[] = [];
  for (const rate of RATES) {
    const [num, den = 1] = rate.split('/').map(Number) as [number, number?];
    // 12 s of frames: 300 at 25 fps, 360 at 29.97 (12.012 s).
    const frames = Math.round((12 * num) / den);
    for (const [name, params] of Object.entries(B_FRAMES)) {
      const timeline = `r${num}-${den}-b${name.replace(' ', '-')}`;
      const source = join(dir, `${timeline}.mp4`);
      await run('ffmpeg', [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=160x90:rate=${rate}`],
        ...['-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-x264-params', params],
        ...['-g', String(Math.round(num / den)), '-pix_fmt', 'yuv420p', source],
      ]);
      const probe = await probeVideo(source);
      // The setting is what the case says: a delay of 0, 1 or 2 frames before the first is presented.
      assert.equal(probe.delay, { none: 0, '2': 1, '3 pyramid': 2 }[name], `${timeline}: has_b_frames`);
      await ingest(session, source, { timeline });
      const response = await origin.request(`/dash/lab/main/${timeline}/manifest.mpd`);
      assert.equal(response.status, 200, `${timeline}: ${await response.clone().text()}`);
      const announced = Number(/mediaPresentationDuration="PT([0-9.]+)S"/.exec(await response.text())![1]);
      // The MPD writes milliseconds: half of one is its rounding.
      if (Math.abs(announced - probe.duration) > 0.0005)
        wrong.push(`${rate} fps, B-frames ${name}: ${announced} s announced, ffprobe ${probe.duration} s`);
    }
  }
  assert.deepEqual(wrong, []);
});
