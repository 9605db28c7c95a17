import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attenuateToken, type IssuerKey, issueToken, newIssuerKey } from '@dreamdb/engine/access';
import type { Browser, Page, Request } from 'playwright-core';
import { launch, openPlayer, type Served, SPACE, serveSample, shot, TIMELINE } from './harness.js';

/**
 * The player in Chromium against a real `dreamdb serve` that checks capability tokens (spec 0018): a
 * read-only link (`#token=…`) plays on hls.js and on shaka-player (DASH) with the token as a Bearer header
 * on every API call and as `token=` on every playlist, manifest and segment URL, none refused; the badge
 * says read-only and the controls it does not allow are hidden. An expired token and no token at all get
 * the refusal page with the origin's message; a token that may write one user's branch shows annotating.
 * A token with a window plays only that stretch, as a clip, on both engines: seeks land on their tick
 * (the very frame the whole timeline shows there), playback stops at the window's end, nothing is refused.
 */

let served: Served;
let browser: Browser;
let issuer: IssuerKey;
/** A player of the whole timeline, whose pictures the windowed players' are compared with. */
let reference: Page | undefined;
const base = `space=${SPACE}&timeline=${TIMELINE}`;
const now = () => Math.floor(Date.now() / 1000);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A token of the test's issuer for the default tenant (the sample's space was claimed by no tenant). */
const token = (caveats: Omit<Parameters<typeof issueToken>[1], 'tenant'>) =>
  issueToken(issuer, { tenant: 'default', spaces: ['*'], ...caveats });

before(async () => {
  issuer = newIssuerKey();
  // `dreamdb serve` reads trusted issuer keys from --issuer-key and DREAMDB_ISSUER_KEYS; the harness
  // spawns it with this process's environment (ingest, before it, reads no issuer key).
  process.env.DREAMDB_ISSUER_KEYS = `ddb-issuer:${hex(issuer.publicKey)}`;
  try {
    served = await serveSample();
  } finally {
    delete process.env.DREAMDB_ISSUER_KEYS;
  }
  browser = await launch();
});
after(async () => {
  await reference?.close();
  await browser?.close();
  await served?.stop();
});

/** A page that records every request to the origin with its headers, and the status of each response. */
async function recordedPage(): Promise<{
  page: Page;
  requests: () => Promise<{ url: URL; headers: Record<string, string> }[]>;
  statuses: Map<Request, number>;
}> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  type Seen = { url: URL; headers: Record<string, string> };
  const seen: Promise<Seen | undefined>[] = [];
  const statuses = new Map<Request, number>();
  page.on('request', (r) => {
    if (r.url().startsWith(served.url))
      // A request still starting when the page closes has no headers to give: left out.
      seen.push(
        r.allHeaders().then(
          (headers) => ({ url: new URL(r.url()), headers }),
          () => undefined,
        ),
      );
  });
  page.on('response', (r) => {
    if (r.url().startsWith(served.url)) statuses.set(r.request(), r.status());
  });
  return {
    page,
    requests: async () => (await Promise.all(seen)).filter((r): r is Seen => r !== undefined),
    statuses,
  };
}

/** Wait until the player is ready or shows a refusal; which one. */
async function settle(page: Page): Promise<'ready' | 'denied' | 'error'> {
  const handle = await page.waitForFunction(
    () =>
      (window.dreamdb?.ready && 'ready') ||
      (!document.querySelector('#denied')!.hasAttribute('hidden') && 'denied') ||
      (window.dreamdb?.error && 'error'),
    null,
    { timeout: 30_000 },
  );
  return (await handle.jsonValue()) as 'ready' | 'denied' | 'error';
}

/** window.dreamdb with its access() hook (what the link allows), which the harness's declaration lacks. */
type WithAccess = { dreamdb: { access(): { mode: string; rights: string[] } } };
/** window.dreamdb with its now() hook (the clock's tick at the playhead), which the declaration lacks. */
type WithNow = { dreamdb: { now(): bigint } };

const playerPath = (path: string) =>
  path.startsWith('/assets/') || path.startsWith('/ffmpeg/') || path === '/';

describe('the player with capability tokens', () => {
  test('the origin checks tokens', async () => {
    const health = await (await fetch(`${served.url}/v0/health`)).json();
    assert.equal(health.access, 'token');
    const refused = await fetch(`${served.url}/v0/spaces/${SPACE}/timelines/${TIMELINE}`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="dreamdb"');
    assert.equal((await refused.json()).error, 'E_UNAUTHORIZED');
  });

  test("the access check's refusals say their message without the code prefix, as the /v0 routes' do", async () => {
    const refused = await (await fetch(`${served.url}/v0/spaces/${SPACE}/timelines/${TIMELINE}`)).json();
    assert.deepEqual(refused, {
      error: 'E_UNAUTHORIZED',
      message: 'no token: send "Authorization: Bearer <token>" or ?token=',
    });
  });

  for (const engine of ['hls', 'dash'] as const) {
    test(`${engine}: a read-only link plays, with the token on every request and nothing refused`, async () => {
      const readOnly = token({ rights: ['read'], exp: now() + 600 });
      const { page, requests, statuses } = await recordedPage();
      await openPlayer(page, served.url, `${base}&engine=${engine}#token=${readOnly}`);
      assert.deepEqual(
        await page.evaluate(() => {
          const { mode, rights } = (window as unknown as WithAccess).dreamdb.access();
          return { mode, rights };
        }),
        { mode: 'token', rights: ['read'] },
      );

      // It plays: the clock advances by more than a second in 1.5 s of playing.
      await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.play());
      await page.waitForFunction(
        () => document.querySelector<HTMLVideoElement>('#video')!.currentTime > 0.3,
        null,
        {
          timeout: 15_000,
        },
      );
      const t0 = await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.currentTime);
      await page.waitForTimeout(1500);
      const t1 = await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.currentTime);
      assert.ok(t1 - t0 > 1, `${engine}: currentTime went from ${t0} to ${t1} in 1.5 s`);
      assert.match(
        (await page.locator('#rendition').textContent()) ?? '',
        new RegExp(`^${engine.toUpperCase()} · \\d+x\\d+`),
      );

      // What the link allows, said and applied.
      assert.match((await page.locator('#access').textContent()) ?? '', /^read-only · until \d{4}-\d\d-\d\d/);
      assert.ok(await page.locator('#access').isVisible(), 'the badge is shown');
      for (const control of ['#open-ingest', '#annotate', '#merge'])
        assert.ok(await page.locator(control).isHidden(), `${control} is hidden for a read-only token`);
      await shot(page, `token-read-only-${engine}`);
      // The URL the player keeps writing (the view to share) keeps the token in its fragment only.
      const shared = new URL(page.url());
      assert.equal(new URLSearchParams(shared.hash.slice(1)).get('token'), readOnly);
      assert.ok(!shared.searchParams.has('token'), `no token in the query of ${shared.search}`);

      // Every request: the API with the Bearer header and no token in its URL; playlists, manifests and
      // segments (hls.js and shaka-player send no headers of ours) with token= in the URL.
      const all = await requests();
      const api = all.filter((r) => r.url.pathname.startsWith('/v0/'));
      const media = all.filter((r) => /^\/(hls|dash|objects)\//.test(r.url.pathname));
      const other = all.filter((r) => !api.includes(r) && !media.includes(r) && !playerPath(r.url.pathname));
      assert.deepEqual(
        other.map((r) => r.url.pathname),
        [],
        'no request outside the player files, the API and the media routes',
      );
      assert.ok(
        api.some((r) => r.url.pathname === '/v0/access'),
        'GET /v0/access',
      );
      for (const r of api) {
        assert.equal(r.headers.authorization, `Bearer ${readOnly}`, `${r.url.pathname}: the Bearer header`);
        assert.ok(!r.url.searchParams.has('token'), `${r.url.pathname}${r.url.search}: no token in the URL`);
      }
      for (const r of media)
        assert.equal(r.url.searchParams.get('token'), readOnly, `${r.url.pathname}${r.url.search}: token=`);
      // What was asked for: the playlists (HLS: master, video, audio, captions and their WebVTT segments)
      // or the MPD, the init segments (whole objects) and media segments (byte ranges of buckets) of each track.
      const paths = media.map((r) => r.url.pathname);
      const listed = paths.join(' ');
      if (engine === 'hls')
        for (const name of ['master', 'video', 'audio', 'captions'])
          assert.ok(
            paths.includes(`/hls/${SPACE}/main/${TIMELINE}/${name}.m3u8`),
            `${name}.m3u8 in ${listed}`,
          );
      else assert.ok(paths.includes(`/dash/${SPACE}/main/${TIMELINE}/manifest.mpd`), `the MPD in ${listed}`);
      assert.ok(
        paths.some((p) => /\/captions\/[^/]+\.vtt$/.test(p)),
        `a WebVTT segment of the captions in ${listed}`,
      );
      const objects = media.filter((r) => r.url.pathname.startsWith('/objects/'));
      const inits = new Set(objects.filter((r) => !r.headers.range).map((r) => r.url.pathname));
      const fragments = objects.filter((r) => r.headers.range);
      const buckets = new Set(fragments.map((r) => r.url.pathname));
      assert.ok(inits.size >= 2, `the init segments of video and audio: ${[...inits].join(' ')}`);
      assert.ok(
        fragments.length >= 4 && buckets.size >= 2,
        `media segments of video and audio: ${fragments.length} ranges of ${buckets.size} buckets`,
      );

      // Nothing it asked for was refused, nor failed.
      const answered = [...statuses].map(([r, status]) => ({ path: new URL(r.url()).pathname, r, status }));
      const bad = answered.filter(
        ({ path, status }) => /^\/(hls|dash|objects|v0)\//.test(path) && status >= 400,
      );
      assert.deepEqual(
        bad.map(({ r, path, status }) => `${status} ${r.method()} ${path}`),
        [],
        'no request refused (401, 403) or failed',
      );
      assert.ok(
        answered.filter(({ path }) => path.startsWith('/objects/')).length >= inits.size + 4,
        'the segments were answered',
      );
      await page.close();
    });
  }

  test('an expired token: the refusal page with the origin message, and no player', async () => {
    const expired = token({ rights: ['read'], exp: now() - 3600 });
    const { page, requests } = await recordedPage();
    await page.goto(`${served.url}/?${base}#token=${expired}`);
    assert.equal(await settle(page), 'denied');
    assert.ok(await page.locator('#denied').isVisible());
    assert.equal(await page.locator('#denied-title').textContent(), 'This link cannot open the player');
    assert.match((await page.locator('#denied-message').textContent()) ?? '', /token expired at \d{4}-/);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.dreamdb.ready), false, 'the player is not ready');
    const media = (await requests()).filter((r) => /^\/(hls|dash|objects)\//.test(r.url.pathname));
    assert.deepEqual(
      media.map((r) => r.url.pathname),
      [],
      'no playlist or segment asked for',
    );
    await shot(page, 'token-expired');
    await page.close();
  });

  test('no token on an origin that checks them: the refusal page names the missing token', async () => {
    const { page } = await recordedPage();
    await page.goto(`${served.url}/?${base}`);
    assert.equal(await settle(page), 'denied');
    assert.equal(await page.locator('#denied-title').textContent(), 'This link cannot open the player');
    assert.match(
      (await page.locator('#denied-message').textContent()) ?? '',
      /no token: send "Authorization: Bearer <token>" or \?token=/,
    );
    assert.equal(await page.evaluate(() => window.dreamdb.ready), false);
    await shot(page, 'token-missing');
    await page.close();
  });

  const user = 'e2e-tok';
  const writer = () =>
    token({ rights: ['read', 'write'], refs: ['main', `heads/${user}`], exp: now() + 600 });

  test("a token that may write one user's branch: annotating is shown, the user fixed to it, merging and upload hidden", async () => {
    const { page } = await recordedPage();
    await openPlayer(page, served.url, `${base}#token=${writer()}`);
    assert.match(
      (await page.locator('#access').textContent()) ?? '',
      /^read, write · refs main, heads\/e2e-tok · until /,
    );
    assert.ok(await page.locator('#annotate').isVisible(), 'annotating is shown');
    assert.ok(await page.locator('#merge').isHidden(), 'merging is hidden (no merge right)');
    assert.ok(await page.locator('#open-ingest').isHidden(), 'uploading is hidden (no ingest right)');
    assert.equal(await page.locator('#user').inputValue(), user);
    assert.equal(await page.locator('#user').getAttribute('readonly'), '');
    await shot(page, 'token-annotate');
    await page.close();
  });

  // The player creates the branch at the manifest hash on screen: the origin accepts it from a token
  // limited to refs because one of them (main) points there.
  test("a token that may write one user's branch: an annotation is saved there", async () => {
    const { page, statuses } = await recordedPage();
    await openPlayer(page, served.url, `${base}#token=${writer()}`);
    await page.evaluate(() => window.dreamdb.seek(3_000_000_000n));
    await page.locator('#label').fill('token-written');
    await page.locator('#add').click();
    await page.locator('#save').click();
    await page.waitForFunction(
      (ref) =>
        (window.dreamdb.ready && window.dreamdb.state().ref === ref) ||
        document.querySelector('#status')!.classList.contains('error'),
      `heads/${user}`,
      { timeout: 15_000 },
    );
    const refused = [...statuses]
      .filter(([, s]) => s === 401 || s === 403)
      .map(([r, s]) => `${s} ${r.method()} ${new URL(r.url()).pathname} ${r.postData() ?? ''}`);
    assert.deepEqual(refused, [], `refused: ${await page.locator('#status').textContent()}`);
    assert.equal(await page.evaluate(() => window.dreamdb.state().ref), `heads/${user}`);
    assert.deepEqual(
      await page.evaluate(() =>
        window.dreamdb
          .lanes()
          .find((l) => l.id === 'annotations')
          ?.spans.map((s) => s.label),
      ),
      ['token-written'],
    );
    await page.close();
  });

  // A link for 2.5 s of the sample's second scene, where the calibration marker sweeps the colour chart:
  // every frame differs from the next, so the picture tells which frame is shown. The window starts
  // 0.3 s into a 2 s fragment (and its GOP): the engines get fragments that begin before it.
  const WINDOW = { timeline: TIMELINE, from: 40_300_000_000n, to: 42_800_000_000n };
  const windowed = () => attenuateToken(token({ rights: ['read'], exp: now() + 600 }), { window: WINDOW });
  /** One frame of the sample (30 fps) in ticks. */
  const FRAME_TICKS = 33_333_333n;
  /**
   * Ticks in the window, each well inside a frame (the sample's frames are presented from tick 66992188
   * on, every 1/30 s): 10 ms into the window (before the GOP's next key frame), the middle, near its end.
   */
  const SEEKS = [40_310_000_000n, 40_649_658_854n, 41_016_325_521n, 42_505_325_521n];

  /**
   * Seek through the player and wait for the new frame to be presented (watched from before the seek; at
   * most 500 ms after it); where the clock is then, and the picture's luma (base64, one byte a pixel).
   * Plain JavaScript: the test runner's transform would give named functions a helper the page lacks.
   */
  const SHOW = `async (t) => {
    const video = document.querySelector('#video');
    const presented = new Promise((resolve) => video.requestVideoFrameCallback(() => resolve()));
    await window.dreamdb.seek(BigInt(t));
    await Promise.race([presented, new Promise((resolve) => setTimeout(resolve, 500))]);
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext('2d');
    g.drawImage(video, 0, 0);
    const rgba = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let luma = '';
    for (let i = 0; i < rgba.length; i += 4)
      luma += String.fromCharCode((rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8);
    return { now: String(window.dreamdb.now()), seeking: video.seeking, luma: btoa(luma) };
  }`;
  type Shown = { now: string; seeking: boolean; luma: Buffer };
  const show = async (page: Page, tick: bigint): Promise<Shown> => {
    const shown = (await page.evaluate(`(${SHOW})("${tick}")`)) as {
      now: string;
      seeking: boolean;
      luma: string;
    };
    return { ...shown, luma: Buffer.from(shown.luma, 'base64') };
  };
  /** How many pixels of two pictures differ visibly (by more than 8 of 255 in luma). */
  const differing = (a: Uint8Array, b: Uint8Array) => {
    assert.equal(a.length, b.length, 'pictures of one size');
    let n = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 8) n++;
    return n;
  };

  /**
   * The whole timeline with a read-only token on hls.js, whose media time is the tick (to 0.3 ms: its
   * first fragment is at tick 325521): the pictures at each seek tick and a frame either side of it.
   */
  const referencePictures = new Map<bigint, Buffer>();
  async function pictureAt(tick: bigint): Promise<Buffer> {
    if (!reference) {
      reference = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const readOnly = token({ rights: ['read'], exp: now() + 600 });
      await openPlayer(reference, served.url, `${base}&engine=hls#token=${readOnly}`);
    }
    let picture = referencePictures.get(tick);
    if (!picture) {
      picture = (await show(reference, tick)).luma;
      referencePictures.set(tick, picture);
    }
    return picture;
  }

  const video = (page: Page) =>
    page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('#video')!;
      return { currentTime: v.currentTime, paused: v.paused };
    });
  const clockNow = async (page: Page) =>
    BigInt(await page.evaluate(() => String((window as unknown as WithNow).dreamdb.now())));

  for (const engine of ['hls', 'dash'] as const) {
    test(`${engine}: a link for a window plays its clip: seeks land on their frame, playback stops at its end, nothing refused`, async () => {
      const link = windowed();
      const { page, requests, statuses } = await recordedPage();
      await openPlayer(page, served.url, `${base}&engine=${engine}#token=${link}`);
      assert.match(
        (await page.locator('#access').textContent()) ?? '',
        /^read-only · until \d{4}-\d\d-\d\d \d\d:\d\d UTC · lab 0:40\.300–0:42\.800$/,
      );
      // It opens at the window's start (the clock to the microsecond: media time is counted in them).
      const opened = await clockNow(page);
      assert.ok(opened >= WINDOW.from && opened - WINDOW.from < 1000n, `${engine}: opened at ${opened}`);

      // Exact seeks: the clock lands on the tick and the picture is the frame the whole timeline shows
      // there, not the one before or after it (those differ: the marker moves every frame).
      for (const tick of SEEKS) {
        const shown = await show(page, tick);
        const landed = BigInt(shown.now);
        assert.ok(!shown.seeking, `${engine}: the seek to ${tick} settled`);
        assert.ok(landed <= tick && tick - landed < 1000n, `${engine}: seek to ${tick} landed at ${landed}`);
        const at = differing(shown.luma, await pictureAt(tick));
        const before = differing(shown.luma, await pictureAt(tick - FRAME_TICKS));
        const after = differing(shown.luma, await pictureAt(tick + FRAME_TICKS));
        assert.ok(
          at <= 20 && before >= 100 && after >= 100,
          `${engine}: at ${tick} the frame shown differs from the timeline's there in ${at} pixels, ` +
            `from the frame before in ${before}, from the one after in ${after}`,
        );
      }
      // A seek before the window lands at its start.
      await page.evaluate(() => window.dreamdb.seek(10_000_000_000n));
      const clamped = await clockNow(page);
      assert.ok(clamped >= WINDOW.from && clamped - WINDOW.from < 1000n, `${engine}: clamped to ${clamped}`);
      await shot(page, `token-window-${engine}`);

      // It plays from the window's start, and stops at its end, on its last frame.
      await page.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.play());
      const t0 = (await video(page)).currentTime;
      await page.waitForTimeout(1500);
      const t1 = (await video(page)).currentTime;
      assert.ok(t1 - t0 > 1, `${engine}: currentTime went from ${t0} to ${t1} in 1.5 s`);
      await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('#video')!.paused, null, {
        timeout: 10_000,
      });
      await page.waitForTimeout(300);
      const end = await clockNow(page);
      assert.ok((await video(page)).paused, `${engine}: still paused`);
      assert.ok(
        end < WINDOW.to && WINDOW.to - end <= FRAME_TICKS,
        `${engine}: stopped at ${end}, the window ends at ${WINDOW.to}`,
      );

      // The clip's playlists were asked for, always with from/to inside the window (never the whole
      // timeline's), and its bytes at the ref the playlists name; nothing refused.
      const media = (await requests()).filter((r) => /^\/(hls|dash|objects)\//.test(r.url.pathname));
      const playlists = media.filter((r) => /\.(m3u8|mpd)$/.test(r.url.pathname));
      const main = engine === 'hls' ? 'master.m3u8' : 'manifest.mpd';
      assert.ok(
        playlists.some((r) => r.url.pathname === `/${engine}/${SPACE}/main/${TIMELINE}/${main}`),
        `the clip's ${main}`,
      );
      for (const r of playlists) {
        const from = BigInt(r.url.searchParams.get('from') ?? -1);
        const to = BigInt(r.url.searchParams.get('to') ?? -1);
        assert.ok(from >= WINDOW.from && to <= WINDOW.to && to > from, `${r.url.pathname}${r.url.search}`);
      }
      const objects = media.filter((r) => r.url.pathname.startsWith('/objects/'));
      assert.ok(objects.length >= 4, `init segments and fragments: ${objects.length} requests`);
      for (const r of media) assert.equal(r.url.searchParams.get('token'), link, `${r.url.pathname}: token=`);
      for (const r of objects) assert.equal(r.url.searchParams.get('ref'), 'main', `${r.url.pathname}: ref=`);
      const refused = [...statuses]
        .filter(
          ([r, status]) => /^\/(hls|dash|objects|v0)\//.test(new URL(r.url()).pathname) && status >= 400,
        )
        .map(
          ([r, status]) => `${status} ${r.method()} ${new URL(r.url()).pathname}${r.headers().range ?? ''}`,
        );
      assert.deepEqual(refused, [], `${engine}: no request refused (401, 403) or failed`);
      assert.equal(await page.evaluate(() => window.dreamdb.error), undefined);
      await page.close();
    });
  }
});
