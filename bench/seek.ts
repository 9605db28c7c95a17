/**
 * Seek to first frame in Chromium (issue 9): the same 3-minute 720p recording played by hls.js (the
 * player's own configuration) from `dreamdb serve`'s origin and, as the baseline in the same run, from
 * nginx serving the HLS (fMP4, 2 s segments, audio and video apart like ours) that ffmpeg cuts from it.
 * For each, 50 seeks to the same random times: the time from setting currentTime to the `seeked` event
 * and to the first frame presented after it (requestVideoFrameCallback), median and p95, and whether
 * that frame is the one asked for (within one frame). Runs alternate between the servers, so drift on
 * this machine hits both alike.
 * Run: npm run bench -- seek   (DREAMDB_BENCH_SEEKS: seeks per server, default 50)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import HLS from 'hls-parser';
import type { Page } from 'playwright-core';
import { launch } from '../e2e/src/harness.ts';
import { random } from '../engine/src/testing/random.ts';
import { BENCH_MEDIA, hlsJsPage, printTable, quantile, recording } from './lib.ts';
import { SPACE, servingStore, startOrigin, startStaticNginx } from './origin-serving.ts';

const SECONDS = 180;
const SEEKS = Number(process.env.DREAMDB_BENCH_SEEKS ?? 50);
const WARMUP = 5;
const ROUNDS = 5;
const FRAME = 1 / 30;

/** ffmpeg's own HLS of the recording: fMP4 segments of 2 s, video and audio as separate renditions. */
function ffmpegHls(input: string): string {
  const dir = join(BENCH_MEDIA, `hls-talk-720p-${SECONDS}s`);
  if (existsSync(dir)) return dir;
  console.log(`cutting ${input} into static HLS with ffmpeg (once)…`);
  rmSync(`${dir}.part`, { recursive: true, force: true });
  mkdirSync(`${dir}.part`, { recursive: true });
  execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-i', input, '-map', '0:v', '-map', '0:a', '-c', 'copy'],
      ...['-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4'],
      ...['-var_stream_map', 'v:0,agroup:aud a:0,agroup:aud,default:yes'],
      ...['-master_pl_name', 'master.m3u8', '-hls_segment_filename', 'stream_%v/seg_%05d.m4s'],
      ...['-hls_fmp4_init_filename', 'init.mp4', 'stream_%v/index.m3u8'],
    ],
    { cwd: `${dir}.part` },
  );
  renameSync(`${dir}.part`, dir);
  return dir;
}

/** The seek page's script: open a playlist with hls.js (the player's configuration), time seeks. */
const SEEK_PAGE = `// The player's configuration (player/src/playback.ts).
window.openStream = (url) => new Promise((resolve, reject) => {
  const hls = new Hls({ enableWorker: true, backBufferLength: 30, maxBufferLength: 20 });
  hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && reject(new Error('hls.js: ' + d.details)));
  video.addEventListener('loadeddata', () => resolve(video.duration), { once: true });
  hls.loadSource(url);
  hls.attachMedia(video);
});
window.seek = (t) => new Promise((resolve, reject) => {
  const start = performance.now();
  let seeked;
  const onSeeked = () => { seeked = performance.now() - start; };
  const timer = setTimeout(() => {
    video.removeEventListener('seeked', onSeeked);
    reject(new Error('no frame within 10 s of a seek to ' + t));
  }, 10000);
  // Whether the target is already buffered: such a seek fetches nothing, whichever server.
  let buffered = false;
  for (let i = 0; i < video.buffered.length; i++)
    buffered ||= video.buffered.start(i) <= t && t < video.buffered.end(i) - 0.1;
  video.addEventListener('seeked', onSeeked, { once: true });
  video.requestVideoFrameCallback((now, meta) => {
    clearTimeout(timer);
    video.removeEventListener('seeked', onSeeked);
    const frame = performance.now() - start;
    resolve({ seeked: seeked ?? frame, frame: Math.max(frame, seeked ?? 0), mediaTime: meta.mediaTime, buffered });
  });
  video.currentTime = t;
});`;

interface Seek {
  readonly seeked: number;
  readonly frame: number;
  readonly exact: boolean;
  /** The target was buffered already: nothing was fetched. */
  readonly buffered: boolean;
}

/**
 * Warm a server up the way a long-running one is: its first video fragments requested 100 times each
 * (a fresh node process runs its code cold, nginx has no JIT). The fragments the seeks then fetch are
 * still cold in the origin's byte cache, as they are for a random seek in production.
 */
async function warm(master: string): Promise<void> {
  const root = HLS.parse(await (await fetch(master)).text()) as HLS.types.MasterPlaylist;
  const videoUrl = new URL(root.variants[0]!.uri, master).href;
  const video = HLS.parse(await (await fetch(videoUrl)).text()) as HLS.types.MediaPlaylist;
  for (let i = 0; i < 300; i++) {
    const segment = video.segments[i % 3]!;
    const range = segment.byterange
      ? {
          range: `bytes=${segment.byterange.offset}-${segment.byterange.offset + segment.byterange.length - 1}`,
        }
      : undefined;
    await (await fetch(new URL(segment.uri, videoUrl), { headers: { ...range } })).arrayBuffer();
  }
}

/** Open the playlist in a fresh page, warm up, then seek to each target and time it. */
async function measure(page: Page, url: string, targets: readonly number[]): Promise<Seek[]> {
  await page.reload();
  const duration = await page.evaluate(
    (u) => (window as unknown as { openStream(u: string): Promise<number> }).openStream(u),
    url,
  );
  if (!(duration > SECONDS - 5)) throw new Error(`${url}: a duration of ${duration} s`);
  const seek = (t: number) =>
    page.evaluate(
      (t) =>
        (
          window as unknown as {
            seek(t: number): Promise<{ seeked: number; frame: number; mediaTime: number; buffered: boolean }>;
          }
        ).seek(t),
      t,
    );
  for (let i = 0; i < WARMUP; i++) await seek(10 + i * 31);
  const out: Seek[] = [];
  for (const t of targets) {
    const r = await seek(t);
    out.push({
      seeked: r.seeked,
      frame: r.frame,
      exact: r.mediaTime <= t + 1e-6 && t - r.mediaTime < FRAME + 1e-6,
      buffered: r.buffered,
    });
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'dreamdb-bench-seek-'));
const running: { stop(): Promise<void> }[] = [];
try {
  const input = recording(SECONDS);
  const hlsDir = ffmpegHls(input);
  const { dir } = await servingStore(SECONDS);
  const nginx = await startStaticNginx(hlsDir, work);
  running.push(nginx);
  const origin = await startOrigin(dir);
  running.push(origin);
  const pageServer = await hlsJsPage(SEEK_PAGE);
  running.push(pageServer);
  const doc = (await (await fetch(`${origin.base}/v0/spaces/${SPACE}/timelines/s1`)).json()) as {
    playback: { hls: string };
  };
  const urls = { nginx: `${nginx.base}/master.m3u8`, dreamdb: `${origin.base}${doc.playback.hls}` };

  for (const url of Object.values(urls)) await warm(url);

  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 450 } });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(pageServer.base);
    const next = random(20261206); // the same "random" targets every run, for both servers
    const targets = Array.from({ length: SEEKS }, () => 1 + next() * (SECONDS - 6));
    const per = Math.ceil(SEEKS / ROUNDS);
    const results: Record<'nginx' | 'dreamdb', Seek[]> = { nginx: [], dreamdb: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const part = targets.slice(round * per, (round + 1) * per);
      for (const server of ['nginx', 'dreamdb'] as const)
        results[server].push(...(await measure(page, urls[server], part)));
    }
    const rows = (['nginx', 'dreamdb'] as const).flatMap((server) => {
      const r = results[server];
      const exact = r.filter((s) => s.exact).length;
      const fetched = r.filter((s) => !s.buffered);
      const label = server === 'nginx' ? 'nginx static (ffmpeg HLS)' : 'dreamdb serve';
      return [
        {
          name: `${label}: seek to first frame, median`,
          value: quantile(
            r.map((s) => s.frame),
            0.5,
          ),
          unit: 'ms',
          note: `${exact}/${r.length} frames exact`,
        },
        {
          name: `${label}: seek to first frame, p95`,
          value: quantile(
            r.map((s) => s.frame),
            0.95,
          ),
          unit: 'ms',
        },
        {
          name: `${label}: seek to seeked, median`,
          value: quantile(
            r.map((s) => s.seeked),
            0.5,
          ),
          unit: 'ms',
        },
        {
          name: `${label}: first frame, seeks that fetched, median`,
          value: quantile(
            fetched.map((s) => s.frame),
            0.5,
          ),
          unit: 'ms',
          note: `${fetched.length} of ${r.length} seeks`,
        },
      ];
    });
    printTable(
      `Seek to first frame in Chromium: ${SEEKS} random seeks per server, hls.js, 720p30 ${SECONDS} s, 2 s fragments (lower is better)`,
      rows,
      'nginx static (ffmpeg HLS): seek to first frame, median',
    );
  } finally {
    await browser.close();
  }
} finally {
  for (const r of running.reverse()) await r.stop();
  rmSync(work, { recursive: true, force: true });
}
