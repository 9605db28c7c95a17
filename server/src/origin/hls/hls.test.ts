/** The HLS routes against real clients (ffmpeg, hls-parser, GStreamer): rungs, captions, clips, events, thumbnails. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseFragment, parseInit } from '@dreamdb/packager';
import HLS from 'hls-parser';
import { ffmpegCopy } from '../testing/ffmpeg.js';
import { gstPlay } from '../testing/gstreamer.js';
import { httpOf } from '../testing/http.js';
import { labForTests, probeStreams } from '../testing/lab.js';

const run = promisify(execFile);
const served = labForTests('hls');
/** The session these tests read (served once before them). */
const lab = () => served.lab;

test('ffmpeg, a client nobody here wrote, plays the HLS of every rung to the end: same duration as the source', async () => {
  const master = `${lab().base}/hls/lab/main/s1/master.m3u8`;
  const copy = join(served.dir, 'copy.mp4');
  // Asynchronously: the origin answering ffmpeg runs in this very process.
  await ffmpegCopy(master, copy, ['0']);
  const probe = { streams: await probeStreams(copy) };
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  assert.ok(probe.streams.some((s) => s.codec_type === 'audio'));
  // Within one frame (40 ms at 25 fps) of the source's 6 s.
  assert.ok(Math.abs(Number(video.duration) - 6) <= 0.04, `copied ${video.duration} s of video`);
});

test('playlists pass a strict parser: variants per rung with codecs and bandwidth, byte ranges into buckets', async () => {
  const response = await fetch(`${lab().base}/hls/lab/main/s1/master.m3u8`);
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
    const text = await (await fetch(`${lab().base}/hls/lab/main/s1/${rung}.m3u8`)).text();
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

test('captions are a WebVTT subtitles rendition: EXT-X-MEDIA, a playlist, and cues on the media timeline', async () => {
  const master = HLS.parse(
    await (await fetch(`${lab().base}/hls/lab/main/s1/master.m3u8`)).text(),
  ) as HLS.types.MasterPlaylist;
  const subs = master.variants[0]!.subtitles;
  assert.equal(subs.length, 1);
  assert.equal(subs[0]!.uri, 'captions.m3u8');
  const playlist = HLS.parse(
    await (await fetch(`${lab().base}/hls/lab/main/s1/captions.m3u8`)).text(),
  ) as HLS.types.MediaPlaylist;
  assert.equal(playlist.segments.length, 1);
  const segment = await fetch(`${lab().base}${playlist.segments[0]!.uri}`);
  assert.equal(segment.headers.get('content-type'), 'text/vtt; charset=utf-8');
  const text = await segment.text();
  assert.match(text, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00\.000\n/);
  // The cue at 0.5 s of the input sits at origin + 0.5 s; media time 0 is the video's first tick.
  const video = lab().report.tracks.find((t) => t.name === 'video-180p')!;
  const start = 0.5 + Number(lab().report.origin - video.first) / 1e9;
  const ms = Math.round(start * 1000);
  assert.match(
    text,
    new RegExp(
      `00:00:00\\.${String(ms).padStart(3, '0')} --> 00:00:01\\.${String(ms).padStart(3, '0')}\\nHello`,
    ),
  );
  assert.match(text, /\nWorld\n/);
  assert.equal((await fetch(`${lab().base}/hls/lab/main/s1/captions/x.vtt`)).status, 404);
});

const { text, mediaOf, segmentBytes } = httpOf(() => lab().base);

test('tfdt runs on without gaps in every rendition, and the video rungs cut at the same media times', async () => {
  const starts: number[][] = [];
  for (const rung of ['video-180p', 'video-144p', 'audio']) {
    const playlist = await mediaOf(`/hls/lab/main/s1/${rung}.m3u8`);
    const init = parseInit(
      new Uint8Array(await (await fetch(`${lab().base}${playlist.segments[0]!.map!.uri}`)).arrayBuffer()),
    );
    let next: number | undefined;
    const times: number[] = [];
    for (const s of playlist.segments) {
      const fragment = parseFragment(await segmentBytes(s), init);
      if (next !== undefined) assert.equal(fragment.baseMediaDecodeTime, next, `${rung}: tfdt continues`);
      next = fragment.baseMediaDecodeTime + fragment.duration;
      // EXTINF is the fragment's own duration.
      assert.ok(Math.abs(s.duration - fragment.duration / init.timescale) < 1e-3, `${rung}: EXTINF`);
      times.push(fragment.baseMediaDecodeTime / init.timescale);
      if (rung !== 'audio') assert.ok(fragment.startsWithSync, `${rung}: fragments start at a sync sample`);
    }
    if (rung !== 'audio') starts.push(times);
  }
  assert.deepEqual(starts[0], starts[1]);
});

test('a clip (?from=&to=) lists just the fragments covering it, and ffmpeg copies just that', async () => {
  const video = lab().report.tracks.find((t) => t.name === 'video-180p')!;
  const from = video.first + 2_000_000_000n;
  const to = video.first + 4_000_000_000n;
  const whole = await mediaOf('/hls/lab/main/s1/video-180p.m3u8');
  const clip = await mediaOf(`/hls/lab/main/s1/video-180p.m3u8?from=${from}&to=${to}`);
  assert.ok(clip.segments.length >= 1 && clip.segments.length < whole.segments.length);
  const total = clip.segments.reduce((sum, s) => sum + s.duration, 0);
  assert.ok(total >= 2 - 0.05 && total <= 4, `clip lasts ${total} s`);
  // The first listed fragment covers `from`: the same bytes the seek API names for it.
  const seek = (await (
    await fetch(`${lab().base}/v0/spaces/lab/timelines/s1/seek?t=${from}&tracks=video-180p`)
  ).json()) as {
    tracks: { range: { start: number } }[];
  };
  assert.equal(clip.segments[0]!.byterange!.offset, seek.tracks[0]!.range.start);
  assert.ok(clip.segments[0]!.programDateTime instanceof Date);

  // The master carries the clip to its media playlists, and ?tracks= keeps one rung.
  const master = HLS.parse(
    await text(`/hls/lab/main/s1/master.m3u8?from=2s&to=4s&tracks=video-144p,audio`),
  ) as HLS.types.MasterPlaylist;
  assert.deepEqual(
    master.variants.map((v) => v.uri),
    ['video-144p.m3u8?from=2000000000&to=4000000000'],
  );
  const copy = join(served.dir, 'clipped.mp4');
  await ffmpegCopy(`${lab().base}/hls/lab/main/s1/master.m3u8?from=${from}&to=${to}`, copy);
  // Audio fragments are cut apart from video ones: the clip keeps those overlapping it, so look at video.
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'stream=duration',
    '-of',
    'csv=p=0',
    copy,
  ]);
  assert.ok(Math.abs(Number(stdout) - total) < 0.05, `copied ${stdout.trim()} s of a ${total} s clip`);

  assert.equal((await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8?from=4s&to=2s`)).status, 400);
  assert.equal((await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8?from=soon`)).status, 400);
  assert.equal((await fetch(`${lab().base}/hls/lab/main/s1/master.m3u8?tracks=nope`)).status, 404);
});

test('a manifest hash in place of the ref plays that version, cached as immutable', async () => {
  const listing = (await (await fetch(`${lab().base}/v0/spaces/lab/timelines/s1`)).json()) as {
    manifest: string;
    playback: { dash: string };
  };
  assert.equal(listing.playback.dash, '/dash/lab/main/s1/manifest.mpd');
  const response = await fetch(`${lab().base}/hls/lab/${listing.manifest}/s1/master.m3u8`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await response.text(), await text('/hls/lab/main/s1/master.m3u8'));
  const unknown = `1e20${'0'.repeat(64)}`;
  assert.equal((await fetch(`${lab().base}/hls/lab/${unknown}/s1/master.m3u8`)).status, 404);
});

test('events are EXT-X-DATERANGE tags on the wall clock, with their label and payload', async () => {
  const playlist = await text('/hls/lab/main/s1/video-180p.m3u8');
  const ranges = playlist.split('\n').filter((l) => l.startsWith('#EXT-X-DATERANGE:'));
  assert.equal(ranges.length, 2);
  const parsed = HLS.parse(playlist) as HLS.types.MediaPlaylist;
  // hls-parser keeps the last date range before a segment: the second event's.
  const dateRange = parsed.segments[0]!.dateRange!;
  assert.equal(dateRange.classId, 'org.dreamdb.events');
  assert.equal(dateRange.duration, 1.5);
  const startTick = lab().report.origin + 3_500_000_000n;
  const genesis = 1_795_600_000_000_000_000n;
  assert.equal(dateRange.start!.getTime(), Number((genesis + startTick) / 1_000_000n));
  const first = ranges[0]!;
  assert.match(
    first,
    /CLASS="org\.dreamdb\.events",START-DATE="[^"]+",X-TRACK="events",X-TICK="\d+",X-LABEL="start",/,
  );
  // The payload is JSON, percent-encoded: a quoted string cannot hold a double quote.
  const payload = /X-PAYLOAD="([^"]*)"/.exec(first)![1]!;
  assert.deepEqual(JSON.parse(decodeURIComponent(payload)), { who: 'ana', label: 'start' });
  assert.match(ranges[1]!, /DURATION=1\.500,/);
  assert.match(ranges[1]!, /X-LABEL="grasp 'cup'"/);
  for (const r of ranges) assert.match(r, /^#EXT-X-DATERANGE:(?:[A-Z0-9-]+=(?:"[^"\r\n]*"|[^",]+)(?:,|$))+$/);
});

test('thumbnails are an image playlist of JPEGs, announced in the multivariant playlist', async () => {
  const master = await text('/hls/lab/main/s1/master.m3u8');
  const line = master.split('\n').find((l) => l.startsWith('#EXT-X-IMAGE-STREAM-INF:'));
  assert.match(line!, /RESOLUTION=96x\d+,CODECS="jpeg",URI="thumbnails.m3u8"/);
  const images = await text('/hls/lab/main/s1/thumbnails.m3u8');
  assert.match(images, /#EXT-X-IMAGES-ONLY/);
  const uris = images.split('\n').filter((l) => l.endsWith('.jpg'));
  assert.equal(uris.length, 3);
  const jpeg = await fetch(`${lab().base}${uris[1]}`);
  assert.equal(jpeg.headers.get('content-type'), 'image/jpeg');
  const bytes = new Uint8Array(await jpeg.arrayBuffer());
  assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xd8]);
  assert.equal((await fetch(`${lab().base}${uris[1]!.replace(/\d+\.jpg$/, '1.jpg')}`)).status, 404);
});

test('GStreamer, another client nobody here wrote, plays the HLS to the end: every frame, no error', async () => {
  const played = await gstPlay(`${lab().base}/hls/lab/main/s1/master.m3u8`);
  // 6 s at 25 fps, from one rung (gstPlay fixes the connection speed, so no switch drops or repeats one).
  assert.equal(played.video.buffers, 150, `${played.video.buffers} frames`);
  const { video, audio } = played;
  assert.ok(Math.abs(video.end - video.start - 6) <= 0.04, `video from ${video.start} to ${video.end} s`);
  assert.ok(audio.end - audio.start >= 6 - 0.05, `audio from ${audio.start} to ${audio.end} s`);
});
