import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { multihashToHex, Session, SpaceStore } from '@dreamdb/engine';
import { FsStore } from '@dreamdb/engine/node';
import { ingest, makeClip } from '@dreamdb/packager';
import { serve } from '@hono/node-server';
import HLS from 'hls-parser';
import { createOrigin } from './app.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-origin-'));
let base = '';
let close: () => Promise<void>;
let report: Awaited<ReturnType<typeof ingest>>;

before(async () => {
  const input = makeClip(join(dir, 'clip.mp4'), { seconds: 6, size: '320x180', audio: 48000 });

  const store = await FsStore.open(join(dir, 'store'));
  const vtt = join(dir, 'talk.vtt');
  writeFileSync(
    vtt,
    'WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello\n\n00:00:03.000 --> 00:00:04.250\nWorld\n',
  );
  report = await ingest(new Session(new SpaceStore(store, 'lab')), input, {
    captions: vtt,
    timeline: 's1',
    genesis: 1_795_600_000_000_000_000n,
    ladder: [180, 144],
  });
  const server = serve({ fetch: createOrigin({ store }).fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  };
});
after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

test('ffmpeg, a client nobody here wrote, plays the HLS of every rung to the end: same duration as the source', async () => {
  const master = `${base}/hls/lab/main/s1/master.m3u8`;
  const copy = join(dir, 'copy.mp4');
  // Asynchronously: the origin answering ffmpeg runs in this very process.
  await run('ffmpeg', ['-v', 'error', '-y', '-i', master, '-map', '0', '-c', 'copy', copy]);
  const probe = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,duration',
      '-of',
      'json',
      copy,
    ]).toString(),
  ) as { streams: { codec_type: string; duration: string }[] };
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  assert.ok(probe.streams.some((s) => s.codec_type === 'audio'));
  // Within one frame (40 ms at 25 fps) of the source's 6 s.
  assert.ok(Math.abs(Number(video.duration) - 6) <= 0.04, `copied ${video.duration} s of video`);
});

test('playlists pass a strict parser: variants per rung with codecs and bandwidth, byte ranges into buckets', async () => {
  const response = await fetch(`${base}/hls/lab/main/s1/master.m3u8`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const master = HLS.parse(await response.text()) as HLS.types.MasterPlaylist;
  assert.ok(master.isMasterPlaylist);
  assert.deepEqual(
    master.variants.map((v) => [v.uri, v.resolution?.height]),
    [
      ['video-180p.m3u8', 180],
      ['video-144p.m3u8', 144],
    ],
  );
  for (const v of master.variants) {
    assert.match(v.codecs!, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    assert.ok(v.bandwidth > 0);
  }
  assert.equal(master.variants[0]!.audio[0]?.uri, 'audio.m3u8');
  const starts: string[][] = [];
  for (const rung of ['video-180p', 'video-144p', 'audio']) {
    const text = await (await fetch(`${base}/hls/lab/main/s1/${rung}.m3u8`)).text();
    const playlist = HLS.parse(text) as HLS.types.MediaPlaylist;
    assert.equal(playlist.endlist, true);
    assert.match(playlist.segments[0]!.map!.uri, /^\/objects\/lab\/1e20[0-9a-f]{64}\.mp4$/);
    assert.match(playlist.segments[0]!.uri, /^\/objects\/lab\/1e20[0-9a-f]{64}\.m4s$/);
    for (const s of playlist.segments) {
      assert.ok(Math.round(s.duration) <= playlist.targetDuration, 'EXTINF rounded <= TARGETDURATION');
      assert.ok(s.byterange && s.byterange.length > 0);
    }
    assert.ok(playlist.segments[0]!.programDateTime instanceof Date);
    if (rung !== 'audio') starts.push(playlist.segments.map((s) => `${s.duration}`));
  }
  assert.deepEqual(starts[0], starts[1], 'rungs have the same segment durations');
});

test('bytes: Range gives 206 with Content-Range, a bad range 416, ETag revalidation 304; immutable caching', async () => {
  const video = report.tracks[0]!;
  const init = multihashToHex(video.init);
  const url = `${base}/objects/lab/${init}`;
  const whole = await fetch(url);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(whole.headers.get('etag'), `"${init}"`);
  const size = (await whole.arrayBuffer()).byteLength;
  const part = await fetch(url, { headers: { range: 'bytes=4-11' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 4-11/${size}`);
  assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1', 0, 4), 'ftyp');
  const bad = await fetch(url, { headers: { range: `bytes=${size + 10}-` } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get('content-range'), `bytes */${size}`);
  const again = await fetch(url, { headers: { 'if-none-match': `"${init}"` } });
  assert.equal(again.status, 304);
});

test('the API lists a timeline with its playback URL; bad requests get a clear 4xx', async () => {
  const listing = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1`)).json()) as {
    tracks: { name: string; kind: string; items: number }[];
    playback: { hls: string };
  };
  assert.equal(listing.playback.hls, '/hls/lab/main/s1/master.m3u8');
  assert.ok(listing.tracks.some((t) => t.name === 'video-180p' && t.kind === 'stream' && t.items === 3));
  const missing = await fetch(`${base}/hls/lab/nope/s1/master.m3u8`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { message: string }).message, /no ref nope/);
  assert.equal((await fetch(`${base}/objects/lab/not-a-hash`)).status, 400);
  assert.equal((await fetch(`${base}/hls/lab/main/s1/nope.m3u8`)).status, 404);
  assert.equal((await fetch(`${base}/v0/spaces/lab/timelines/elsewhere`)).status, 404);
});

test('seek: the fragment covering t on every stream track, from the index alone', async () => {
  const answer = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=3.5s`)).json()) as {
    t: string;
    tracks: {
      track: string;
      tick: string;
      duration: string;
      offset: string;
      url: string;
      range: { start: number; end: number };
    }[];
  };
  assert.equal(answer.t, '3500000000');
  assert.deepEqual(answer.tracks.map((h) => h.track).sort(), ['audio', 'video-144p', 'video-180p']);
  for (const hit of answer.tracks) {
    const tick = BigInt(hit.tick);
    assert.ok(
      tick <= 3_500_000_000n && 3_500_000_000n < tick + BigInt(hit.duration),
      `${hit.track} covers t`,
    );
    assert.equal(BigInt(hit.offset), 3_500_000_000n - tick);
    const bytes = await fetch(`${base}${hit.url}`, {
      headers: { range: `bytes=${hit.range.start}-${hit.range.end - 1}` },
    });
    assert.equal(bytes.status, 206);
    // The fragment itself: a moof box first.
    assert.equal(Buffer.from(await bytes.arrayBuffer()).toString('latin1', 4, 8), 'moof');
  }
  // Video rungs are cut at the same ticks.
  const video = answer.tracks.filter((h) => h.track.startsWith('video'));
  assert.equal(video[0]!.tick, video[1]!.tick);
  assert.equal((await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=soon`)).status, 400);
  const late = (await (await fetch(`${base}/v0/spaces/lab/timelines/s1/seek?t=3600s`)).json()) as {
    tracks: unknown[];
  };
  assert.deepEqual(late.tracks, []);
});

test('captions are a WebVTT subtitles rendition: EXT-X-MEDIA, a playlist, and cues on the media timeline', async () => {
  const master = HLS.parse(
    await (await fetch(`${base}/hls/lab/main/s1/master.m3u8`)).text(),
  ) as HLS.types.MasterPlaylist;
  const subs = master.variants[0]!.subtitles;
  assert.equal(subs.length, 1);
  assert.equal(subs[0]!.uri, 'captions.m3u8');
  const playlist = HLS.parse(
    await (await fetch(`${base}/hls/lab/main/s1/captions.m3u8`)).text(),
  ) as HLS.types.MediaPlaylist;
  assert.equal(playlist.segments.length, 1);
  const segment = await fetch(`${base}${playlist.segments[0]!.uri}`);
  assert.equal(segment.headers.get('content-type'), 'text/vtt; charset=utf-8');
  const text = await segment.text();
  assert.match(text, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00\.000\n/);
  // The cue at 0.5 s of the input sits at origin + 0.5 s; media time 0 is the video's first tick.
  const video = report.tracks.find((t) => t.name === 'video-180p')!;
  const start = 0.5 + Number(report.origin - video.first) / 1e9;
  const ms = Math.round(start * 1000);
  assert.match(
    text,
    new RegExp(
      `00:00:00\\.${String(ms).padStart(3, '0')} --> 00:00:01\\.${String(ms).padStart(3, '0')}\\nHello`,
    ),
  );
  assert.match(text, /\nWorld\n/);
  assert.equal((await fetch(`${base}/hls/lab/main/s1/captions/x.vtt`)).status, 404);
});
