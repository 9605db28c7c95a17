import {
  hashBytes,
  type Multihash,
  rate,
  type Tick,
  type Track,
  ticksToUnits,
  unitsToTicks,
} from '@dreamdb/engine';
import { Repeater } from '@repeaterjs/repeater';
import { type CmafEvent, cmafEvents, EventQueue } from '../cmaf/fragmenter.js';
import { type InitInfo, shiftDecodeTime } from '../cmaf/parse.js';
import { inputZero } from '../derived/track.js';
import { MediaError } from '../errors.js';
import type { OutputPlan, Plan } from '../ffmpeg/plan.js';
import type { MediaStream, Probe } from '../ffmpeg/probe.js';
import { runFfmpeg } from '../ffmpeg/run.js';
import type { IngestBatch } from './publish.js';

/** One stream track an ingest cut: what the CMAF header and the fragments said. */
export interface IngestedTrack {
  readonly name: string;
  readonly stream: number;
  readonly codec: string;
  readonly modality: string;
  /** The hash of the CMAF header, which the track's `init` names. */
  readonly init: Multihash;
  readonly fragments: number;
  /** First tick and end tick (exclusive) of the track's fragments. */
  readonly first: Tick;
  readonly end: Tick;
  readonly remuxed: boolean;
  /** Ladder rungs: height and target bit rate. */
  readonly height?: number;
  readonly bitrate?: number;
  /** Measured bits per second: the peak over fragments (HLS BANDWIDTH) and the average. */
  readonly peakBandwidth: number;
  readonly averageBandwidth: number;
  readonly width?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  readonly frameRate?: string;
}

/** What cutting a planned ffmpeg run into stream tracks reports as it goes. */
export interface CutOptions {
  /** Stops ffmpeg when aborted; the iteration then throws the abort's reason. */
  readonly signal?: AbortSignal;
  /** Called after each fragment of the first output is taken, with the media time reached (seconds). */
  readonly onProgress?: (progress: { seconds: number; duration?: number; fragments: number }) => void;
}

/** The stream tracks and the origin a cut found, complete once its batches have all been taken. */
export interface CutResult {
  readonly tracks: IngestedTrack[];
  /** The tick at which the input's time zero sits on every track. */
  origin?: Tick;
}

/** A DreamDB modality for an RFC 6381 codecs string. */
export function modalityOf(codec: string): string {
  const family = codec.split('.')[0]!;
  const known: Record<string, string> = {
    avc1: 'video.h264',
    avc3: 'video.h264',
    hvc1: 'video.h265',
    hev1: 'video.h265',
    vp09: 'video.vp9',
    av01: 'video.av1',
    opus: 'audio.opus',
    Opus: 'audio.opus',
    fLaC: 'audio.flac',
  };
  if (family === 'mp4a') return codec === 'mp4a.6B' || codec === 'mp4a.69' ? 'audio.mp3' : 'audio.aac';
  const found = known[family];
  if (!found) throw new Error(`no modality for codec ${codec}`);
  return found;
}

/** ffmpeg's AAC encoder primes each stream with one frame of 1024 samples. */
const AAC_PRIMING = 1024n;

/** The least whole millisecond, in ticks, at or after `ticks`. */
const ceilMs = (ticks: bigint) => ((ticks + 999_999n) / 1_000_000n) * 1_000_000n;

/**
 * Waits until every output knows where its first fragment sits relative to the input's zero, then
 * gives all of them the same origin: the least whole millisecond that keeps every tick at or above 0.
 */
class OriginBarrier {
  private readonly offsets: (bigint | undefined)[];
  private settle!: { resolve: (origin: bigint) => void; reject: (error: unknown) => void };
  readonly origin: Promise<bigint>;

  constructor(count: number) {
    this.offsets = new Array(count).fill(undefined);
    this.origin = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.origin.catch(() => {});
  }

  post(i: number, offset: bigint): Promise<bigint> {
    this.offsets[i] = offset;
    if (this.offsets.every((o) => o !== undefined)) {
      const lead = this.offsets.reduce<bigint>((m, o) => (o! < 0n && -o! > m ? -o! : m), 0n);
      this.settle.resolve(ceilMs(lead));
    }
    return this.origin;
  }

  fail(error: unknown): void {
    this.settle.reject(error);
  }
}

/** The stream track an output becomes, less its timeline and init (the header's hash, set when stored). */
function streamTrack(out: OutputPlan, init: InitInfo): Omit<Track, 'timeline' | 'init'> {
  return {
    name: out.track,
    kind: 'stream',
    modality: modalityOf(init.codec),
    rate: rate(init.timescale),
    codecs: init.codec,
    attrs: {
      ...(init.width !== undefined && { width: init.width, height: init.height }),
      ...(out.source.frameRate !== undefined && out.kind === 'video' && { frame_rate: out.source.frameRate }),
      ...(init.sampleRate !== undefined && { sample_rate: init.sampleRate, channels: init.channels }),
      ...(out.bitrate !== undefined && { bandwidth: out.bitrate }),
      source_stream: out.source.index,
    },
  };
}

/**
 * Run the plan's ffmpeg and cut its outputs into stream-track batches: for each output, its track with
 * the CMAF header, then one batch per fragment, timed on one clock (media time 0 is tick 0 on every
 * track; the input's zero at tick `origin`). Outputs are read side by side (ffmpeg writes them all at
 * once); `result` fills in as the batches are taken. Stopping early, or a failure, stops ffmpeg; its own
 * failure is the error thrown when it has one.
 */
export async function* cutStreamTracks(
  input: string,
  info: Probe,
  plan: Plan,
  result: CutResult,
  options: CutOptions = {},
): AsyncGenerator<IngestBatch> {
  const { signal } = options;
  // Times are taken from the container's start (MPEG-TS starts near 1.4 s; MP4 at 0).
  const zero = inputZero(info);
  const firsts = new Map<MediaStream, { dts: bigint; pts: bigint }>(
    plan.outputs.map((o) => [
      o.source,
      { dts: (o.source.firstDts ?? 0n) - zero, pts: (o.source.firstPts ?? 0n) - zero },
    ]),
  );
  signal?.throwIfAborted();
  const run = runFfmpeg(input, plan.args, plan.outputs.length);
  const stop = () => run.kill();
  signal?.addEventListener('abort', stop, { once: true });
  const queues = run.outputs.map((output) => new EventQueue(cmafEvents(output, input)));
  const barrier = new OriginBarrier(plan.outputs.length);
  let fragments = 0;
  let reached = 0;
  const tracks: (IngestedTrack | undefined)[] = plan.outputs.map(() => undefined);

  async function* cutOutput(out: OutputPlan, i: number, events: AsyncIterable<CmafEvent>) {
    let init: InitInfo | undefined;
    let header: Uint8Array | undefined;
    let shift = 0n;
    let origin: bigint | undefined;
    let first: Tick | undefined;
    let next: Tick | undefined;
    let count = 0;
    let bytes = 0;
    let peak = 0;
    for await (const event of events) {
      if (event.kind === 'init') {
        init = event.info;
        header = event.bytes;
        yield { tracks: [{ track: streamTrack(out, init), header }] } satisfies IngestBatch;
        continue;
      }
      const f = event.info;
      if (!init) throw new MediaError(input, `${out.track}: a fragment came before the CMAF header`);
      if (!f.startsWithSync)
        throw new MediaError(input, `${out.track}: a fragment does not start at a sync sample`);
      const r = rate(init.timescale);
      if (origin === undefined) {
        // Where this output's media time 0 sits relative to the input's zero: a copy keeps the source's
        // first decode time; an encode presents its first frame (or its first sample after priming)
        // where the source presented its own.
        const source = firsts.get(out.source)!;
        const offset = out.copy
          ? source.dts
          : source.pts -
            unitsToTicks(out.kind === 'audio' ? AAC_PRIMING : BigInt(f.firstCompositionOffset), r);
        origin = await barrier.post(i, offset);
        for (const q of queues) q.bound();
        shift = ticksToUnits(origin + offset, r);
      }
      // The tfdt goes on the timeline's clock (media time 0 is tick 0 on every track): tracks whose own
      // media time starts elsewhere (AAC priming, B-frame delay) then line up in any player, hls.js too.
      shiftDecodeTime(event.bytes, shift);
      const decode = BigInt(f.baseMediaDecodeTime) + shift;
      const tick = unitsToTicks(decode, r);
      const end = unitsToTicks(decode + BigInt(f.duration), r);
      if (next !== undefined && tick !== next)
        throw new MediaError(input, `${out.track}: fragment at tick ${tick} does not follow ${next}`);
      first ??= tick;
      next = end;
      count++;
      fragments++;
      bytes += event.bytes.length;
      // A short last fragment says little about the peak; count it only when it is the only one.
      if (end - tick >= 500_000_000n || count === 1)
        peak = Math.max(peak, (event.bytes.length * 8e9) / Number(end - tick));
      yield {
        items: [{ track: out.track, items: [{ tick, duration: end - tick, payload: event.bytes }] }],
      } satisfies IngestBatch;
      // Seconds of the input reached: from its zero, which is at tick `origin` on every track.
      const seconds = Number(end - origin) / 1e9;
      if (out.kind === plan.outputs[0]!.kind && seconds > reached) {
        reached = seconds;
        options.onProgress?.({
          seconds,
          ...(info.duration !== undefined && { duration: info.duration }),
          fragments,
        });
      }
    }
    if (!init || count === 0) throw new MediaError(input, `${out.track}: ffmpeg gave no fragments`);
    tracks[i] = {
      name: out.track,
      stream: out.source.index,
      codec: init.codec,
      modality: modalityOf(init.codec),
      init: hashBytes(header!),
      fragments: count,
      first: first!,
      end: next!,
      remuxed: out.copy,
      ...(out.height !== undefined && { height: out.height, bitrate: out.bitrate }),
      peakBandwidth: Math.ceil(peak),
      averageBandwidth: Math.ceil((bytes * 8e9) / Number(next! - first!)),
      ...(init.width !== undefined && { width: init.width, height: init.height }),
      ...(init.sampleRate !== undefined && { sampleRate: init.sampleRate, channels: init.channels }),
      ...(out.kind === 'video' && out.source.frameRate !== undefined && { frameRate: out.source.frameRate }),
    };
  }

  const merged = Repeater.merge(
    plan.outputs.map(async function* (out, i) {
      try {
        yield* cutOutput(out, i, queues[i]!);
      } catch (error) {
        // The barrier fails with the first output that fails, so no other waits on it for ever.
        barrier.fail(error);
        throw error;
      }
    }),
  )[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const step = await merged.next();
      if (step.done) break;
      yield step.value as IngestBatch;
    }
    await run.done;
    finished = true;
  } catch (error) {
    signal?.throwIfAborted(); // stopped on purpose: the abort, not ffmpeg's end, is the reason
    // ffmpeg's own failure explains the others (closed pipes, missing fragments) best.
    await Promise.race([run.done.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 500))]);
    run.kill();
    throw run.failure() ?? error;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!finished) {
      // Stopped early: ffmpeg is killed first, so a reader waiting on a pipe sees it end, and the barrier
      // fails, so an output waiting on the others' first fragments (which will not come) stops too.
      run.kill();
      barrier.fail(new MediaError(input, 'the cut was stopped'));
    }
    await merged.return?.().catch(() => {});
  }
  result.tracks.push(...(tracks as IngestedTrack[]));
  result.origin = await barrier.origin;
}
