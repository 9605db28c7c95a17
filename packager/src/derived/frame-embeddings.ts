import { encodeVector } from '@dreamdb/engine';
import type { WriteItem } from '@dreamdb/engine/write';
import { MediaError } from '../errors.js';
import {
  checkOrigin,
  DERIVED_BUCKET,
  type DerivedTrack,
  ffmpegOutput,
  reiterable,
  sampleFrames,
  sampleInterval,
} from './track.js';

export interface FrameEmbeddingOptions {
  /** The tick of the input's zero (IngestReport.origin; see inputZero). */
  readonly origin: bigint;
  /** Seconds between embeddings (default 1). */
  readonly everySeconds?: number;
  /** Track name (default "frame-embeddings"). */
  readonly name?: string;
}

/** The payload of a frame-embedding item: the descriptor as FRAME_EMBEDDING_DIM little-endian float32. */
export interface FrameEmbedding {
  readonly vector: Uint8Array;
}

/** The descriptor's name and version, in the track's attrs (spec 0007 §5.4.1). */
export const FRAME_DESCRIPTOR = 'dreamdb.frame.v1';
/** The picture the descriptor reads: 64×36 pixels, whatever the video's aspect ratio. */
export const FRAME_WIDTH = 64;
export const FRAME_HEIGHT = 36;
const PLANE = FRAME_WIDTH * FRAME_HEIGHT;
/** One frame as ffmpeg writes it: planar 8-bit Y, then Cb, then Cr, each FRAME_WIDTH × FRAME_HEIGHT. */
export const FRAME_BYTES = 3 * PLANE;
/** ffmpeg filters after sampling: an area-average downscale, bit-exact, to 4:4:4 limited-range YCbCr. */
export const FRAME_FILTERS: readonly string[] = [
  `scale=${FRAME_WIDTH}:${FRAME_HEIGHT}:flags=area+accurate_rnd+bitexact`,
  'format=yuv444p',
];

/**
 * The descriptor's blocks in vector order: their lengths and their shares of the cosine (the squares of
 * their weights, summing to 1). See frameDescriptor.
 */
const BLOCKS = [
  { name: 'layout', length: 48, share: 0.25 },
  { name: 'orientation', length: 128, share: 0.25 },
  { name: 'colour', length: 32, share: 0.2 },
  { name: 'luma', length: 16, share: 0.15 },
  { name: 'edges', length: 32, share: 0.15 },
] as const;
export const FRAME_EMBEDDING_DIM = BLOCKS.reduce((n, b) => n + b.length, 0);

/** A luma gradient counts when |gx| + |gy| reaches this (flat areas and coding noise do not). */
const GRADIENT_FLOOR = 8;
/** Chroma radii (|Cb − 128, Cr − 128|): below 12 a pixel is grey; saturation levels from 12, 32 and 64. */
const GREY_RADIUS = 12;
const MID_RADIUS = 32;
const HIGH_RADIUS = 64;

/**
 * Frame embeddings of the first video stream of `input`: an event track 'frame-embeddings' of
 * `vector.f32;dim=256`, for "more like this frame" searches. Item i is at tick origin + i·every, lasts
 * `every`, and describes the frame on screen i·every after the input's zero, sampled exactly as thumbnails
 * are (sampleFrames). ffmpeg decodes the video once more and writes 64×36 YUV 4:4:4 frames to a pipe;
 * each is described as it arrives (frameDescriptor), so memory holds one frame at a time.
 */
export function frameEmbeddings(input: string, options: FrameEmbeddingOptions): DerivedTrack {
  const origin = checkOrigin(options.origin, 'frameEmbeddings');
  const everySeconds = options.everySeconds ?? 1;
  const every = sampleInterval(everySeconds, 'frameEmbeddings');
  const name = options.name ?? 'frame-embeddings';

  async function* items(): AsyncGenerator<WriteItem> {
    const { first, args } = await sampleFrames(input, every, FRAME_FILTERS, 'make frame embeddings of');
    const pixels = ffmpegOutput(input, [...args, '-f', 'rawvideo', 'pipe:3'], 'frame embeddings');
    let i = first;
    for await (const frame of rawFrames(pixels, FRAME_BYTES, input)) {
      const payload: FrameEmbedding = { vector: encodeVector(frameDescriptor(frame)) };
      yield { tick: origin + i * every, duration: every, payload };
      i++;
    }
  }

  return {
    track: {
      name,
      kind: 'event',
      modality: `vector.f32;dim=${FRAME_EMBEDDING_DIM}`,
      bucketDuration: DERIVED_BUCKET,
      attrs: {
        descriptor: FRAME_DESCRIPTOR,
        every_seconds: everySeconds,
        frame: `${FRAME_WIDTH}x${FRAME_HEIGHT}`,
      },
    },
    items: reiterable(items),
  };
}

/**
 * Cut a byte stream into frames of `frameBytes` as the bytes arrive (chunks may split a frame); each
 * frame is a fresh array. A stream that ends inside a frame is a MediaError naming `file`.
 */
export async function* rawFrames(
  chunks: AsyncIterable<Uint8Array>,
  frameBytes: number,
  file = 'raw video stream',
): AsyncGenerator<Uint8Array> {
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let count = 0;
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(frameBytes - filled, chunk.length - at);
      frame.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === frameBytes) {
        yield frame;
        count++;
        frame = new Uint8Array(frameBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0)
    throw new MediaError(
      file,
      `ffmpeg's raw video ends inside frame ${count} (${filled} of ${frameBytes} bytes)`,
    );
}

/**
 * The unsigned orientation of a luma gradient in 8 bins of 22.5°, centred on 0°, 22.5°, … 157.5°, from
 * integer comparisons only: with a = |gx| and b = |gy|, the step s in 0–4 of the angle atan(b/a) is 0 when
 * 5b ≤ a, 1 when 3b ≤ 2a, 2 when 2b < 3a, 3 when b < 5a, else 4 (edges at tan ≈ 1/5, 2/3, 3/2, 5, close to
 * 11.25°, 33.75°, 56.25°, 78.75°); the bin is s when gx·gy ≥ 0, else (8 − s) mod 8.
 */
export function orientationBin(gx: number, gy: number): number {
  const a = gx < 0 ? -gx : gx;
  const b = gy < 0 ? -gy : gy;
  const s = 5 * b <= a ? 0 : 3 * b <= 2 * a ? 1 : 2 * b < 3 * a ? 2 : b < 5 * a ? 3 : 4;
  return gx < 0 === gy < 0 || gx === 0 || gy === 0 ? s : (8 - s) % 8;
}

/**
 * The hue sector of a chroma offset (u, v) = (Cb − 128, Cr − 128), not both 0: the angle atan2(v, u) in 8
 * sectors of 45° from the +Cb axis, from integer comparisons only: rotate (u, v) by −90° (to (v, −u)) q
 * times until u > 0 and v ≥ 0; the sector is 2q, plus 1 unless v < u.
 */
export function hueSector(u: number, v: number): number {
  let q = 0;
  while (!(u > 0 && v >= 0)) {
    const t = u;
    u = v;
    v = -t;
    q++;
  }
  return 2 * q + (v < u ? 0 : 1);
}

const add = (histogram: Float64Array, bin: number, amount: number) => {
  histogram[bin] = histogram[bin]! + amount;
};

/** Square-root (Hellinger) of a histogram's proportions, less their mean; an empty histogram stays 0. */
function hellingerCentred(block: Float64Array): void {
  let total = 0;
  for (let j = 0; j < block.length; j++) total += block[j]!;
  if (total === 0) return;
  let mean = 0;
  for (let j = 0; j < block.length; j++) {
    block[j] = Math.sqrt(block[j]! / total);
    mean += block[j]!;
  }
  mean /= block.length;
  for (let j = 0; j < block.length; j++) block[j] = block[j]! - mean;
}

/** Scale to unit length (a zero block stays 0). */
function normalize(block: Float64Array): void {
  let squares = 0;
  for (let j = 0; j < block.length; j++) squares += block[j]! * block[j]!;
  if (squares === 0) return;
  const norm = Math.sqrt(squares);
  for (let j = 0; j < block.length; j++) block[j] = block[j]! / norm;
}

/**
 * The `dreamdb.frame.v1` descriptor of one 64×36 YUV 4:4:4 frame (FRAME_BYTES: the Y plane, then Cb, then
 * Cr, rows top to bottom): 256 float32 of unit length, so the cosine of two frames is a weighted mean of
 * per-block correlations: near 1 for the same scene, near 0 for unrelated ones. Deterministic: the
 * histograms are integers, and the rest is IEEE double arithmetic in index order (Math.sqrt is correctly
 * rounded), each final value rounded once to float32. Blocks, in order (spec 0007 §5.4.1):
 * - layout (48): per cell of a 4×4 grid (16×9 px, row-major), the sums of Y − 128, Cb − 128, Cr − 128;
 * - orientation (128): per 4×4 cell, 8 orientation bins (orientationBin) of the luma gradient, weighted
 *   by |gx| + |gy| (central differences, inner pixels, at least GRADIENT_FLOOR);
 * - colour (32): pixel counts in 8 hue sectors (hueSector) × 3 saturation levels, then 8 grey levels (Y ÷ 32);
 * - luma (16): pixel counts by Y ÷ 16;
 * - edges (32): per cell of an 8×4 grid (8×9 px), the gradient weights of the orientation block.
 * The histograms (all but layout) become centred Hellinger vectors (hellingerCentred); each block is
 * scaled to unit length, then by the square root of its share; the whole is scaled to unit length.
 */
export function frameDescriptor(frame: Uint8Array): Float32Array {
  if (frame.length !== FRAME_BYTES)
    throw new RangeError(`frameDescriptor: a frame is ${FRAME_BYTES} bytes, not ${frame.length}`);
  const layout = new Float64Array(48);
  const orientation = new Float64Array(128);
  const colour = new Float64Array(32);
  const luma = new Float64Array(16);
  const edges = new Float64Array(32);
  for (let y = 0; y < FRAME_HEIGHT; y++) {
    const row = (y / 9) | 0;
    for (let x = 0; x < FRAME_WIDTH; x++) {
      const i = y * FRAME_WIDTH + x;
      const l = frame[i]!;
      const u = frame[PLANE + i]! - 128;
      const v = frame[2 * PLANE + i]! - 128;
      const cell = row * 4 + ((x / 16) | 0);
      add(layout, cell * 3, l - 128);
      add(layout, cell * 3 + 1, u);
      add(layout, cell * 3 + 2, v);
      add(luma, l >> 4, 1);
      const radius2 = u * u + v * v;
      if (radius2 < GREY_RADIUS * GREY_RADIUS) add(colour, 24 + (l >> 5), 1);
      else {
        const level = radius2 < MID_RADIUS * MID_RADIUS ? 0 : radius2 < HIGH_RADIUS * HIGH_RADIUS ? 1 : 2;
        add(colour, level * 8 + hueSector(u, v), 1);
      }
      if (x === 0 || x === FRAME_WIDTH - 1 || y === 0 || y === FRAME_HEIGHT - 1) continue;
      const gx = frame[i + 1]! - frame[i - 1]!;
      const gy = frame[i + FRAME_WIDTH]! - frame[i - FRAME_WIDTH]!;
      const weight = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
      if (weight < GRADIENT_FLOOR) continue;
      add(orientation, cell * 8 + orientationBin(gx, gy), weight);
      add(edges, row * 8 + ((x / 8) | 0), weight);
    }
  }
  for (const histogram of [orientation, colour, luma, edges]) hellingerCentred(histogram);
  const blocks = [layout, orientation, colour, luma, edges];
  const out = new Float64Array(FRAME_EMBEDDING_DIM);
  let at = 0;
  for (const [b, block] of blocks.entries()) {
    normalize(block);
    const weight = Math.sqrt(BLOCKS[b]!.share);
    for (let j = 0; j < block.length; j++) out[at++] = block[j]! * weight;
  }
  normalize(out);
  return Float32Array.from(out);
}
