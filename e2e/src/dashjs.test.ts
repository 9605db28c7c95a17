import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, type Served, serveIngested, shot } from './harness.js';

/**
 * dash.js, the DASH-IF reference player, in Chromium against a real `dreamdb serve`: a 20 s recording with
 * B-frames, AAC and captions plays to its end with the duration of its source, seeks to 15 s and plays on,
 * and its captions load as a text track. dash.js comes from npm (devDependency) and is served to the page
 * by the test itself: there is no CDN here.
 */

const SECONDS = 20;
const SPACE = 'lab';
const TIMELINE = 'dashjs';
/** The captions: one at the start, one around the seek target. */
const CAPTIONS = 'WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello\n\n00:00:14.500 --> 00:00:16.500\nFifteen\n';
/** The UMD build (the package's `require` export): it defines `window.dashjs`. */
const DASHJS = readFileSync(createRequire(import.meta.url).resolve('dashjs'));

let dir: string;
let served: Served;
let browser: Browser;
/** The source's video duration by ffprobe: what the MPD must announce. */
let sourceSeconds: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dreamdb-dashjs-'));
  const recording = join(dir, 'recording.mp4');
  // libx264's veryfast preset has 3 B-frames with a pyramid: the first frame is presented after a delay.
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25:duration=${SECONDS}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '50', '-c:a', 'aac'],
    recording,
  ]);
  sourceSeconds = Number(
    execFileSync('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=duration'],
      ...['-of', 'csv=p=0', recording],
    ]).toString(),
  );
  const captions = join(dir, 'captions.vtt');
  writeFileSync(captions, CAPTIONS);
  served = await serveIngested([
    ['ingest', recording, '--space', SPACE, '--timeline', TIMELINE, '--captions', captions],
  ]);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await served?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A page on the origin's own host (no CORS in the way) with dash.js playing `mpd`: the player is
 * `window.player`, and `window.seen` counts its errors and ends. Plain JavaScript: the test runner's
 * transform would give named functions a helper the page lacks.
 */
async function dashjsPage(mpd: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.route(`${served.url}/dashjs/dash.all.min.js`, (route) =>
    route.fulfill({ body: DASHJS, contentType: 'text/javascript' }),
  );
  await page.route(`${served.url}/dashjs/index.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html>
<video id="video" muted></video>
<script src="dash.all.min.js"></script>
<script>
  const video = document.querySelector('#video');
  const player = dashjs.MediaPlayer().create();
  window.seen = { errors: [], ended: 0 };
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => window.seen.errors.push(JSON.stringify(e.error)));
  player.on(dashjs.MediaPlayer.events.PLAYBACK_ENDED, () => { window.seen.ended += 1; });
  player.initialize(video, ${JSON.stringify(mpd)}, true);
  window.player = player;
</script>`,
    }),
  );
  await page.goto(`${served.url}/dashjs/index.html`);
  return page;
}

/** What the page shows of playback: the video's clock, dash.js's duration, its text track and events. */
interface PlaybackState {
  time: number;
  duration: number;
  videoDuration: number;
  ended: number;
  errors: string[];
  played: [number, number][];
  cues: { text: string; start: number; end: number }[];
  activeCues: string[];
}

const state = (page: Page) =>
  page.evaluate(`(() => {
    const video = document.querySelector('#video');
    const track = video.textTracks[0];
    const played = [];
    for (let i = 0; i < video.played.length; i++) played.push([video.played.start(i), video.played.end(i)]);
    return {
      time: video.currentTime,
      duration: window.player.duration(),
      videoDuration: video.duration,
      ended: window.seen.ended,
      errors: window.seen.errors,
      played,
      cues: Array.from(track?.cues ?? []).map((c) => ({ text: c.text, start: c.startTime, end: c.endTime })),
      activeCues: Array.from(track?.activeCues ?? []).map((c) => c.text),
    };
  })()`) as Promise<PlaybackState>;

/** Poll the page's state until `done` holds (or fail after `seconds`, showing the last state). */
async function until(page: Page, what: string, done: (s: PlaybackState) => boolean, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  let last = await state(page);
  while (!done(last)) {
    if (last.errors.length > 0)
      assert.fail(`dash.js reported errors while waiting for ${what}: ${last.errors}`);
    if (Date.now() > deadline) assert.fail(`no ${what} within ${seconds} s: ${JSON.stringify(last)}`);
    await page.waitForTimeout(100);
    last = await state(page);
  }
  return last;
}

test('dash.js plays a DreamDB MPD to its end with the source’s duration, seeks to 15 s and plays on, with captions', async () => {
  const mpdUrl = `${served.url}/dash/${SPACE}/main/${TIMELINE}/manifest.mpd`;
  const mpd = await (await fetch(mpdUrl)).text();
  const announced = /mediaPresentationDuration="PT([0-9.]+)S"/.exec(mpd)![1]!;
  // Within a millisecond (the MPD's precision) of the source's video, which ends last here.
  assert.ok(
    Math.abs(Number(announced) - sourceSeconds) <= 0.001,
    `the MPD announces ${announced} s of a ${sourceSeconds} s source`,
  );
  const segmentUrls = [...mpd.matchAll(/<SegmentURL media="([^"]+)" mediaRange="([^"]+)"\/>/g)].map(
    ([, media, range]) => `${served.url}${media} bytes=${range}`,
  );
  assert.ok(segmentUrls.length >= 20, `${segmentUrls.length} fragments of video and audio`);

  const page = await dashjsPage(mpdUrl);
  const fetched = new Set<string>();
  page.on('request', (request) => {
    const range = request.headers().range;
    if (range) fetched.add(`${request.url()} ${range}`);
  });
  await page.evaluate('window.player.setPlaybackRate(2)');
  // The whole presentation, at twice the speed: every fragment in turn, and the end where the source ends.
  const end = await until(page, 'end of playback', (s) => s.ended > 0, 40);
  assert.ok(Math.abs(end.time - sourceSeconds) <= 0.05, `ended at ${end.time} s of ${sourceSeconds} s`);
  for (const duration of [end.duration, end.videoDuration])
    assert.ok(Math.abs(duration - sourceSeconds) <= 0.05, `duration ${duration} s, not ${sourceSeconds} s`);
  assert.equal(end.played.length, 1, `one stretch played: ${JSON.stringify(end.played)}`);
  assert.ok(
    end.played[0]![0] <= 0.1 && end.played[0]![1] >= sourceSeconds - 0.05,
    JSON.stringify(end.played),
  );
  // Each SegmentURL fetched: a player pairing SegmentURLs with S elements (not segments) fetches the first again.
  assert.deepEqual(
    segmentUrls.filter((u) => !fetched.has(u)),
    [],
    'every fragment of the MPD was fetched',
  );
  // The captions track: both cues, on the period's time (the first frame is period time 0).
  const hello = end.cues.find((c) => c.text === 'Hello');
  assert.ok(hello && Math.abs(hello.start - 0.5) <= 0.1, `the first cue: ${JSON.stringify(end.cues)}`);
  await shot(page, 'dashjs-ended');

  // A seek to 15 s lands there, shows the caption of that moment, and plays on to the end again.
  await page.evaluate('window.player.setPlaybackRate(1); window.player.seek(15); window.player.play()');
  const landed = await until(page, 'the seek to 15 s', (s) => s.time >= 15 && s.time < 15.5);
  assert.ok(
    Math.abs(landed.duration - sourceSeconds) <= 0.05,
    `duration after the seek: ${landed.duration} s`,
  );
  await until(page, 'the caption at 15 s', (s) => s.activeCues.includes('Fifteen'));
  await until(page, 'playback past 16.5 s', (s) => s.time >= 16.5);
  const again = await until(page, 'the end after the seek', (s) => s.ended > end.ended, 20);
  assert.ok(Math.abs(again.time - sourceSeconds) <= 0.05, `ended at ${again.time} s after the seek`);
  assert.ok(Math.abs(again.duration - sourceSeconds) <= 0.05, `duration ${again.duration} s after the seek`);
  await page.close();
});
