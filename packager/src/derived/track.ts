import { type Tick, type Track, ticksFromSecondsNumber, ticksToSeconds } from '@dreamdb/engine';
import type { WriteItem, Writer } from '@dreamdb/engine/write';
import { MediaError } from '../errors.js';
import { probe } from '../ffmpeg/probe.js';
import { runFfmpeg } from '../ffmpeg/run.js';

/**
 * A track derived from an input (thumbnails, audio levels, captions, user events): its definition, less
 * the timeline it goes on, and its items. `items` can be iterated more than once (each pass does the work
 * again) and is produced lazily, so a long input is never held whole; a bad input throws from the
 * iteration, possibly after some items came out, so stage them with a Writer and publish only when the
 * iteration ends cleanly.
 */
export interface DerivedTrack {
  readonly track: Omit<Track, 'timeline'>;
  readonly items: AsyncIterable<WriteItem>;
}

/** Bucket span of derived event tracks: one minute of items per bucket object. */
export const DERIVED_BUCKET: Tick = 60_000_000_000n;

/** Ticks per second. */
export const NS = 1_000_000_000n;

/**
 * The input's zero as ingest takes it: its container's start time when that is positive (MPEG-TS starts
 * near 1.4 s), else 0. A media time t of the input sits at tick origin + (t − zero). Keep in step with
 * ingest/.
 */
export function inputZero(info: { readonly startTime?: number }): Tick {
  return info.startTime !== undefined && info.startTime > 0 ? ticksFromSecondsNumber(info.startTime) : 0n;
}

/** Where a stream's first frame or sample sits after the input's zero (0 when at or before it). */
export function streamStart(stream: { readonly startTime?: number }, zero: Tick): Tick {
  const start =
    stream.startTime !== undefined && stream.startTime > 0 ? ticksFromSecondsNumber(stream.startTime) : 0n;
  return start > zero ? start - zero : 0n;
}

/** Seconds between samples of a video (thumbnails, frame embeddings) as ticks: 0.01 s to one day. */
export function sampleInterval(everySeconds: number, what: string): Tick {
  if (!(Number.isFinite(everySeconds) && everySeconds >= 0.01 && everySeconds <= 86_400))
    throw new RangeError(`${what}: everySeconds ${everySeconds} is outside 0.01–86400`);
  return ticksFromSecondsNumber(everySeconds);
}

/** The first video stream of an input sampled every `every` ticks on the input's timeline. */
export interface FrameSampling {
  /**
   * The number of the first sample. Sample i (i = first, first + 1, …) goes at tick origin + i·every and
   * is the frame on screen i·every after the input's zero (inputZero): the latest frame at or before that
   * time. The first sample is of the interval in which the video starts, so it shows the first frame.
   */
  readonly first: bigint;
  /**
   * ffmpeg's arguments up to the output's codec: the input with its own timestamps, its first video stream
   * mapped, one frame per sample (then the caller's filters), frames passed through as they are.
   */
  readonly args: readonly string[];
}

/**
 * How thumbnails and frame embeddings sample a video: the frame on screen at each multiple of `every`
 * after the input's zero. `filters` (e.g. a scale) apply to the sampled frames. An input without a video
 * stream is a MediaError: it "has no video stream to <purpose>".
 */
export async function sampleFrames(
  input: string,
  every: Tick,
  filters: readonly string[],
  purpose: string,
): Promise<FrameSampling> {
  const info = await probe(input);
  const video = info.streams.find((s) => s.kind === 'video');
  if (!video) throw new MediaError(input, `has no video stream to ${purpose}`);
  // The first sample is of the interval in which the video starts (after the input's zero): it shows the
  // first frame, as fps pads the start with it.
  const zero = inputZero(info);
  const first = streamStart(video, zero) / every;
  const filter = [
    // The latest frame at or before each multiple of `every` (round=up), from first·every on.
    `fps=fps=1000000000/${every}:round=up:start_time=${ticksToSeconds(zero + first * every)}`,
    ...filters,
  ].join(',');
  return {
    first,
    args: [
      '-copyts', // the input's own timestamps: `zero` is at tick `origin`
      '-i',
      input,
      '-map',
      `0:${video.index}`,
      '-vf',
      filter,
      '-fps_mode',
      'passthrough',
    ],
  };
}

/** An AsyncIterable that runs `make` afresh on each iteration. */
export function reiterable<T>(make: () => AsyncGenerator<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: make };
}

/** Refuse an origin that is not a tick (a non-negative bigint). */
export function checkOrigin(origin: unknown, what: string): Tick {
  if (typeof origin !== 'bigint' || origin < 0n)
    throw new TypeError(`${what}: origin must be a non-negative bigint tick, not ${String(origin)}`);
  return origin;
}

/**
 * Run ffmpeg on `input` with `args` (input and output options; the output must be `pipe:3`) and yield
 * what it writes there as it comes (runFfmpeg with one output). A consumer that stops early kills
 * ffmpeg; a failure is a one-line MediaError naming the file and what was being made.
 */
export async function* ffmpegOutput(
  input: string,
  args: readonly string[],
  what: string,
): AsyncGenerator<Uint8Array> {
  const run = runFfmpeg(input, args, 1, what);
  let finished = false;
  try {
    for await (const chunk of run.outputs[0]!) yield chunk as Uint8Array;
    await run.done;
    finished = true;
  } catch (error) {
    throw run.failure() ?? error;
  } finally {
    // Stopped early (or failed while reading): ffmpeg must not go on running.
    if (!finished) run.kill();
  }
}

/** What writeDerived staged. */
export interface DerivedReport {
  readonly name: string;
  readonly count: number;
  /** First tick and end tick (exclusive: the latest tick + duration) of the items, absent when none. */
  readonly first?: Tick;
  readonly end?: Tick;
}

/** A derived track's items in arrays of at most `batch` (default 512), until `signal` aborts. */
export async function* derivedChunks(
  derived: DerivedTrack,
  options: { batch?: number; signal?: AbortSignal } = {},
): AsyncGenerator<WriteItem[]> {
  const batch = options.batch ?? 512;
  let pending: WriteItem[] = [];
  for await (const item of derived.items) {
    // Leaving the loop stops the item source (its ffmpeg is killed).
    options.signal?.throwIfAborted();
    pending.push(item);
    if (pending.length >= batch) {
      yield pending;
      pending = [];
    }
  }
  if (pending.length > 0) yield pending;
}

/**
 * Define a derived track on `timeline` and stage its items in batches of `batch` (until `signal`
 * aborts). Event tracks do not spill, so the items stay staged in the writer until publish (thumbnails of
 * a long video: a few MB).
 */
export async function writeDerived(
  writer: Writer,
  timeline: string,
  derived: DerivedTrack,
  options: { batch?: number; signal?: AbortSignal } = {},
): Promise<DerivedReport> {
  const name = derived.track.name;
  writer.track({ ...derived.track, timeline });
  let count = 0;
  let first: Tick | undefined;
  let end: Tick | undefined;
  for await (const items of derivedChunks(derived, options)) {
    for (const item of items) {
      if (first === undefined || item.tick < first) first = item.tick;
      const itemEnd = item.tick + (item.duration ?? 0n);
      if (end === undefined || itemEnd > end) end = itemEnd;
    }
    count += items.length;
    writer.write(timeline, name, items);
  }
  return { name, count, ...(first !== undefined && { first, end }) };
}
