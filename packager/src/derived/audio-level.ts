import { ticksToSeconds } from '@dreamdb/engine';
import type { WriteItem } from '@dreamdb/engine/write';
import { MediaError } from '../errors.js';
import { probe } from '../ffmpeg/probe.js';
import {
  checkOrigin,
  DERIVED_BUCKET,
  type DerivedTrack,
  ffmpegOutput,
  inputZero,
  NS,
  reiterable,
  streamStart,
} from './track.js';

export interface AudioLevelOptions {
  /** The tick of the input's zero (IngestReport.origin; see inputZero). */
  readonly origin: bigint;
  /** Window length in whole milliseconds (default 100). */
  readonly windowMs?: number;
  /** Rate the audio is resampled to before measuring (default 8000 Hz); a window must be whole samples. */
  readonly sampleRate?: number;
  /** Track name (default "audio-level"). */
  readonly name?: string;
}

/** The payload of an audio-level item: linear full-scale levels, 0..1, rounded to 3 decimals. */
export interface AudioLevel {
  readonly peak: number;
  readonly rms: number;
}

/**
 * The level of the first audio stream of `input` per window: peak and RMS of the mono mix, as items of an
 * event track 'audio-level' (sensor.audio-level). Window k covers ticks origin + [k·window, (k+1)·window),
 * media times from the input's zero (inputZero) on, whatever the stream's start: the first window holding
 * audio is padded with silence before it, and so are gaps. The last window may be shorter. ffmpeg decodes
 * to 16-bit mono PCM on a pipe and the windows are measured as the samples arrive: memory holds one chunk.
 */
export function audioLevels(input: string, options: AudioLevelOptions): DerivedTrack {
  const origin = checkOrigin(options.origin, 'audioLevels');
  const windowMs = options.windowMs ?? 100;
  const sampleRate = options.sampleRate ?? 8000;
  if (!(Number.isInteger(windowMs) && windowMs >= 1 && windowMs <= 60_000))
    throw new RangeError(
      `audioLevels: windowMs ${windowMs} is not a whole number of milliseconds in 1–60000`,
    );
  if (!(Number.isInteger(sampleRate) && sampleRate >= 1000 && sampleRate <= 192_000))
    throw new RangeError(`audioLevels: sampleRate ${sampleRate} is outside 1000–192000 Hz`);
  if ((sampleRate * windowMs) % 1000 !== 0)
    throw new RangeError(
      `audioLevels: a ${windowMs} ms window is not a whole number of samples at ${sampleRate} Hz`,
    );
  const samplesPerWindow = (sampleRate * windowMs) / 1000;
  const window = BigInt(windowMs) * 1_000_000n;
  const name = options.name ?? 'audio-level';

  async function* items(): AsyncGenerator<WriteItem> {
    const info = await probe(input);
    const audio = info.streams.find((s) => s.kind === 'audio');
    if (!audio) throw new MediaError(input, 'has no audio stream to measure');
    // Measuring starts at the window holding the stream's first sample; the PCM is shifted so that this
    // window's start is its time 0, padded with silence before the first sample (and in any gap).
    const zero = inputZero(info);
    const first = streamStart(audio, zero) / window;
    const pcm = ffmpegOutput(
      input,
      [
        '-copyts', // the input's own timestamps: `zero` is at tick `origin`
        '-i',
        input,
        '-map',
        `0:${audio.index}`,
        '-af',
        `asetpts=PTS-${ticksToSeconds(zero + first * window)}/TB,aresample=${sampleRate}:async=1:first_pts=0`,
        '-ac',
        '1',
        '-c:a',
        'pcm_s16le',
        '-f',
        's16le',
        'pipe:3',
      ],
      'audio levels',
    );
    for await (const level of levelWindows(pcm, samplesPerWindow)) {
      const tick = origin + (first + BigInt(level.index)) * window;
      const duration =
        level.samples === samplesPerWindow ? window : (BigInt(level.samples) * NS) / BigInt(sampleRate);
      if (duration === 0n) continue;
      yield { tick, duration, payload: { peak: level.peak, rms: level.rms } satisfies AudioLevel };
    }
  }

  return {
    track: {
      name,
      kind: 'event',
      modality: 'sensor.audio-level',
      bucketDuration: DERIVED_BUCKET,
      attrs: { window_ms: windowMs, sample_rate: sampleRate, channels: 1, scale: 'linear' },
    },
    items: reiterable(items),
  };
}

/** One measured window: its number from 0, its length in samples, and its levels. */
export interface LevelWindow extends AudioLevel {
  readonly index: number;
  readonly samples: number;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * Peak and RMS per window of `samplesPerWindow` samples of signed 16-bit little-endian mono PCM, as the
 * bytes arrive (chunks may split a sample). The last window, if partial, is measured over what it has.
 */
export async function* levelWindows(
  chunks: AsyncIterable<Uint8Array>,
  samplesPerWindow: number,
): AsyncGenerator<LevelWindow> {
  let index = 0;
  let count = 0;
  let peak = 0;
  let sumSquares = 0;
  let carry: number | undefined; // the low byte of a sample split across chunks
  const emit = (): LevelWindow => {
    const window = {
      index,
      samples: count,
      peak: round3(Math.min(1, peak / 32768)),
      rms: round3(Math.sqrt(sumSquares / count) / 32768),
    };
    index++;
    count = 0;
    peak = 0;
    sumSquares = 0;
    return window;
  };
  for await (const chunk of chunks) {
    let i = 0;
    const windows: LevelWindow[] = [];
    const take = (sample: number) => {
      const magnitude = sample < 0 ? -sample : sample;
      if (magnitude > peak) peak = magnitude;
      sumSquares += sample * sample;
      if (++count === samplesPerWindow) windows.push(emit());
    };
    if (carry !== undefined && chunk.length > 0) {
      take(((chunk[0]! << 24) | (carry << 16)) >> 16);
      carry = undefined;
      i = 1;
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (; i + 1 < chunk.length; i += 2) take(view.getInt16(i, true));
    if (i < chunk.length) carry = chunk[i]!;
    yield* windows;
  }
  if (count > 0) yield emit();
}
