import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeVector } from '@dreamdb/engine';
import { search } from '@dreamdb/engine/query';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, type WriteItem, Writer } from '@dreamdb/engine/write';
import { makeClip } from '../ffmpeg/lavfi.js';
import {
  FRAME_BYTES,
  FRAME_EMBEDDING_DIM,
  FRAME_FILTERS,
  type FrameEmbedding,
  frameDescriptor,
  frameEmbeddings,
  hueSector,
  orientationBin,
  rawFrames,
} from './frame-embeddings.js';
import { writeDerived } from './track.js';

const S = 1_000_000_000n;
const ORIGIN = 7_000_000n; // a non-zero origin, as ingest gives for inputs with priming
const REFERENCE = fileURLToPath(new URL('../../../spec/vectors/frame_descriptor.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-frame-embeddings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Scenes of 2 s each, concatenated: a moving test picture, still colour bars, blue noise, a fractal zoom. */
const SCENES = ['testsrc2', 'smptebars', 'noise', 'mandelbrot'];
let clip: string; // 4 s of testsrc2 at 25 fps
let scenes: string;
let lateVideo: string; // clip's video 1.3 s after a silent audio track
let audioOnly: string;
before(() => {
  clip = makeClip(join(dir, 'clip.mp4'), { seconds: 4, size: '192x108' });
  audioOnly = makeClip(join(dir, 'audio.m4a'), { seconds: 1, audio: 48000 });
  scenes = join(dir, 'scenes.mp4');
  const size = 'size=192x108:rate=25';
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=${size}:duration=2`],
    ...['-f', 'lavfi', '-i', `smptebars=${size}:duration=2`],
    ...['-f', 'lavfi', '-i', `color=c=0x2060a0:${size}:duration=2,noise=alls=60:allf=t`],
    ...['-f', 'lavfi', '-i', `mandelbrot=${size},trim=duration=2`],
    '-filter_complex',
    `${[0, 1, 2, 3].map((i) => `[${i}:v]setsar=1,format=yuv420p[v${i}]`).join(';')};[v0][v1][v2][v3]concat=n=4:v=1:a=0[v]`,
    ...['-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', scenes],
  ]);
  lateVideo = join(dir, 'late-video.mkv');
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono:d=4'],
    ...['-itsoffset', '1.3', '-i', clip, '-map', '0:a', '-map', '1:v', '-c:a', 'pcm_s16le', '-c:v', 'copy'],
    lateVideo,
  ]);
});

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** The float32 values of an item's vector. */
function vectorOf(item: WriteItem): Float32Array {
  const bytes = (item.payload as FrameEmbedding).vector;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

test('frame embeddings: one 256-d unit vector a second at origin + 0, 1, 2, 3 s', async () => {
  const derived = frameEmbeddings(clip, { origin: ORIGIN });
  assert.deepEqual(derived.track, {
    name: 'frame-embeddings',
    kind: 'event',
    modality: 'vector.f32;dim=256',
    bucketDuration: 60n * S,
    attrs: { descriptor: 'dreamdb.frame.v1', every_seconds: 1, frame: '64x36' },
  });
  const items = await all(derived.items);
  assert.deepEqual(
    items.map((i) => [i.tick, i.duration]),
    [0n, 1n, 2n, 3n].map((s) => [ORIGIN + s * S, S]),
  );
  for (const item of items) {
    assert.deepEqual(Object.keys(item.payload as object), ['vector']);
    const vector = vectorOf(item);
    assert.equal(vector.length, FRAME_EMBEDDING_DIM);
    assert.ok(vector.every(Number.isFinite));
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-6, `unit length at ${item.tick}`);
  }
  // Sampled as thumbnails are: the item at 2 s describes frame 50, the one on screen then.
  const frame50 = execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', clip, '-map', '0:v'],
    ...['-vf', ['select=eq(n\\,50)', ...FRAME_FILTERS].join(','), '-fps_mode', 'passthrough'],
    ...['-f', 'rawvideo', 'pipe:1'],
  ]);
  assert.equal(frame50.length, FRAME_BYTES);
  assert.deepEqual((items[2]!.payload as FrameEmbedding).vector, encodeVector(frameDescriptor(frame50)));
});

test('frame embeddings of a video starting late begin with the interval it starts in', async () => {
  const items = await all(frameEmbeddings(lateVideo, { origin: ORIGIN, everySeconds: 0.5 }).items);
  // Video from 1.3 s to 5.3 s: its first frame for [1.0 s, 1.5 s), then the pictures at 1.5, 2.0 … 5.0 s.
  assert.deepEqual(
    items.map((i) => i.tick),
    Array.from({ length: 9 }, (_, k) => ORIGIN + S + BigInt(k) * 500_000_000n),
  );
  // The first shows the clip's first frame: the same picture as at 0 s of the clip, the same vector.
  const onTime = await all(frameEmbeddings(clip, { origin: 0n }).items);
  assert.deepEqual(vectorOf(items[0]!), vectorOf(onTime[0]!));
  assert.notDeepEqual(vectorOf(items[1]!), vectorOf(onTime[0]!));
});

test('frame embeddings are deterministic: two runs give the same bytes', async () => {
  const run = async () =>
    Buffer.concat(
      (await all(frameEmbeddings(scenes, { origin: 0n, everySeconds: 0.5 }).items)).map(
        (i) => (i.payload as FrameEmbedding).vector,
      ),
    );
  const [first, second] = [await run(), await run()];
  assert.equal(first.length, 16 * FRAME_EMBEDDING_DIM * 4);
  assert.ok(first.equals(second));
});

test('frames of one scene are closer than frames of different scenes', async () => {
  const items = await all(frameEmbeddings(scenes, { origin: 0n, everySeconds: 0.5 }).items);
  assert.equal(items.length, 16);
  const vectors = items.map(vectorOf);
  const sceneOf = (k: number) => Math.floor(k / 4); // 4 samples per 2 s scene
  let sameMin = 1;
  let crossMax = -1;
  const report: string[] = [];
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length; b++) {
      const c = cosine(vectors[a]!, vectors[b]!);
      if (sceneOf(a) === sceneOf(b)) sameMin = Math.min(sameMin, c);
      else crossMax = Math.max(crossMax, c);
    }
  }
  for (let s = 0; s < SCENES.length; s++) {
    const within = [];
    for (let a = 4 * s; a < 4 * s + 4; a++)
      for (let b = a + 1; b < 4 * s + 4; b++) within.push(cosine(vectors[a]!, vectors[b]!));
    report.push(`${SCENES[s]} ≥ ${Math.min(...within).toFixed(2)}`);
  }
  const message = `same scene ≥ ${sameMin.toFixed(3)} (${report.join(', ')}), across ≤ ${crossMax.toFixed(3)}`;
  assert.ok(sameMin >= 0.55, message);
  assert.ok(crossMax <= 0.45, message);
  assert.ok(sameMin - crossMax >= 0.25, message);
  // Every frame's nearest other frame is of its own scene.
  for (let a = 0; a < vectors.length; a++) {
    let best = -1;
    let bestCosine = -2;
    for (let b = 0; b < vectors.length; b++) {
      const c = b === a ? -2 : cosine(vectors[a]!, vectors[b]!);
      if (c > bestCosine) [best, bestCosine] = [b, c];
    }
    assert.equal(sceneOf(best), sceneOf(a), `frame ${a}`);
  }
});

test('"more like this frame": a search with a stored frame vector finds its own scene first', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const writer = new Writer();
  writer.timeline({ name: 's1' });
  const report = await writeDerived(
    writer,
    's1',
    frameEmbeddings(scenes, { origin: ORIGIN, everySeconds: 0.5 }),
  );
  assert.equal(report.count, 16);
  await publish(session, writer, { ref: 'main', message: 'embeddings' });
  const main = (await session.resolve('main'))!;
  const items = await all(frameEmbeddings(scenes, { origin: ORIGIN, everySeconds: 0.5 }).items);
  const query = vectorOf(items[5]!); // smptebars, at 2.5 s
  const hits = await search(session, main, {
    timeline: 's1',
    track: 'frame-embeddings',
    vector: query,
    k: 4,
  });
  assert.equal(hits[0]!.tick, ORIGIN + 2_500_000_000n);
  for (const hit of hits) {
    const seconds = Number(hit.tick - ORIGIN) / 1e9;
    assert.ok(seconds >= 2 && seconds < 4, `hit at ${seconds} s is in the colour-bars scene`);
  }
});

test('an input without video is refused, naming it', async () => {
  await assert.rejects(
    all(frameEmbeddings(audioOnly, { origin: 0n }).items),
    (error: Error) =>
      error.name === 'MediaError' &&
      /audio\.m4a: has no video stream to make frame embeddings of$/.test(error.message),
  );
  assert.throws(() => frameEmbeddings(clip, { origin: 0n, everySeconds: 0 }), /everySeconds 0 is outside/);
  assert.throws(() => frameEmbeddings(clip, { origin: -1n }), /origin must be a non-negative bigint/);
});

test('rawFrames cuts frames however the bytes are chunked; a cut frame is refused', async () => {
  const bytes = Uint8Array.from({ length: 30 }, (_, i) => i);
  for (const size of [1, 4, 7, 30]) {
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    const frames = await all(rawFrames(chunks(), 10));
    assert.deepEqual(
      frames.map((f) => [...f]),
      [0, 10, 20].map((start) => Array.from({ length: 10 }, (_, i) => start + i)),
    );
  }
  const cut = (async function* () {
    yield bytes.subarray(0, 25);
  })();
  await assert.rejects(all(rawFrames(cut, 10, 'x.mkv')), /x\.mkv: .*ends inside frame 2 \(5 of 10 bytes\)/);
});

test('orientation bins and hue sectors follow their integer rules', () => {
  // [gx, gy] -> bin: horizontal gradient 0, vertical 4, diagonals 2 and 6, and the 22.5° steps between.
  const orientations: [number, number, number][] = [
    [10, 0, 0],
    [-10, 0, 0],
    [10, 2, 0], // tan = 1/5: still 0
    [10, 3, 1],
    [3, 2, 1], // tan = 2/3: still 1
    [10, 10, 2],
    [-10, -10, 2],
    [2, 3, 3], // tan = 3/2: 3
    [2, 10, 4], // tan = 5: 4
    [0, 10, 4],
    [0, -10, 4],
    [-2, 10, 4],
    [-3, 2, 7],
    [10, -10, 6],
    [-10, 3, 7],
    [-2, 3, 5],
  ];
  for (const [gx, gy, bin] of orientations) assert.equal(orientationBin(gx, gy), bin, `(${gx}, ${gy})`);
  // [u, v] -> sector: 45° sectors counter-clockwise from +Cb.
  const hues: [number, number, number][] = [
    [20, 0, 0],
    [20, 19, 0],
    [20, 20, 1],
    [0, 20, 2],
    [-20, 20, 3],
    [-20, 0, 4],
    [-20, -20, 5],
    [0, -20, 6],
    [20, -20, 7],
    [20, -1, 7],
  ];
  for (const [u, v, sector] of hues) assert.equal(hueSector(u, v), sector, `(${u}, ${v})`);
});

test('a second implementation written from the spec gives the same bytes (spec 0007 §5.4.1)', () => {
  // A frame made by formula (a luma ramp with a bright square, chroma turning around the picture), then
  // real frames of the four scenes.
  const plane = 64 * 36;
  const synthetic = new Uint8Array(FRAME_BYTES);
  for (let y = 0; y < 36; y++) {
    for (let x = 0; x < 64; x++) {
      const i = y * 64 + x;
      synthetic[i] = x >= 20 && x < 40 && y >= 10 && y < 26 ? 220 : 16 + 3 * x;
      synthetic[plane + i] = 128 + ((x * 7 + y * 3) % 90) - 45;
      synthetic[2 * plane + i] = 128 + ((x * 2 - y * 5 + 400) % 70) - 35;
    }
  }
  const decoded = execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', scenes, '-vf', ['fps=2', ...FRAME_FILTERS].join(',')],
    ...['-f', 'rawvideo', 'pipe:1'],
  ]);
  const frames = Buffer.concat([synthetic, decoded]);
  assert.equal(frames.length, 17 * FRAME_BYTES);
  const reference = execFileSync('python3', [REFERENCE], { input: frames });
  const ours = Buffer.concat(
    Array.from({ length: 17 }, (_, k) =>
      encodeVector(frameDescriptor(frames.subarray(k * FRAME_BYTES, (k + 1) * FRAME_BYTES))),
    ),
  );
  assert.equal(reference.length, 17 * 1024);
  assert.ok(ours.equals(reference), 'the same float32 bytes');
  // A flat grey frame still has a direction (its luma and colour histograms).
  const grey = new Uint8Array(FRAME_BYTES).fill(128);
  assert.ok(frameDescriptor(grey).some((x) => x !== 0));
  assert.throws(() => frameDescriptor(new Uint8Array(10)), /a frame is 6912 bytes, not 10/);
});
