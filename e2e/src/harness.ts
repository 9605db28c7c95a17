import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ingestArgs } from '../../samples/lab-session/ingest-args.mjs';
import { serveUrl } from '../../scripts/lib/serve-url.mjs';

/**
 * The end-to-end harness: the real `dreamdb` program ingests the sample session into a fresh embedded
 * store and serves it (player included); the OS Chromium (Debian's package, headless, --no-sandbox)
 * is driven by playwright-core. Screenshots go to e2e/artifacts/.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'server/bin/dreamdb.js');
const SAMPLE = join(ROOT, 'samples/lab-session');
export const ARTIFACTS = join(ROOT, 'e2e/artifacts');
export const SPACE = 'demo';
export const TIMELINE = 'lab';

/** Where the sample media is made once and reused across runs (the generator skips what it has made). */
const SAMPLE_CACHE = join(tmpdir(), 'dreamdb-e2e-sample');

/** Make the sample session's files (samples/lab-session/make.mjs): the recording, its captions and events. */
export function makeSample(): { recording: string; captions: string; events: string } {
  mkdirSync(SAMPLE_CACHE, { recursive: true });
  execFileSync(process.execPath, [join(SAMPLE, 'make.mjs'), SAMPLE_CACHE], { stdio: 'inherit' });
  return {
    recording: join(SAMPLE_CACHE, 'recording.mp4'),
    captions: join(SAMPLE_CACHE, 'transcript.vtt'),
    events: join(SAMPLE_CACHE, 'events.jsonl'),
  };
}

/** A served store: its URL, and how to stop the server and remove the store. */
export interface Served {
  readonly url: string;
  readonly store: string;
  dreamdb(...args: string[]): string;
  stop(): Promise<void>;
}

/** Ingest the sample into a fresh store and serve it on a free loopback port. */
export async function serveSample(): Promise<Served> {
  makeSample();
  return serveIngested([ingestArgs(SAMPLE_CACHE, SPACE, TIMELINE)]);
}

/** Run each `dreamdb ingest` (its arguments, without --store) into a fresh store, then serve it on loopback. */
export async function serveIngested(ingests: readonly (readonly string[])[]): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-e2e-'));
  const store = join(dir, 'store');
  const dreamdb = (...args: string[]) =>
    execFileSync(process.execPath, [BIN, ...args, '--store', store], { encoding: 'utf8' });
  for (const args of ingests) dreamdb(...args);
  const server: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--store', store, '--port', '0', '--no-log'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await serveUrl(server);
  return {
    url,
    store,
    // The server owns the store directory while it runs: other commands go through its HTTP API.
    dreamdb,
    stop: async () => {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The OS Chromium, headless. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.DREAMDB_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--autoplay-policy=no-user-gesture-required',
      '--mute-audio',
      // A synthetic camera and microphone, granted without a prompt (the recording path of the upload).
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
    ],
  });
}

/** Open the player at a query and wait until it has loaded the timeline (or failed, which throws). */
export async function openPlayer(page: Page, base: string, query: string): Promise<void> {
  await page.goto(`${base}/?${query}`);
  await page.waitForFunction(() => window.dreamdb?.ready || window.dreamdb?.error, null, { timeout: 60_000 });
  const error = await page.evaluate(() => window.dreamdb.error);
  if (error) throw new Error(`the player failed: ${error}`);
}

/** Save a screenshot as a test artifact. */
export async function shot(page: Page, name: string): Promise<Buffer> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/**
 * The frame a seek to `target` seconds shows, watched from before the seek: the first frame presented
 * after a `seeked` event that put the video near the target (and not during a further seek), or, when
 * none comes within 250 ms of it, the last one presented before it. Frames presented meanwhile for other
 * positions (a player settling at the start as the page loads, its own seeks) do not count.
 * Plain JavaScript: the test runner's transform would give named functions a helper the page lacks.
 */
const WATCH_SEEK = `(target) => {
  const video = document.querySelector('#video');
  const near = () => Math.abs(video.currentTime - target) < 0.05;
  window.nextFrame = new Promise((resolve, reject) => {
    let seeked = false;
    let before;
    const timer = setTimeout(() => reject(new Error('no frame presented within 5 s')), 5000);
    const onSeeked = () => {
      if (!near()) return;
      seeked = true;
      setTimeout(() => { if (before !== undefined && !video.seeking) done(before); }, 250);
    };
    const done = (time) => { clearTimeout(timer); video.removeEventListener('seeked', onSeeked); resolve(time); };
    video.addEventListener('seeked', onSeeked);
    const watch = (now, meta) => {
      if (seeked && !video.seeking) done(meta.mediaTime);
      else { if (!seeked) before = meta.mediaTime; video.requestVideoFrameCallback(watch); }
    };
    video.requestVideoFrameCallback(watch);
  });
}`;

/** Arm a watch for the frame of the next seek to `target` seconds; `frame` then gives its media time. */
export async function watchFrame(page: Page, target: number): Promise<{ frame(): Promise<number> }> {
  await page.evaluate(`(${WATCH_SEEK})(${target})`);
  return {
    frame: () => page.evaluate(() => (window as unknown as { nextFrame: Promise<number> }).nextFrame),
  };
}

declare global {
  interface Window {
    dreamdb: {
      ready: boolean;
      error?: string;
      seek(tick: bigint): Promise<void>;
      xOf(tick: bigint): number;
      yOf(lane: string): number;
      lanes(): readonly {
        id: string;
        kind: string;
        spans: readonly { tick: bigint; label?: string; image?: string }[];
      }[];
      hits(): readonly { tick: string; track: string }[];
      /** The tick the player's clock is at. */
      now(): bigint;
      state(): Record<string, unknown>;
    };
  }
}
