import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, openPlayer, type Served, SPACE, serveSample, shot, TIMELINE } from './harness.js';

/**
 * Deleting on purpose in Chromium (spec 0020): a deleted stretch of media plays across on hls.js (its
 * playlist's EXT-X-GAP segments) and on shaka-player (a hole in the DASH SegmentTimeline), on the
 * timeline's own clock; the player deletes an annotation on the user's branch and lists the deletion
 * against main.
 */

let served: Served;
let browser: Browser;
const base = `space=${SPACE}&timeline=${TIMELINE}`;
const api = (path: string, body: unknown) =>
  fetch(`${served.url}/v0/spaces/${SPACE}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

before(async () => {
  served = await serveSample();
  browser = await launch();
  // Branch `gap`: every stream track without 10 s to 14 s.
  assert.equal((await api('refs', { name: 'gap', at: 'main' })).status, 201);
  const tracks = (await (
    await fetch(`${served.url}/v0/spaces/${SPACE}/timelines/${TIMELINE}/tracks`)
  ).json()) as { tracks: { name: string; kind: string }[] };
  const streams = tracks.tracks.filter((t) => t.kind === 'stream').map((t) => t.name);
  assert.ok(streams.length >= 2, JSON.stringify(tracks));
  const cut = await api('delete', {
    ref: 'heads/gap',
    deletes: streams.map((track) => ({ timeline: TIMELINE, track, from: '10s', to: '14s' })),
  });
  assert.equal(cut.status, 200, await cut.text());
});
after(async () => {
  await browser?.close();
  await served?.stop();
});

async function page(query: string): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  p.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await openPlayer(p, served.url, query);
  return p;
}

describe('deleting in the player', () => {
  for (const engine of ['hls', 'dash'] as const) {
    test(`${engine}: playback crosses a deleted stretch and keeps the timeline's clock`, async () => {
      const p = await page(`${base}&ref=heads/gap&engine=${engine}`);
      await p.evaluate(() => window.dreamdb.seek(8_500_000_000n));
      await p.evaluate(() => document.querySelector<HTMLVideoElement>('#video')!.play());
      // Past the hole within a few seconds of wall time: nothing stalls at 10 s.
      await p.waitForFunction(
        () => document.querySelector<HTMLVideoElement>('#video')!.currentTime > 14.5,
        undefined,
        {
          timeout: 15_000,
        },
      );
      const { time, tick } = await p.evaluate(() => ({
        time: document.querySelector<HTMLVideoElement>('#video')!.currentTime,
        tick: window.dreamdb.now().toString(),
      }));
      // Media time is still the timeline's: the clock says the same tick.
      assert.ok(Math.abs(Number(BigInt(tick)) / 1e9 - time) < 0.1, `${engine}: clock ${tick} at ${time} s`);
      await shot(p, `gap-${engine}`);
      await p.close();
    });
  }

  test('delete an annotation on your branch: its lane loses it, the changes list shows it removed, main keeps it', async () => {
    const at = 7_000_000_000n;
    const made = await api('publish', {
      ref: 'main',
      tracks: [{ timeline: TIMELINE, name: 'annotations', kind: 'event', modality: 'event.annotation' }],
      writes: [
        {
          timeline: TIMELINE,
          track: 'annotations',
          items: [{ tick: at.toString(), payload: { label: 'wrong mark' } }],
        },
      ],
    });
    assert.equal(made.status, 200, await made.text());
    const p = await page(base);
    await p.locator('#user').fill('e2e-del');
    await p.evaluate((t) => window.dreamdb.seek(BigInt(t)), (at + 200_000_000n).toString());
    await p.locator('#delete').click();
    await p.waitForFunction(() => window.dreamdb.ready && window.dreamdb.state().ref === 'heads/e2e-del');
    assert.match(
      (await p.locator('#status').textContent()) ?? '',
      /deleted wrong mark at 0:07\.000 on heads\/e2e-del/,
    );
    const lane = await p.evaluate(
      () =>
        window.dreamdb
          .lanes()
          .find((l) => l.id === 'annotations')
          ?.spans.map((s) => s.label) ?? [],
    );
    assert.deepEqual(lane, []);
    const change = p.locator('#changes li').first();
    await change.waitFor();
    assert.match((await change.textContent()) ?? '', /− annotations at 0:07\.000 wrong mark/);
    const onMain = (await (
      await fetch(`${served.url}/v0/spaces/${SPACE}/timelines/${TIMELINE}/items?ref=main&tracks=annotations`)
    ).json()) as { items: { payload: { label: string } }[] };
    assert.deepEqual(
      onMain.items.map((i) => i.payload.label),
      ['wrong mark'],
    );
    await shot(p, 'delete-annotation');
    await p.close();
  });
});
