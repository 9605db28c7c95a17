import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { range } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { MediaError } from '../errors.js';
import { checkStreamTrack, packets } from '../testing/check.js';
import { ingest } from './ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-packager-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small input made with ffmpeg's lavfi sources. */
function make(name: string, args: string[]): string {
  const file = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, file]);
  return file;
}
const video = (seconds: number, rate = '30000/1001') => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=192x108:rate=${rate}:duration=${seconds}`,
];
const tone = (seconds: number, sampleRate = 48000) => [
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=${sampleRate}:duration=${seconds}`,
];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

async function ingested(input: string, options: { fragmentSeconds?: number } = {}) {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const report = await ingest(session, input, { timeline: 's1', ...options });
  const main = (await session.resolve('main'))!;
  const { items } = await range(session, main, { timeline: 's1', t0: 0n, t1: 3600n * 1_000_000_000n });
  const inits = new Map(
    await Promise.all(
      report.tracks.map(async (t) => [t.name, await session.store.getObject(t.init)] as const),
    ),
  );
  return { report, items, inits, main };
}

/** Every stream track of an ingest, checked with ffprobe (testing/check.ts). */
function checkFragments(result: Awaited<ReturnType<typeof ingested>>) {
  for (const track of result.report.tracks)
    checkStreamTrack(track, result.inits.get(track.name)!, result.items);
}

test('H.264 with B-frames at 29.97 fps and AAC, moov at the end, keyframes every 1.5 s: CMAF fragments in sync', async () => {
  const input = make('bframes.mp4', [
    ...video(7),
    ...tone(7),
    ...h264,
    '-g',
    '45',
    '-bf',
    '2',
    '-c:a',
    'aac',
  ]);
  const result = await ingested(input);
  assert.deepEqual(
    result.report.tracks.map((t) => [t.name, t.modality, t.remuxed]),
    [
      ['video', 'video.h264', true],
      ['audio', 'audio.aac', true],
    ],
  );
  checkFragments(result);
  const [v, a] = result.report.tracks;
  // Fragments are cut at the first keyframe 2 s or more in: 3 s here (keyframes every 45 frames).
  assert.equal(v!.fragments, 3);
  // Duration within one frame of the source (7 s of video).
  assert.ok(Math.abs(Number(v!.end - v!.first) / 1e9 - 7) <= 1001 / 30000);
  // The first presented video frame and the end of audio priming (1024 samples) fall on the same tick:
  // the input's time zero, `origin`.
  const firstVideo = packets(
    Buffer.concat([result.inits.get('video')!, result.items.find((i) => i.track === 'video')!.bytes]),
  )[0]!;
  const videoPresents = v!.first + BigInt(Math.round(((firstVideo.pts - firstVideo.dts) / 30000) * 1e9));
  const audioPresents = a!.first + BigInt(Math.round((1024 / 48000) * 1e9));
  const audioFrame = (1024 / 48000) * 1e9;
  assert.ok(Math.abs(Number(videoPresents - result.report.origin)) < 1e6, `video starts at ${videoPresents}`);
  assert.ok(Math.abs(Number(audioPresents - videoPresents)) <= audioFrame, 'audio/video offset');
  assert.equal(result.main.manifest.tracks.find((t) => t.name === 'video')!.codecs, v!.codec);
});

test('video without audio, audio alone at 44.1 kHz, and fragments of 1 s', async () => {
  const silent = await ingested(make('silent.mp4', [...video(3, '25'), ...h264, '-g', '25']), {
    fragmentSeconds: 1,
  });
  assert.deepEqual(
    silent.report.tracks.map((t) => t.name),
    ['video'],
  );
  assert.equal(silent.report.tracks[0]!.fragments, 3);
  checkFragments(silent);
  const audio = await ingested(make('tone.m4a', [...tone(5, 44100), '-c:a', 'aac']));
  assert.deepEqual(
    audio.report.tracks.map((t) => [t.name, t.modality]),
    [['audio', 'audio.aac']],
  );
  checkFragments(audio);
  assert.equal(audio.main.manifest.tracks[0]!.attrs?.sample_rate, 44100);
});

test('WebM VP9/Opus is remuxed into CMAF; HEVC is transcoded to H.264', async () => {
  const webm = await ingested(
    make('clip.webm', [
      ...video(2, '15'),
      ...tone(2),
      '-c:v',
      'libvpx-vp9',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-g',
      '15',
      '-c:a',
      'libopus',
    ]),
  );
  assert.deepEqual(
    webm.report.tracks.map((t) => [t.modality, t.remuxed]),
    [
      ['video.vp9', true],
      ['audio.opus', true],
    ],
  );
  checkFragments(webm);
  const hevcFile = make('clip-hevc.mp4', [
    ...video(3, '25'),
    '-c:v',
    'libx265',
    '-preset',
    'ultrafast',
    '-x265-params',
    'log-level=error',
  ]);
  await assert.rejects(
    ingest(new Session(new SpaceStore(new MemoryStore(), 'lab')), hevcFile, {
      timeline: 's1',
      remuxOnly: true,
    }),
    /cannot remux hevc \(stream 0\): browsers do not play it/,
  );
  const hevc = await ingested(hevcFile);
  assert.deepEqual(
    hevc.report.tracks.map((t) => [t.modality, t.remuxed]),
    [['video.h264', false]],
  );
  checkFragments(hevc);
  // Transcoding puts a keyframe at every fragment boundary: 2 s fragments.
  const hevcVideo = hevc.items.filter((i) => i.track === 'video');
  assert.ok(hevcVideo.every((i, n) => n === hevcVideo.length - 1 || i.duration === 2_000_000_000n));
});

test('bad inputs: a clear error naming the file, and nothing published', async () => {
  const notMedia = join(dir, 'notes.txt');
  writeFileSync(notMedia, 'this is not a video\n'.repeat(100));
  const empty = join(dir, 'empty.mp4');
  writeFileSync(empty, '');
  const truncated = make('truncated.mp4', [...video(2), ...h264]);
  truncateSync(truncated, 2000);
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.mp4'), /missing\.mp4: no such file/],
    [empty, /empty\.mp4: is empty/],
    [notMedia, /notes\.txt: not a media file/],
    [truncated, /truncated\.mp4: /],
  ];
  for (const [file, message] of cases) {
    const store = new MemoryStore();
    const session = new Session(new SpaceStore(store, 'lab'));
    await assert.rejects(ingest(session, file, { timeline: 's1' }), (error: unknown) => {
      assert.ok(error instanceof MediaError, `${file}: ${error}`);
      assert.match(error.message, message);
      assert.equal(error.message.includes('\n'), false);
      return true;
    });
    assert.equal(await session.resolve('main'), undefined, `${file}: nothing published`);
  }
  await assert.rejects(
    ingest(new Session(new SpaceStore(new MemoryStore(), 'lab')), notMedia, {
      timeline: 's1',
      fragmentSeconds: 0.5,
    }),
    /outside 1–30 s/,
  );
});

test('re-ingesting the same file changes nothing; other media for the same track is refused', async () => {
  const input = make('again.mp4', [...video(3, '25'), ...tone(3), ...h264, '-g', '25', '-c:a', 'aac']);
  const store = new MemoryStore();
  const session = new Session(new SpaceStore(store, 'lab'));
  const first = await ingest(session, input, { timeline: 's1' });
  assert.equal(first.unchanged, false);
  const objects = (await store.list('spaces/lab/objects/')).objects.length;
  const again = await ingest(new Session(new SpaceStore(store, 'lab')), input, { timeline: 's1' });
  assert.equal(again.unchanged, true);
  assert.deepEqual(again.published.hash, first.published.hash);
  assert.equal((await store.list('spaces/lab/objects/')).objects.length, objects);
  // Same encoder settings (so the same CMAF header), other pictures.
  const other = make('other.mp4', [
    '-f',
    'lavfi',
    '-i',
    'color=c=red:size=192x108:rate=25:duration=3',
    ...tone(3),
    ...h264,
    '-g',
    '25',
    '-c:a',
    'aac',
  ]);
  await assert.rejects(
    ingest(new Session(new SpaceStore(store, 'lab')), other, { timeline: 's1' }),
    /already holds (other media at tick|media with another CMAF header)/,
  );
  const resolved = await new Session(new SpaceStore(store, 'lab')).resolve('main');
  assert.deepEqual(resolved!.hash, first.published.hash);
});

test('an aborted ingest stops ffmpeg and publishes nothing, whether it is cutting fragments or deriving tracks', async () => {
  const input = make('abort.mp4', [...video(20), ...tone(20), ...h264, '-g', '30', '-c:a', 'aac']);
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  await ingest(session, make('before.mp4', [...video(2), ...h264]), { timeline: 'before' });
  const before = (await session.resolve('main'))!.hash;
  // While fragments come: aborted at the first progress report.
  const cutting = new AbortController();
  await assert.rejects(
    ingest(session, input, {
      timeline: 's1',
      fragmentSeconds: 1,
      signal: cutting.signal,
      onProgress: () => cutting.abort(new Error('the client went away')),
    }),
    /the client went away/,
  );
  // While a derived track is made (every fragment is in by then): aborted on a timer.
  const deriving = new AbortController();
  const started = Date.now();
  const pending = ingest(session, input, {
    timeline: 's1',
    signal: deriving.signal,
    embeddings: { everySeconds: 0.04 },
    onProgress: (p) => {
      if (p.seconds >= 19) setTimeout(() => deriving.abort(new Error('gone while deriving')), 50);
    },
  });
  await assert.rejects(pending, /gone while deriving/);
  assert.ok(Date.now() - started < 30_000);
  assert.deepEqual((await session.resolve('main'))!.hash, before, 'nothing was published');
});
