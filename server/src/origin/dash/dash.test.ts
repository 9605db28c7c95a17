import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tickToHex } from '@dreamdb/engine';
import { parseFragment, parseInit } from '@dreamdb/packager';
import { isoDuration, mpd, segmentTimeline, xmlEscape } from './mpd.js';

/** What the tests read of mpd-parser (it ships no types). */
interface ParsedSegment {
  readonly resolvedUri: string;
  readonly byterange?: { readonly offset: number; readonly length: number };
  readonly map?: { readonly resolvedUri: string };
  readonly duration: number;
  readonly presentationTime: number;
}
interface ParsedPlaylist {
  readonly attributes: {
    NAME: string;
    CODECS?: string;
    BANDWIDTH: number;
    RESOLUTION?: { width: number; height: number };
  };
  readonly segments: readonly ParsedSegment[];
}
interface ParsedGroup {
  readonly playlists: readonly ParsedPlaylist[];
}
interface ParsedManifest {
  readonly duration: number;
  readonly playlists: readonly ParsedPlaylist[];
  readonly mediaGroups: Record<'AUDIO' | 'SUBTITLES', Record<string, Record<string, ParsedGroup>>>;
  readonly eventStream?: readonly {
    schemeIdUri: string;
    value: string;
    start: number;
    end: number;
    messageData: string;
  }[];
}
const mpdParser = createRequire(import.meta.url)('mpd-parser') as {
  parse(text: string, options: { manifestUri: string }): ParsedManifest;
  stringToMpdXml(text: string): Element;
};

import { ffmpegCopy } from '../testing/ffmpeg.js';
import { labForTests, probeStreams } from '../testing/lab.js';

const run = promisify(execFile);
const served = labForTests(
  'dash',
  '{"seconds": 1, "duration": "0.5s", "label": "goal <b> & \\"more\\""}\n{"seconds": 3.2, "label": "cut"}\n',
  {},
);
/** The session these tests read (served once before them). */
const lab = () => served.lab;

const MPD_PATH = '/dash/lab/main/s1/manifest.mpd';

async function fetchMpd(query = ''): Promise<string> {
  const response = await fetch(`${lab().base}${MPD_PATH}${query}`);
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'application/dash+xml');
  return response.text();
}

/** The elements named `name` under `node`, in document order. */
const all = (node: Element, name: string) => Array.from(node.getElementsByTagName(name));
const attr = (node: Element, name: string) => node.getAttribute(name) ?? undefined;

/** A Representation's SegmentList: timescale, offset, and each segment's t, d and byte range. */
function segmentList(rep: Element) {
  const list = all(rep, 'SegmentList')[0]!;
  const times: { t: bigint; d: bigint }[] = [];
  let next = 0n;
  for (const s of all(list, 'S')) {
    const d = BigInt(attr(s, 'd')!);
    let t = attr(s, 't') !== undefined ? BigInt(attr(s, 't')!) : next;
    for (let k = 0; k <= Number(attr(s, 'r') ?? 0); k++, t += d) times.push({ t, d });
    next = t;
  }
  const urls = all(list, 'SegmentURL').map((u) => {
    const range = attr(u, 'mediaRange')?.split('-').map(Number);
    return { media: attr(u, 'media')!, ...(range && { range: range as [number, number] }) };
  });
  assert.equal(urls.length, times.length, 'one SegmentURL per S');
  return {
    timescale: BigInt(attr(list, 'timescale')!),
    offset: BigInt(attr(list, 'presentationTimeOffset') ?? 0),
    init: all(list, 'Initialization')[0]?.getAttribute('sourceURL') ?? undefined,
    segments: times.map((time, i) => ({ ...time, ...urls[i]! })),
  };
}

async function bytes(path: string, range?: [number, number]): Promise<Uint8Array> {
  const response = await fetch(`${lab().base}${path}`, {
    ...(range && { headers: { range: `bytes=${range[0]}-${range[1]}` } }),
  });
  assert.equal(response.status, range ? 206 : 200);
  return new Uint8Array(await response.arrayBuffer());
}

/** The period's start in ticks (dreamdb:tick on the Period). */
const periodTick = (doc: Element) => BigInt(all(doc, 'Period')[0]!.getAttribute('dreamdb:tick')!);

test('the MPD passes mpd-parser: a rung per Representation with codecs and resolution, byte ranges into buckets', async () => {
  const text = await fetchMpd();
  const manifest = mpdParser.parse(text, { manifestUri: `${lab().base}${MPD_PATH}` });
  assert.ok(Math.abs(manifest.duration - 6) < 0.1, `duration ${manifest.duration}`);
  assert.deepEqual(
    manifest.playlists.map((p) => [p.attributes.NAME, p.attributes.RESOLUTION]),
    [
      ['video-180p', { width: 320, height: 180 }],
      ['video-144p', { width: 256, height: 144 }],
    ],
  );
  const audio = Object.values(manifest.mediaGroups.AUDIO.audio!)[0]!.playlists[0]!;
  for (const p of [...manifest.playlists, audio]) {
    assert.match(p.attributes.CODECS!, p === audio ? /^mp4a\.40\.2$/ : /^avc1\.[0-9a-f]{6}$/);
    assert.ok(p.attributes.BANDWIDTH > 0);
    assert.ok(p.segments.length >= 3);
    for (const s of p.segments) {
      assert.match(s.resolvedUri, new RegExp(`^${lab().base}/objects/lab/1e20[0-9a-f]{64}\\.m4s$`));
      assert.match(s.map!.resolvedUri, /\/objects\/lab\/1e20[0-9a-f]{64}\.mp4$/);
      assert.ok(s.byterange && s.byterange.length > 0 && s.byterange.offset > 0);
    }
  }
  const subtitles = Object.values(manifest.mediaGroups.SUBTITLES.subs!)[0]!.playlists[0]!;
  const zero = periodTick(mpdParser.stringToMpdXml(text));
  assert.equal(
    subtitles.segments[0]!.resolvedUri,
    `${lab().base}/dash/lab/main/s1/captions/${tickToHex(zero)}.vtt`,
  );
  // Revalidation: the same ETag for the same manifest and URL, 304 on If-None-Match.
  const response = await fetch(`${lab().base}${MPD_PATH}`);
  const etag = response.headers.get('etag')!;
  assert.equal(response.headers.get('cache-control'), 'public, max-age=1');
  const again = await fetch(`${lab().base}${MPD_PATH}`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  // The listing advertises this very URL.
  const listing = (await (await fetch(`${lab().base}/v0/spaces/lab/timelines/s1`)).json()) as {
    manifest: string;
    playback: { dash: string };
  };
  assert.equal(listing.playback.dash, MPD_PATH);
  // A manifest hash in place of the ref: that version, cached as immutable (its thumbnails URLs name it).
  const pinned = await fetch(`${lab().base}/dash/lab/${listing.manifest}/s1/manifest.mpd`);
  assert.equal(pinned.status, 200);
  assert.equal(pinned.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await pinned.text()).replaceAll(`/${listing.manifest}/`, '/main/'), text);
});

test('S@t and S@d are each fragment’s tfdt and duration: continuous, in the header’s timescale, equal across rungs', async () => {
  const doc = mpdParser.stringToMpdXml(await fetchMpd());
  const zero = periodTick(doc);
  const starts = new Map<string, bigint[]>();
  for (const rep of all(doc, 'Representation').filter((r) => all(r, 'Initialization').length > 0)) {
    const id = attr(rep, 'id')!;
    const list = segmentList(rep);
    const init = parseInit(await bytes(list.init!));
    assert.equal(list.timescale, BigInt(init.timescale), `${id}: the header's timescale`);
    for (const [i, s] of list.segments.entries()) {
      const fragment = parseFragment(await bytes(s.media, s.range), init);
      assert.equal(BigInt(fragment.baseMediaDecodeTime), s.t, `${id} segment ${i}: S@t is the tfdt`);
      assert.equal(BigInt(fragment.duration), s.d, `${id} segment ${i}: S@d is the duration`);
      const next = list.segments[i + 1];
      if (next) assert.equal(s.t + s.d, next.t, `${id} segment ${i}: continuous`);
    }
    // The offset puts each track where its ticks say: the first fragment at its tick minus the period's.
    const track = lab().report.tracks.find((t) => t.name === id)!;
    const at = Number(list.segments[0]!.t - list.offset) / Number(list.timescale);
    const expected = Number(track.first - zero) / 1e9;
    assert.ok(Math.abs(at - expected) <= 1 / Number(list.timescale), `${id}: ${at} s, not ${expected} s`);
    starts.set(
      id,
      list.segments.map((s) => s.t),
    );
  }
  assert.deepEqual(starts.get('video-180p'), starts.get('video-144p'), 'rungs start segments together');
  assert.ok(starts.has('audio'));
});

test('ffmpeg, a client nobody here wrote, copies the DASH video to the end: same duration as the source', async () => {
  const copy = join(served.dir, 'copy.mp4');
  // Asynchronously: the origin answering ffmpeg runs in this very process. Video and audio only: ffmpeg's
  // DASH demuxer ends everything at the end of the first representation to end (the captions, at 4.25 s).
  await ffmpegCopy(`${lab().base}${MPD_PATH}`, copy, ['0:v', '0:a']);
  const probe = { streams: await probeStreams(copy) };
  const videos = probe.streams.filter((s) => s.codec_type === 'video');
  assert.equal(videos.length, 2);
  assert.ok(probe.streams.some((s) => s.codec_type === 'audio'));
  // Within one frame (40 ms at 25 fps) of the source's 6 s.
  assert.ok(Math.abs(Number(videos[0]!.duration) - 6) <= 0.04, `copied ${videos[0]!.duration} s of video`);
  // ffmpeg reads the text AdaptationSet too: the cues.
  const { stdout } = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    `${lab().base}${MPD_PATH}`,
    '-map',
    '0:s',
    '-f',
    'webvtt',
    '-',
  ]);
  assert.match(stdout, /\nHello\n/);
  assert.match(stdout, /\nWorld\n/);
});

test('a clip (?from=2s&to=4s) has just the fragments covering it, starts the period at 2 s, and still copies', async () => {
  const query = '?from=2s&to=4s';
  const text = await fetchMpd(query);
  mpdParser.parse(text, { manifestUri: `${lab().base}${MPD_PATH}${query}` });
  const doc = mpdParser.stringToMpdXml(text);
  assert.equal(periodTick(doc), 2_000_000_000n);
  assert.equal(attr(doc, 'mediaPresentationDuration'), 'PT2.000S');
  for (const rep of all(doc, 'Representation').filter((r) => all(r, 'Initialization').length > 0)) {
    const id = attr(rep, 'id')!;
    const list = segmentList(rep);
    const track = lab().report.tracks.find((t) => t.name === id)!;
    const full = segmentList(
      all(mpdParser.stringToMpdXml(await fetchMpd()), 'Representation').find((r) => attr(r, 'id') === id)!,
    );
    // Media time 0 is tick 0 on every track (0007 §5.2): the first fragment's tfdt is its tick, to a unit.
    const tickOf = (t: bigint) => (t * 1_000_000_000n) / list.timescale;
    const unit = 1_000_000_000n / list.timescale + 1n;
    const lag = track.first - tickOf(full.segments[0]!.t);
    assert.ok(lag >= 0n && lag <= unit, `${id}: first tfdt ${full.segments[0]!.t} is tick ${track.first}`);
    const kept = full.segments.filter(
      (s) => tickOf(s.t + s.d) > 2_000_000_000n && tickOf(s.t) < 4_000_000_000n,
    );
    assert.deepEqual(
      list.segments.map((s) => s.t),
      kept.map((s) => s.t),
      `${id}: the fragments covering the clip`,
    );
    assert.ok(list.segments.length < full.segments.length);
    // The offset is 2 s in the track's media time, so the period starts at tick 2 s.
    const at = Number(tickOf(list.offset)) / 1e9;
    assert.ok(Math.abs(at - 2) <= 1 / Number(list.timescale), `${id}: period at ${at} s`);
  }
  const copy = join(served.dir, 'clip.mp4');
  await ffmpegCopy(`${lab().base}${MPD_PATH}${query}`, copy, ['0:v:0']);
  const duration = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=duration',
    '-of',
    'csv=p=0',
    copy,
  ]).toString();
  assert.ok(Math.abs(Number(duration) - 2) <= 0.04, `copied ${duration} s of the clip`);
  // The clip keeps only the event inside it, timed from the period's start.
  const events = all(doc, 'Event');
  assert.equal(events.length, 1);
  assert.equal(
    attr(events[0]!, 'presentationTime'),
    String(lab().report.origin + 3_200_000_000n - 2_000_000_000n),
  );
});

test('GStreamer (playbin, another client nobody here wrote) plays the DASH to the end without errors', async () => {
  // The clip carries every kind of AdaptationSet; the whole timeline plays without the captions (with
  // them playbin paces itself by the subtitle stream: ~5 s more for this test).
  for (const query of ['?from=2s&to=4s', '?tracks=video-180p,video-144p,audio']) {
    const sinks = ['video-sink=fakesink', 'audio-sink=fakesink', 'text-sink=fakesink'];
    const { stdout } = await run('gst-launch-1.0', [
      'playbin',
      `uri=${lab().base}${MPD_PATH}${query}`,
      ...sinks,
    ]);
    assert.match(stdout, /Got EOS/, query);
  }
});

test('events are an EventStream per event track: times from the period start, JSON payloads escaped', async () => {
  const text = await fetchMpd();
  const doc = mpdParser.stringToMpdXml(text);
  const zero = periodTick(doc);
  const stream = all(doc, 'EventStream')[0]!;
  assert.equal(attr(stream, 'schemeIdUri'), 'urn:dreamdb:event:2026');
  assert.equal(attr(stream, 'value'), 'events');
  assert.equal(attr(stream, 'timescale'), '1000000000');
  const parsed = mpdParser.parse(text, { manifestUri: `${lab().base}${MPD_PATH}` }).eventStream!;
  assert.equal(parsed.length, 2);
  const first = parsed[0]!;
  assert.equal(first.value, 'events');
  assert.deepEqual(JSON.parse(first.messageData), { label: 'goal <b> & "more"' });
  assert.ok(Math.abs(first.start - Number(lab().report.origin + 1_000_000_000n - zero) / 1e9) < 1e-9);
  assert.ok(Math.abs(first.end - first.start - 0.5) < 1e-9);
  assert.deepEqual(JSON.parse(parsed[1]!.messageData), { label: 'cut' });
  // A selection without the event track has no EventStream.
  const only = await fetchMpd('?tracks=video-180p,audio');
  assert.doesNotMatch(only, /EventStream/);
  assert.doesNotMatch(only, /video-144p/);
});

test('thumbnails are an image AdaptationSet of JPEGs (DASH-IF thumbnail tiles, 1x1)', async () => {
  const doc = mpdParser.stringToMpdXml(await fetchMpd());
  const set = all(doc, 'AdaptationSet').find((a) => attr(a, 'contentType') === 'image')!;
  assert.equal(attr(set, 'mimeType'), 'image/jpeg');
  const property = all(set, 'EssentialProperty')[0]!;
  assert.equal(attr(property, 'schemeIdUri'), 'http://dashif.org/thumbnail_tile');
  assert.equal(attr(property, 'value'), '1x1');
  const rep = all(set, 'Representation')[0]!;
  assert.equal(attr(rep, 'width'), '160');
  const list = segmentList(rep);
  assert.equal(list.segments.length, 3);
  assert.equal(list.timescale, 1_000_000_000n);
  assert.equal(list.offset, periodTick(doc));
  for (const s of list.segments) {
    assert.equal(s.d, 2_000_000_000n);
    const jpeg = await bytes(s.media);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
  }
});

test('captions are one WebVTT file timed from the period’s start, named by its tick, with no SegmentBase', async () => {
  const captionsOf = async (query: string) => {
    const doc = mpdParser.stringToMpdXml(await fetchMpd(query));
    const set = all(doc, 'AdaptationSet').find((a) => attr(a, 'contentType') === 'text')!;
    assert.equal(attr(set, 'mimeType'), 'text/vtt');
    // dash.js reads a SegmentBase as a segment index to fetch from the text file (and then shows nothing).
    assert.equal(all(set, 'SegmentBase').length, 0);
    const zero = periodTick(doc);
    const url = all(set, 'BaseURL')[0]!.textContent!;
    assert.equal(url, `captions/${tickToHex(zero)}.vtt`);
    const response = await fetch(`${lab().base}/dash/lab/main/s1/${url}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/vtt; charset=utf-8');
    return { zero, text: await response.text() };
  };
  const at = (ns: bigint) => {
    const ms = Number(ns / 1_000_000n);
    return `00:00:0${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}`;
  };
  // The cues at 0.5 s and 3 s of the input are at origin + 0.5 s and origin + 3 s, less the period's start.
  const full = await captionsOf('');
  assert.match(full.text, /^WEBVTT\n\n/);
  const hello = lab().report.origin + 500_000_000n - full.zero;
  assert.ok(full.text.includes(`${at(hello)} --> ${at(hello + 1_000_000_000n)}\nHello\n`), full.text);
  // A clip from 2 s: the period starts there, the cue that ended before it is left out.
  const clip = await captionsOf('?from=2s&to=5s');
  assert.equal(clip.zero, 2_000_000_000n);
  const world = lab().report.origin + 3_000_000_000n - clip.zero;
  assert.equal(clip.text, `WEBVTT\n\n${at(world)} --> ${at(world + 1_250_000_000n)}\nWorld\n`);
  // The same file revalidates by its ETag.
  const url = `${lab().base}/dash/lab/main/s1/captions/${tickToHex(clip.zero)}.vtt`;
  const etag = (await fetch(url)).headers.get('etag')!;
  assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
});

test('bad requests get a clear 4xx in JSON', async () => {
  const cases: [string, number, RegExp][] = [
    ['/dash/lab/nope/s1/manifest.mpd', 404, /no ref nope/],
    [`${MPD_PATH}?from=soon`, 400, /from: "soon" is not a time; give ticks/],
    [`${MPD_PATH}?from=4s&to=2s`, 400, /must be after/],
    [`${MPD_PATH}?tracks=video-180p,nope`, 404, /track nope/],
    [`${MPD_PATH}?from=3600s`, 404, /no stream fragments/],
    ['/dash/lab/main/elsewhere/manifest.mpd', 404, /timeline elsewhere/],
    ['/dash/lab/main/s1/playlist.m3u8', 404, /not an MPD/],
    ['/dash/lab/main/s1/captions.vtt', 404, /not an MPD/],
    ['/dash/lab/main/s1/captions/12.vtt', 404, /not a WebVTT file named by a tick/],
    ['/dash/lab/main/s1/video-180p/0000000000000000.vtt', 404, /not a caption track/],
    ['/dash/lab/main/s1/nope/0000000000000000.vtt', 404, /nope/],
  ];
  for (const [path, status, message] of cases) {
    const response = await fetch(`${lab().base}${path}`);
    assert.equal(response.status, status, path);
    assert.match(((await response.json()) as { message: string }).message, message, path);
  }
});

test('the MPD is well-formed XML (Python’s expat, an independent parser)', async () => {
  const file = join(served.dir, 'manifest.mpd');
  writeFileSync(file, await fetchMpd('?from=1s&to=5s'));
  await run('/usr/bin/python3', [
    '-c',
    'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])',
    file,
  ]);
});

test('mpd() writes escaped, ordered XML from plain descriptions', () => {
  assert.equal(xmlEscape(`a<b>&"c"'`), 'a&lt;b&gt;&amp;&quot;c&quot;&apos;');
  assert.equal(xmlEscape('bell\u0007'), 'bell');
  assert.equal(isoDuration(6.0213), 'PT6.021S');
  // One S per segment, never @r: dash.js pairs the n-th SegmentURL with the n-th S, not the n-th segment.
  assert.deepEqual(
    segmentTimeline([
      { t: 0n, d: 10n, uri: 'a' },
      { t: 10n, d: 10n, uri: 'a' },
      { t: 20n, d: 5n, uri: 'a' },
      { t: 30n, d: 5n, uri: 'a' },
    ]),
    ['<S t="0" d="10"/>', '<S t="10" d="10"/>', '<S t="20" d="5"/>', '<S t="30" d="5"/>'],
  );
  const text = mpd({
    duration: 1,
    minBufferTime: 1,
    eventStreams: [
      {
        schemeIdUri: 'urn:x',
        value: 'a&b',
        timescale: 1000n,
        events: [{ id: 0, presentationTime: 5n, duration: 0n, message: '{"x":"<y>"}' }],
      },
    ],
    adaptationSets: [],
  });
  assert.match(text, /<EventStream schemeIdUri="urn:x" value="a&amp;b" timescale="1000">/);
  assert.match(text, /<Event presentationTime="5" duration="0" id="0">\{"x":"&lt;y&gt;"\}<\/Event>/);
  // Event streams come before adaptation sets (the schema's order).
  mpdParser.parse(text, { manifestUri: 'http://x/m.mpd' });
});
