import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { range } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { probe } from '../ffmpeg/probe.js';
import { checkStreamTrack } from '../testing/check.js';
import { ingest } from './ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-inputs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, args: string[]): string {
  const file = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, file]);
  return file;
}

function ffprobeJson(bytes: Uint8Array, entries: string): Record<string, unknown> {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, bytes);
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', file]);
  rmSync(file);
  return JSON.parse(out.toString());
}

async function ingested(input: string, options: { ladder?: number[] } = {}) {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const report = await ingest(session, input, { timeline: 's1', ...options });
  const main = (await session.resolve('main'))!;
  const { items } = await range(session, main, { timeline: 's1', t0: 0n, t1: 3600n * 1_000_000_000n });
  const init = async (track: string) =>
    session.store.getObject(main.manifest.tracks.find((t) => t.name === track)!.init!);
  // Every input: fragments back to back, each decoding from a keyframe (ffprobe), and the media as long
  // as the source within a frame.
  for (const track of report.tracks) {
    checkStreamTrack(track, await init(track.name), items);
    const probed = await probe(input);
    const source = probed.streams.find((st) => st.index === track.stream)!;
    const [num, den] = (source.frameRate ?? '0/1').split('/').map(Number) as [number, number];
    // One frame: a video frame at the average rate, or an audio frame of 1024 samples.
    // An AAC encode adds its priming frame (and pads the last): two frames.
    const frames = source.kind === 'audio' && !track.remuxed ? 2 : 1;
    const frame = frames * (source.kind === 'video' ? den / num : 1024 / (source.sampleRate ?? 48000));
    // MPEG-TS stream durations are ffprobe's estimates, not measurements: not compared.
    if (source.duration !== undefined && !probed.format.includes('mpegts'))
      assert.ok(
        Math.abs(Number(track.end - track.first) / 1e9 - source.duration) <= frame + 0.001,
        `${track.name} lasts ${Number(track.end - track.first) / 1e9} s, the source ${source.duration} s`,
      );
  }
  return { report, items, main, init };
}

const src = (size: string, rate: number, seconds: number) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
];
const tone = (seconds: number) => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=300:sample_rate=48000:duration=${seconds}`,
];

test('a ladder: rungs above the source are dropped, the rest cut at the same ticks, each fragment starting at an IDR', async () => {
  const input = make('ladder.mp4', [
    ...src('640x360', 25, 6),
    ...tone(6),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '37',
    '-c:a',
    'aac',
  ]);
  const { report, items, main, init } = await ingested(input, { ladder: [1080, 720, 360, 240] });
  assert.deepEqual(
    report.tracks.map((t) => [t.name, t.height, t.remuxed]),
    [
      ['video-360p', 360, false],
      ['video-240p', 240, false],
      ['audio', undefined, true],
    ],
  );
  const playlist = items.find((i) => i.track === 'renditions')!.payload as {
    sets: { kind: string; tracks: { track: string; bandwidth: number; height?: number; codecs: string }[] }[];
  };
  assert.deepEqual(
    playlist.sets.map((set) => [set.kind, set.tracks.map((t) => t.track)]),
    [
      ['video', ['video-360p', 'video-240p']],
      ['audio', ['audio']],
    ],
  );
  const [hi, lo] = playlist.sets[0]!.tracks;
  assert.ok(hi!.bandwidth > lo!.bandwidth && lo!.bandwidth > 0, 'measured peak bandwidths by rung');
  const ticksOf = (track: string) => items.filter((i) => i.track === track).map((i) => [i.tick, i.duration]);
  assert.deepEqual(ticksOf('video-360p'), ticksOf('video-240p'), 'rungs are cut at the same ticks');
  assert.equal(ticksOf('video-360p').length, 3);
  for (const track of ['video-360p', 'video-240p']) {
    const header = await init(track);
    const def = main.manifest.tracks.find((t) => t.name === track)!;
    assert.match(def.codecs!, /^avc1\./);
    assert.equal(def.attrs?.height, Number(track.slice(6, -1)));
    assert.ok(Number(def.attrs?.bandwidth) > 0);
    for (const item of items.filter((i) => i.track === track)) {
      const probe = ffprobeJson(Buffer.concat([header, item.bytes]), 'frame=key_frame,pict_type') as {
        frames: { key_frame: number; pict_type: string }[];
      };
      assert.equal(probe.frames[0]!.key_frame, 1);
      assert.equal(probe.frames[0]!.pict_type, 'I');
    }
  }
});

test('variable frame rate, a fragmented MP4, rotation, MPEG-2 in MPEG-TS and Opus alone', async () => {
  // 50 frames 40 ms apart, then 50 frames 100 ms apart: 7 s.
  const vfr = await ingested(
    make('vfr.mp4', [
      ...src('192x108', 25, 4),
      '-vf',
      "settb=1/1000,setpts='if(lt(N,50),N*40,2000+(N-50)*100)'",
      '-vsync',
      'vfr',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '20',
    ]),
  );
  const v = vfr.report.tracks[0]!;
  assert.ok(Math.abs(Number(v.end - v.first) / 1e9 - 7) <= 0.1, `vfr lasts ${v.end - v.first}`);

  const fragmentedInput = make('input-fragmented.mp4', [
    ...src('192x108', 25, 4),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-movflags',
    '+frag_keyframe+empty_moov',
  ]);
  const fragmented = await ingested(fragmentedInput);
  assert.equal(fragmented.report.tracks[0]!.fragments, 2);

  // A phone recording held upright: the rotation is a display matrix in the track header (set on a copy,
  // as ffmpeg 5.1 drops it when encoding).
  const upright = make('upright.mp4', [...src('192x108', 25, 2), '-c:v', 'libx264', '-preset', 'ultrafast']);
  const rotated = await ingested(
    make('rotated.mp4', ['-i', upright, '-c', 'copy', '-metadata:s:v:0', 'rotate=90']),
  );
  const side = ffprobeJson(await rotated.init('video'), 'stream_side_data') as {
    streams: { side_data_list?: { rotation?: number }[] }[];
  };
  assert.equal(Math.abs(side.streams[0]!.side_data_list?.[0]?.rotation ?? 0), 90, 'rotation survives');

  const ts = await ingested(
    make('mpeg2.ts', [...src('192x108', 25, 3), ...tone(3), '-c:v', 'mpeg2video', '-c:a', 'mp2']),
  );
  assert.deepEqual(
    ts.report.tracks.map((t) => [t.modality, t.remuxed]),
    [
      ['video.h264', false],
      ['audio.aac', false],
    ],
  );
  // Times count from the container's start (MPEG-TS begins near 1.4 s): the video starts near tick 0.
  assert.ok(ts.report.tracks[0]!.first - ts.report.origin < 100_000_000n);

  // H.264 and AAC (ADTS) in MPEG-TS are remuxed.
  const remuxedTs = await ingested(
    make('h264-aac.ts', [
      ...src('192x108', 25, 3),
      ...tone(3),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
    ]),
  );
  assert.deepEqual(
    remuxedTs.report.tracks.map((t) => [t.name, t.remuxed]),
    [
      ['video', true],
      ['audio', true],
    ],
  );

  const opus = await ingested(make('voice.ogg', [...tone(3), '-c:a', 'libopus']));
  assert.deepEqual(
    opus.report.tracks.map((t) => [t.name, t.modality, t.remuxed]),
    [['audio', 'audio.opus', true]],
  );
});
