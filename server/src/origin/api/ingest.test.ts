import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryStore } from '@dreamdb/engine/store';
import { makeClip } from '@dreamdb/packager';
import { serve } from '@hono/node-server';
import { createOrigin } from '../app.js';

/**
 * The upload route over real HTTP on loopback with real ffmpeg: a clip posted as the body becomes a
 * timeline with stream and derived tracks that plays as HLS; a name clash, a non-media body, an empty
 * body and an oversized body are refused with a message naming the problem, and move no ref; the spool
 * directory is empty after every request.
 */

const work = mkdtempSync(join(tmpdir(), 'dreamdb-ingest-route-'));
const spool = mkdtempSync(join(work, 'spool-'));
const clip = makeClip(join(work, 'clip.mp4'), { seconds: 4, size: '320x180', audio: 48000, gop: 25 });
let base = '';
let stop: () => Promise<void>;

before(async () => {
  const origin = createOrigin({ store: new MemoryStore(), maxUploadBytes: 4 * 1024 * 1024, spoolDir: spool });
  const server = serve({ fetch: origin.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stop = () => new Promise((resolve) => server.close(() => resolve()));
});
after(async () => {
  await stop();
  rmSync(work, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted
async function upload(path: string, body: BodyInit | undefined): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}/v0/spaces${path}`, {
    method: 'POST',
    headers: { 'content-type': 'video/mp4' },
    ...(body !== undefined && { body }),
  });
  return { status: response.status, json: await response.json() };
}

const mainAt = async () => {
  const response = await fetch(`${base}/v0/spaces/lab/refs/main`);
  return response.ok ? ((await response.json()) as { manifest: string }).manifest : undefined;
};

test('an uploaded clip becomes a new timeline that plays, with its derived tracks', async () => {
  const { status, json } = await upload(
    '/lab/timelines/clip-1/ingest?new=1&thumbnails=1s&embeddings=1&audioLevel=1&name=my%20clip.mp4',
    readFileSync(clip),
  );
  assert.equal(status, 201, JSON.stringify(json));
  assert.equal(json.timeline, 'clip-1');
  assert.deepEqual(json.tracks.map((t: { modality: string }) => t.modality).sort(), [
    'audio.aac',
    'video.h264',
  ]);
  assert.ok(
    json.tracks.every((t: { remuxed: boolean }) => t.remuxed),
    'H.264/AAC is remuxed',
  );
  assert.deepEqual(json.derived.map((d: { name: string }) => d.name).sort(), [
    'audio-level',
    'frame-embeddings',
    'thumbnails',
  ]);
  assert.equal(await mainAt(), json.manifest);
  const timeline = await (await fetch(`${base}/v0/spaces/lab/timelines/clip-1`)).json();
  const playlist = await fetch(`${base}${timeline.playback.hls}`);
  assert.equal(playlist.status, 200);
  assert.match(await playlist.text(), /#EXT-X-STREAM-INF/);
  const log = await (await fetch(`${base}/v0/spaces/lab/log?ref=main`)).json();
  assert.equal(log.entries[0].message, 'upload my_clip.mp4 into clip-1');
  assert.deepEqual(readdirSync(spool), [], 'the spooled upload is removed');
});

test('refusals name the problem and leave main where it was', async () => {
  const before = await mainAt();
  const clash = await upload('/lab/timelines/clip-1/ingest?new=1', readFileSync(clip));
  assert.equal(clash.status, 409);
  assert.match(clash.json.message, /timeline clip-1 already exists/);

  const text = await upload(
    '/lab/timelines/clip-2/ingest?name=notes.txt',
    'these are not frames\n'.repeat(50),
  );
  assert.equal(text.status, 400);
  assert.equal(text.json.error, 'E_MEDIA');
  assert.match(text.json.message, /^notes\.txt: /);
  assert.doesNotMatch(text.json.message, /dreamdb-upload-/, 'the spool path is not shown');

  const empty = await upload('/lab/timelines/clip-2/ingest', undefined);
  assert.equal(empty.status, 400);
  assert.match(empty.json.message, /no media file/);

  const large = await upload('/lab/timelines/clip-2/ingest', new Uint8Array(5 * 1024 * 1024));
  assert.equal(large.status, 413);
  assert.match(large.json.message, /upload limit of 4194304/);

  // Without Content-Length (a stream), the limit applies while the body is read.
  const chunks = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 6; i++) controller.enqueue(new Uint8Array(1024 * 1024));
      controller.close();
    },
  });
  const streamed = await fetch(`${base}/v0/spaces/lab/timelines/clip-2/ingest`, {
    method: 'POST',
    body: chunks,
    duplex: 'half',
  } as RequestInit);
  assert.equal(streamed.status, 413);

  const badName = await upload('/lab/timelines/Clip%20Two/ingest', readFileSync(clip));
  assert.equal(badName.status, 400);
  assert.match(badName.json.message, /timeline: "Clip Two" is not a name/);

  // A playlist would have ffmpeg read other files of the server: only recordings are taken.
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${clip}\n#EXT-X-ENDLIST\n`;
  const hls = await upload('/lab/timelines/clip-2/ingest?name=list.m3u8', playlist);
  assert.equal(hls.status, 400, JSON.stringify(hls.json));
  assert.equal(hls.json.error, 'E_MEDIA');

  const hash = await upload(`/lab/timelines/clip-2/ingest?ref=${before}`, readFileSync(clip));
  assert.equal(hash.status, 400);
  assert.match(hash.json.message, /is a manifest hash; upload to a branch or main/);

  for (const [param, pattern] of [
    ['fragment=0.5s', /^fragment: "0.5s" is outside 1 s to 30 s/],
    ['fragment=500ms', /^fragment: "500ms" is outside 1 s to 30 s/],
    ['thumbnails=5ns', /^thumbnails: "5ns" is outside 0.01 s to 86400 s/],
    ['embeddings=0', /^embeddings: "0" is outside 0.01 s to 86400 s/],
    ['thumbnails=soon', /^thumbnails: "soon" is not a time; give seconds \(2, 1.5\), a number with a unit/],
  ] as const) {
    const bad = await upload(`/lab/timelines/clip-2/ingest?${param}`, readFileSync(clip));
    assert.equal(bad.status, 400, param);
    assert.match(bad.json.message, pattern);
  }

  assert.equal(await mainAt(), before, 'no refusal moved main');
  assert.deepEqual(readdirSync(spool), [], 'no spooled upload is left behind');
});

test('two uploads racing for one new timeline: one is published, the other is 409; odd names are only names', async () => {
  const body = readFileSync(clip);
  const answers = await Promise.all([
    upload('/lab/timelines/race/ingest?new=1&name=..', body),
    upload('/lab/timelines/race/ingest?new=1&name=.', body),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status).sort(),
    [201, 409],
    JSON.stringify(answers.map((a) => a.json)),
  );
  const refused = answers.find((a) => a.status === 409)!;
  assert.match(refused.json.message, /timeline race already exists/);
  const log = await (await fetch(`${base}/v0/spaces/lab/log?ref=main&limit=1`)).json();
  assert.match(log.entries[0].message, /^upload (\.|\.\.) into race$/);
  assert.deepEqual(readdirSync(spool), []);
});

test('a client that goes away while its upload is packaged gets nothing published, and the spool is cleared', async () => {
  const long = makeClip(join(work, 'long.mp4'), { seconds: 20, size: '320x180', audio: 48000, gop: 25 });
  const before = await mainAt();
  const client = new AbortController();
  const request = fetch(`${base}/v0/spaces/lab/timelines/gone/ingest?embeddings=0.04s&thumbnails=0.1s`, {
    method: 'POST',
    body: readFileSync(long),
    signal: client.signal,
  });
  setTimeout(() => client.abort(), 300);
  await assert.rejects(request, /abort/i);
  for (let i = 0; i < 200 && readdirSync(spool).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(readdirSync(spool), [], 'the spool is cleared');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await mainAt(), before, 'nothing was published');
});

test('Accept: application/x-ndjson: a line per stage as the upload is packaged, then the outcome', async () => {
  const lines = async (path: string, body: BodyInit) => {
    const response = await fetch(`${base}/v0/spaces/lab/timelines/${path}`, {
      method: 'POST',
      headers: { accept: 'application/x-ndjson' },
      body,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    return (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const got = await lines('lines/ingest?thumbnails=1s&audioLevel=1', readFileSync(clip));
  assert.deepEqual(got[0], { stage: 'received', bytes: readFileSync(clip).length });
  assert.ok(got.some((l) => l.stage === 'packaging' && typeof l.seconds === 'number' && l.fragments));
  assert.deepEqual(
    got.filter((l) => l.stage === 'deriving').map((l) => l.track),
    ['thumbnails', 'audio-level'],
  );
  const done = got.at(-1)!;
  assert.equal(got.at(-2)!.stage, 'publishing');
  assert.equal(done.stage, 'done');
  assert.equal(done.status, 201);
  assert.equal(done.manifest, await mainAt());

  const before = await mainAt();
  const refused = await lines('lines-2/ingest?name=notes.txt', 'not a recording\n'.repeat(20));
  assert.deepEqual(
    refused.map((l) => l.stage),
    ['received', 'failed'],
  );
  assert.equal(refused[1]!.error, 'E_MEDIA');
  assert.equal(refused[1]!.status, 400);
  assert.equal(await mainAt(), before);
});
