import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineDoc, TrackDoc } from '@dreamdb/engine/api';
import { clipTracks, clipUrl, clipUrls, mainTrack } from './clip.js';
import { playbackUrls } from './token.js';

const track = (name: string, kind: TrackDoc['kind'], modality: string): TrackDoc => ({
  name,
  kind,
  modality,
  items: 1,
});

const doc = (tracks: TrackDoc[]): TimelineDoc => ({
  space: 'demo',
  timeline: 'lab',
  manifest: '1e20',
  tracks,
  playback: { hls: '/hls/demo/main/lab/master.m3u8', dash: '/dash/demo/main/lab/manifest.mpd' },
});

const lab = doc([
  track('audio', 'stream', 'audio.aac'),
  track('captions', 'event', 'text.cue'),
  track('thumbnails', 'event', 'image.jpeg'),
  track('video', 'stream', 'video.h264'),
  track('video 720', 'stream', 'video.h264'),
]);
const window = { from: 40_300_000_000n, to: 42_800_000_000n };

test('a clip lists the stream tracks only: caption files and thumbnails are refused to a windowed token', () => {
  assert.deepEqual(clipTracks(lab), ['audio', 'video', 'video 720']);
});

test('clip URLs: from and to in ticks and the tracks, then the token', () => {
  assert.deepEqual(playbackUrls(clipUrls(lab, window), 'T0k'), {
    hls: '/hls/demo/main/lab/master.m3u8?from=40300000000&to=42800000000&tracks=audio,video,video%20720&token=T0k',
    dash: '/dash/demo/main/lab/manifest.mpd?from=40300000000&to=42800000000&tracks=audio,video,video%20720&token=T0k',
  });
  assert.equal(clipUrl('/m.mpd?x=1#t', window, []), '/m.mpd?x=1&from=40300000000&to=42800000000#t');
  assert.equal(clipUrl('/m.mpd?', window, ['a']), '/m.mpd?from=40300000000&to=42800000000&tracks=a');
});

test("hls.js's media time 0 is the main variant's first fragment: video, else audio", () => {
  assert.equal(mainTrack(lab), 'video');
  assert.equal(mainTrack(doc([track('mic', 'stream', 'audio.opus')])), 'mic');
  assert.equal(mainTrack(doc([track('events', 'event', 'event.annotation')])), undefined);
});
