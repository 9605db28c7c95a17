import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type IssuerKey, issueToken, newIssuerKey } from '@dreamdb/engine/access';
import type { Browser, Page, Request } from 'playwright-core';
import { launch, openPlayer, type Served, SPACE, serveSample, shot, TIMELINE } from './harness.js';

/**
 * The player in Chromium against a real `dreamdb serve` that checks capability tokens (spec 0018): a
 * read-only link (`#token=…`) plays on hls.js and on shaka-player (DASH) with the token as a Bearer header
 * on every API call and as `token=` on every playlist, manifest and segment URL, none refused; the badge
 * says read-only and the controls it does not allow are hidden. An expired token and no token at all get
 * the refusal page with the origin's message; a token that may write one user's branch shows annotating.
 */

let served: Served;
let browser: Browser;
let issuer: IssuerKey;
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
});
