import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { parseRate } from '../time/rate.js';
import { decodeItem, encodeItem, validateItem } from './item.js';
import { decodeManifest, encodeManifest, type Manifest } from './manifest.js';
import { decodeSpace, encodeSpace } from './space.js';
import { decodeTimeline, encodeTimeline } from './timeline.js';
import { decodeTrack, encodeTrack, type Track } from './track.js';

const cam: Track = {
  timeline: 's1',
  name: 'cam',
  kind: 'stream',
  modality: 'video.h264',
  rate: parseRate('90000'),
  codecs: 'avc1.64001f',
};
const notes: Track = {
  timeline: 's1',
  name: 'notes',
  kind: 'event',
  modality: 'event.annotation',
  bucketDuration: 60_000_000_000n,
};
const calib: Track = { timeline: 's1', name: 'calib', kind: 'constant', modality: 'meta.calibration' };

const field = (path: string) => (e: unknown) =>
  e instanceof EngineError && e.code === 'E_FIELD' && e.message.includes(path);

test('every entity round-trips through deterministic CBOR', () => {
  assert.deepEqual(decodeSpace(encodeSpace({ name: 'lab', title: 'Lab' })), { name: 'lab', title: 'Lab' });
  const timeline = { name: 's1', genesis: 1_764_027_935_000_000_000n };
  assert.deepEqual(decodeTimeline(encodeTimeline(timeline)), timeline);
  for (const track of [cam, notes, calib]) assert.deepEqual(decodeTrack(encodeTrack(track)), track);
  const item = { track: 'notes', tick: 5n, duration: 2n, payload: { label: 'wave', score: 0.5 } };
  assert.deepEqual(decodeItem(encodeItem(item)), item);
});

test('a manifest has one encoding: track and timeline order do not change its bytes or hash', () => {
  const base: Manifest = {
    version: 1,
    space: 'lab',
    parents: [hashBytes(Uint8Array.of(1))],
    created: 1n,
    author: 'ana',
    timelines: [{ name: 's1' }, { name: 's0' }],
    tracks: [notes, cam, calib],
  };
  const a = encodeManifest(base);
  const b = encodeManifest({
    ...base,
    timelines: [...base.timelines].reverse(),
    tracks: [calib, notes, cam],
  });
  assert.deepEqual(a, b);
  const decoded = decodeManifest(a);
  assert.deepEqual(
    decoded.tracks.map((t) => t.name),
    ['calib', 'cam', 'notes'],
  );
  assert.deepEqual(encodeManifest(decoded), a);
});

test('items are checked against their track kind', () => {
  assert.throws(
    () => validateItem({ track: 'cam', tick: 0n, payload: { not: 'bytes' }, duration: 1n }, cam),
    field('item.payload'),
  );
  assert.throws(
    () => validateItem({ track: 'cam', tick: 0n, payload: new Uint8Array(1) }, cam),
    field('item.duration'),
  );
  assert.throws(() => validateItem({ track: 'calib', tick: 0n, payload: 1 }, calib), field('item.layer'));
  assert.throws(
    () => validateItem({ track: 'notes', tick: 0n, payload: 1, layer: 'x' }, notes),
    field('item.layer'),
  );
  assert.throws(() => validateItem({ track: 'other', tick: 0n, payload: 1 }, notes), field('item.track'));
  validateItem({ track: 'calib', tick: 0n, payload: { fx: 1.5 }, layer: '2026-11-24' }, calib);
});

test('malformed fields are refused with E_FIELD naming the path', () => {
  const good = decodeCanonical(encodeTrack(cam)) as Record<string, unknown>;
  const bad = (patch: Record<string, unknown>) => encodeCanonical({ ...good, ...patch });
  assert.throws(() => decodeTrack(bad({ name: 'Cam' })), field('track.name'));
  assert.throws(() => decodeTrack(bad({ rate: [90000] })), field('track.rate'));
  assert.throws(() => decodeTrack(bad({ codecs: 5 })), field('track.codecs'));
  assert.throws(() => decodeTrack(bad({ extra: true })), field('track.extra'));
  assert.throws(() => decodeTrack(encodeCanonical([1, 2])), field('track'));
  assert.throws(() => encodeTrack({ ...cam, rate: undefined }), field('track.rate'));
  assert.throws(() => encodeTrack({ ...notes, modality: 'video.h264' }), field('track.modality'));
});

test('a manifest refuses tracks on missing timelines and duplicate parents', () => {
  const parent = hashBytes(Uint8Array.of(2));
  const base: Manifest = {
    version: 1,
    space: 'lab',
    parents: [],
    created: 0n,
    timelines: [{ name: 's1' }],
    tracks: [cam],
  };
  assert.throws(() => encodeManifest({ ...base, timelines: [] }), field('manifest.tracks[0].timeline'));
  assert.throws(() => encodeManifest({ ...base, parents: [parent, parent] }), field('manifest.parents[1]'));
  assert.throws(() => encodeManifest({ ...base, tracks: [cam, cam] }), field('manifest.tracks[1]'));
  assert.throws(() => encodeManifest({ ...base, space: '../etc' }), /E_NAME/);
});
