/**
 * The player's cost in Chromium (issue 9): main-thread time per second of wall time (CDP TaskDuration)
 * while the sample session is paused and while it plays, with the timeline, lanes and clock on screen;
 * beside the same recording played by hls.js alone on a bare page (the player's configuration), in the
 * same run. Also the time from opening the page to a ready player. Needs the player built (npm test or
 * npm start builds it).
 * Run: npm run bench -- player
 */
import type { Browser, Page } from 'playwright-core';
import { launch, SPACE, serveSample, TIMELINE } from '../e2e/src/harness.ts';
import { hlsJsPage, printTable, type Row } from './lib.ts';

const SECONDS = 5;
const ROUNDS = 2;

/** hls.js alone, with the player's configuration, playing the playlist given as ?src=. */
const BARE = `const hls = new Hls({ enableWorker: true, backBufferLength: 30, maxBufferLength: 20 });
video.addEventListener('loadeddata', () => { window.ready = true; }, { once: true });
hls.loadSource(new URLSearchParams(location.search).get('src'));
hls.attachMedia(video);`;

/** Main-thread milliseconds per second over SECONDS of what the page is doing now. */
async function busy(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const task = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')!.value;
  const before = await task();
  await page.waitForTimeout(SECONDS * 1000);
  return ((await task()) - before) * (1000 / SECONDS);
}

/** Open a page, wait until `ready` holds, then measure it paused and playing. */
async function measure(browser: Browser, url: string, ready: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const started = Date.now();
  await page.goto(url);
  await page.waitForFunction(ready, null, { timeout: 60_000 });
  const load = Date.now() - started;
  await page.waitForTimeout(1000); // the first frame, thumbnails decoding
  const paused = await busy(page);
  await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.play());
  await page.waitForTimeout(500);
  const playing = await busy(page);
  await page.close();
  return { load, paused, playing };
}

const served = await serveSample();
const bare = await hlsJsPage(BARE);
const browser = await launch();
try {
  const hls = `${served.url}/hls/${SPACE}/main/${TIMELINE}/master.m3u8`;
  const runs = {
    player: [] as Awaited<ReturnType<typeof measure>>[],
    bare: [] as Awaited<ReturnType<typeof measure>>[],
  };
  for (let round = 0; round < ROUNDS; round++) {
    runs.player.push(
      await measure(browser, `${served.url}/?space=${SPACE}&timeline=${TIMELINE}`, 'window.dreamdb?.ready'),
    );
    runs.bare.push(await measure(browser, `${bare.base}/?src=${encodeURIComponent(hls)}`, 'window.ready'));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows: Row[] = [];
  for (const [name, label] of [
    ['bare', 'hls.js alone on a bare page'],
    ['player', 'the player (timeline, lanes, clock)'],
  ] as const) {
    const r = runs[name];
    rows.push(
      { name: `${label}: main thread, playing`, value: mean(r.map((x) => x.playing)), unit: 'ms/s' },
      { name: `${label}: main thread, paused`, value: mean(r.map((x) => x.paused)), unit: 'ms/s' },
      { name: `${label}: open to ready`, value: mean(r.map((x) => x.load)), unit: 'ms' },
    );
  }
  printTable(
    `The player in Chromium: the 3-minute sample session, ${ROUNDS} rounds of ${SECONDS} s paused and ${SECONDS} s playing (lower is better)`,
    rows,
    'hls.js alone on a bare page: main thread, playing',
  );
} finally {
  await browser.close();
  await bare.stop();
  await served.stop();
}
