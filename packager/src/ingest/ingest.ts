import {
  EngineError,
  type Multihash,
  multihashToHex,
  type Published,
  publish,
  rate,
  read,
  type Session,
  spill,
  type Tick,
  type Track,
  ticksToUnits,
  unitsToTicks,
  Writer,
} from '@dreamdb/engine';
import { cmafEvents, EventQueue } from '../cmaf/fragmenter.js';
import { type InitInfo, shiftDecodeTime } from '../cmaf/parse.js';
import { audioLevels } from '../derived/audio-level.js';
import { captions } from '../derived/captions.js';
import { userEvents } from '../derived/events.js';
import { frameEmbeddings } from '../derived/frame-embeddings.js';
import { thumbnails } from '../derived/thumbnails.js';
import { type DerivedTrack, inputZero, writeDerived } from '../derived/track.js';
import { MediaError } from '../errors.js';
import { type OutputPlan, planCmaf } from '../ffmpeg/plan.js';
import { type MediaStream, type Probe, probe } from '../ffmpeg/probe.js';
import { runFfmpeg } from '../ffmpeg/run.js';

export interface IngestOptions {
  readonly timeline: string;
  /** Unix ns of tick 0, for wall-clock times (EXT-X-PROGRAM-DATE-TIME); omitted: a relative timeline. */
  readonly genesis?: bigint;
  /** Target fragment duration in seconds (1–30, default 2). */
  readonly fragmentSeconds?: number;
  /** Re-encode every stream even when it is already browser-playable. */
  readonly transcode?: boolean;
  /** Refuse (rather than transcode) an input whose codecs browsers do not play. */
  readonly remuxOnly?: boolean;
  /** Encode the video as a ladder of these heights (e.g. 1080, 720, 480, 360), keyframes aligned. */
  readonly ladder?: readonly number[];
  /** The ref to publish to (default main). */
  readonly ref?: string;
  /** Derived tracks: thumbnails every N seconds (scrubbing previews), from one more decode of the video. */
  readonly thumbnails?: { readonly everySeconds?: number; readonly width?: number };
  /**
   * Derived track: a 256-dimensional descriptor of the frame on screen every N seconds (default 1), for
   * "more like this frame" searches (`frame-embeddings`, vector.f32;dim=256), from one more decode.
   */
  readonly embeddings?: { readonly everySeconds?: number };
  /** Derived track: audio peak and RMS per 100 ms (a waveform), from one more decode of the audio. */
  readonly audioLevels?: boolean;
  /** A WebVTT or SRT file: its cues become the `captions` track. */
  readonly captions?: string;
  /** A JSONL or CSV file of user events (tick or seconds, duration, label, any fields): the `events` track. */
  readonly events?: string;
  /**
   * Container formats accepted (ffmpeg demuxer names, e.g. mov, matroska, mpegts); any when omitted. An
   * input from someone else (an upload) is limited to recordings: playlists (hls, concat) open other files.
   */
  readonly formats?: readonly string[];
  /** Abandons the ingest when aborted: ffmpeg is stopped and nothing is published. */
  readonly signal?: AbortSignal;
  /** Refuse (E_CONFLICT) when the ref's version already has the timeline. */
  readonly requireNew?: boolean;
  /** The published manifest's message (default "ingest <input>"). */
  readonly message?: string;
  /** Called as the ingest moves on after the cut: before each derived track, and before publishing. */
  readonly onStage?: (
    stage: { readonly stage: 'deriving'; readonly track: string } | { readonly stage: 'publishing' },
  ) => void;
  /** Called after each fragment with the media time reached (seconds) and the input's duration. */
  readonly onProgress?: (progress: { seconds: number; duration?: number; fragments: number }) => void;
}

/** One track an ingest wrote. */
export interface IngestedTrack {
  readonly name: string;
  readonly stream: number;
  readonly codec: string;
  readonly modality: string;
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

export interface IngestReport {
  readonly published: Published;
  /** The input was already there, byte for byte: nothing was published (`published` is the current version). */
  readonly unchanged: boolean;
  readonly tracks: readonly IngestedTrack[];
  /** The tick at which the input's time zero sits (room left for audio priming and B-frame delay). */
  readonly origin: Tick;
  /** Derived tracks written (thumbnails, frame embeddings, audio levels, captions, events) and their item counts. */
  readonly derived: readonly { readonly name: string; readonly count: number }[];
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

/** Staged fragment bytes per track before they are packed into a bucket and uploaded. */
export const SPILL_BYTES = 16 * 1024 * 1024;
/** ffmpeg's AAC encoder primes each stream with one frame of 1024 samples. */
const AAC_PRIMING = 1024n;

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
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

/**
 * Ingest a media file into a space: probe it, cut the first video stream and every audio stream into
 * CMAF in one ffmpeg run (remuxed when browsers play the codec, else transcoded to H.264/AAC, or encoded
 * as a ladder with keyframes aligned across rungs), write the fragments as items of stream tracks (their
 * bytes spilled to the store as they come) and publish one manifest. Every track keeps the input's
 * timing: the input's time zero is one tick (`origin`) on all of them. Nothing is published unless every
 * output went through; a failure leaves the ref as it was.
 */
export async function ingest(session: Session, input: string, options: IngestOptions): Promise<IngestReport> {
  const fragmentSeconds = options.fragmentSeconds ?? 2;
  if (!(fragmentSeconds >= 1 && fragmentSeconds <= 30))
    throw new MediaError(input, `fragment duration ${fragmentSeconds} s is outside 1–30 s`);
  const info = await probe(input, options.formats ? { formats: options.formats } : {});
  const plan = planCmaf(input, info.streams, { ...options, fragmentSeconds });
  const encoded = plan.outputs.filter((o) => !o.copy);
  if (options.remuxOnly && encoded.length > 0) {
    const codecs = encoded.map((o) => `${o.source.codec} (stream ${o.source.index})`).join(', ');
    throw new MediaError(input, `cannot remux ${codecs}: browsers do not play it; transcode instead`);
  }
  // Times are taken from the container's start (MPEG-TS starts near 1.4 s; MP4 at 0).
  const zero = inputZero(info);
  const firsts = new Map<MediaStream, { dts: bigint; pts: bigint }>(
    plan.outputs.map((o) => [
      o.source,
      { dts: (o.source.firstDts ?? 0n) - zero, pts: (o.source.firstPts ?? 0n) - zero },
    ]),
  );
  const ref = options.ref ?? 'main';
  const base = await session.resolve(ref);
  const writer = new Writer(base);
  const timelineIsNew = !base?.manifest.timelines.some((t) => t.name === options.timeline);
  if (options.requireNew && !timelineIsNew)
    throw new EngineError('E_CONFLICT', `timeline ${options.timeline} already exists in ${ref}`);
  if (timelineIsNew) {
    writer.timeline({
      name: options.timeline,
      ...(options.genesis !== undefined && { genesis: options.genesis }),
    });
  }

  const { signal } = options;
  signal?.throwIfAborted();
  const run = runFfmpeg(input, plan.args, plan.outputs.length);
  const stop = () => run.kill();
  signal?.addEventListener('abort', stop, { once: true });
  const queues = run.outputs.map((output) => new EventQueue(cmafEvents(output, input)));
  const barrier = new OriginBarrier(plan.outputs.length);
  let fragments = 0;
  let unchanged = 0;
  let reached = 0;
  const ingestOutput = async (out: OutputPlan, i: number): Promise<IngestedTrack> => {
    const existing = base?.manifest.tracks.find(
      (t) => t.timeline === options.timeline && t.name === out.track,
    );
    let init: InitInfo | undefined;
    let initHash: Multihash | undefined;
    let start: bigint | undefined;
    let shift = 0n;
    let origin = 0n;
    let first: Tick | undefined;
    let next: Tick | undefined;
    let count = 0;
    let bytes = 0;
    let peak = 0;
    for await (const event of queues[i]!) {
      if (event.kind === 'init') {
        init = event.info;
        initHash = await session.store.putObject(event.bytes);
        if (existing?.init && multihashToHex(existing.init) !== multihashToHex(initHash)) {
          throw new MediaError(
            input,
            `track ${options.timeline}/${out.track} already holds media with another CMAF header (codec or size); ingest into another timeline`,
          );
        }
        writer.track(trackOf(options.timeline, out, init, initHash));
        continue;
      }
      const f = event.info;
      if (!init) throw new MediaError(input, `${out.track}: a fragment came before the CMAF header`);
      if (!f.startsWithSync)
        throw new MediaError(input, `${out.track}: a fragment does not start at a sync sample`);
      const r = rate(init.timescale);
      if (start === undefined) {
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
        start = origin + offset;
        shift = ticksToUnits(start, r);
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
      if (existing?.index && tick <= existing.index.last) {
        // Already stored (a re-ingest of the same file): the same bytes are skipped, other bytes refused.
        const stored = await read(session, base!, { timeline: options.timeline, track: out.track, tick });
        if (stored?.tick !== tick || !sameBytes(stored.bytes, event.bytes)) {
          throw new MediaError(
            input,
            `track ${options.timeline}/${out.track} already holds other media at tick ${tick}; ingest into another timeline`,
          );
        }
        unchanged++;
      } else {
        writer.write(options.timeline, out.track, [{ tick, duration: end - tick, payload: event.bytes }]);
        // Fragments go to the store in buckets of SPILL_BYTES as they come: memory stays bounded.
        if (writer.stagedBytes(options.timeline, out.track) >= SPILL_BYTES)
          await spill(session, writer, options.timeline, out.track, { wait: false });
      }
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
    return {
      name: out.track,
      stream: out.source.index,
      codec: init.codec,
      modality: modalityOf(init.codec),
      init: initHash!,
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
  };
  let tracks: IngestedTrack[];
  try {
    tracks = await Promise.all(
      plan.outputs.map((out, i) =>
        ingestOutput(out, i).catch((error: unknown) => {
          barrier.fail(error);
          throw error;
        }),
      ),
    );
    await run.done;
  } catch (error) {
    signal?.throwIfAborted(); // stopped on purpose: the abort, not ffmpeg's end, is the reason
    // ffmpeg's own failure explains the others (closed pipes, missing fragments) best.
    await Promise.race([run.done.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 500))]);
    run.kill();
    throw run.failure() ?? error;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  const origin = await barrier.origin;
  const wanted = derivedTracks(input, info, origin, options);
  if (base && unchanged === fragments && !timelineIsNew && wanted.length === 0) {
    // Everything was already there, byte for byte: nothing to publish.
    return {
      published: { ...base, objectsWritten: 0, bytesWritten: 0 },
      tracks,
      origin,
      unchanged: true,
      derived: [],
    };
  }
  const derived: { name: string; count: number }[] = [];
  for (const track of wanted) {
    options.onStage?.({ stage: 'deriving', track: track.track.name });
    const written = await writeDerived(writer, options.timeline, track, { ...(signal && { signal }) });
    derived.push({ name: written.name, count: written.count });
  }
  writeRenditions(writer, options.timeline, tracks, input);
  signal?.throwIfAborted();
  options.onStage?.({ stage: 'publishing' });
  const published = await publish(session, writer, { ref, message: options.message ?? `ingest ${input}` });
  return { published, tracks, origin, unchanged: false, derived };
}

/**
 * An ingest report as JSON (hashes in hex, ticks as decimal strings): what `dreamdb ingest --json` prints
 * and what the upload route answers.
 */
export function reportJson(report: IngestReport) {
  return {
    manifest: multihashToHex(report.published.hash),
    ref: report.published.ref?.name,
    origin: report.origin.toString(),
    unchanged: report.unchanged,
    objects: report.published.objectsWritten,
    bytes: report.published.bytesWritten,
    derived: report.derived,
    tracks: report.tracks.map((t) => ({
      name: t.name,
      modality: t.modality,
      codecs: t.codec,
      remuxed: t.remuxed,
      fragments: t.fragments,
      first: t.first.toString(),
      end: t.end.toString(),
      init: multihashToHex(t.init),
    })),
  };
}

/** The derived tracks an ingest asked for (each runs its own pass over its input when written). */
function derivedTracks(input: string, info: Probe, origin: Tick, options: IngestOptions): DerivedTrack[] {
  const out: DerivedTrack[] = [];
  const has = (kind: 'video' | 'audio') => info.streams.some((s) => s.kind === kind);
  if (options.thumbnails && has('video')) out.push(thumbnails(input, { origin, ...options.thumbnails }));
  if (options.embeddings && has('video')) out.push(frameEmbeddings(input, { origin, ...options.embeddings }));
  if (options.audioLevels && has('audio')) out.push(audioLevels(input, { origin }));
  if (options.captions) out.push(captions(options.captions, { origin }));
  if (options.events) out.push(userEvents(options.events, { origin }));
  return out;
}

/** The stream track an output becomes. */
function trackOf(timeline: string, out: OutputPlan, init: InitInfo, initHash: Multihash): Track {
  return {
    timeline,
    name: out.track,
    kind: 'stream',
    modality: modalityOf(init.codec),
    rate: rate(init.timescale),
    codecs: init.codec,
    init: initHash,
    attrs: {
      ...(init.width !== undefined && { width: init.width, height: init.height }),
      ...(out.source.frameRate !== undefined && out.kind === 'video' && { frame_rate: out.source.frameRate }),
      ...(init.sampleRate !== undefined && { sample_rate: init.sampleRate, channels: init.channels }),
      ...(out.bitrate !== undefined && { bandwidth: out.bitrate }),
      source_stream: out.source.index,
    },
  };
}

/** The constant track that holds a timeline's RenditionPlaylist (spec 0014 path B). */
export const RENDITIONS_TRACK = 'renditions';

/**
 * Write the RenditionPlaylist: the ingested stream tracks grouped into switching sets (every video rung
 * of the source in one, each audio stream in its own), with what a player needs to choose among them
 * (codecs, measured bandwidth, resolution, frame rate, sample rate). It is a constant item at tick 0 of
 * the `renditions` track, so it is versioned with the tracks it describes.
 */
function writeRenditions(
  writer: Writer,
  timeline: string,
  tracks: readonly IngestedTrack[],
  input: string,
): void {
  const entry = (t: IngestedTrack) => ({
    track: t.name,
    codecs: t.codec,
    bandwidth: t.peakBandwidth,
    average_bandwidth: t.averageBandwidth,
    ...(t.width !== undefined && { width: t.width, height: t.height }),
    ...(t.frameRate !== undefined && { frame_rate: t.frameRate }),
    ...(t.sampleRate !== undefined && { sample_rate: t.sampleRate, channels: t.channels }),
  });
  const video = tracks.filter((t) => t.modality.startsWith('video.'));
  const audio = tracks.filter((t) => t.modality.startsWith('audio.'));
  const playlist = {
    v: 0,
    source: input.split('/').at(-1)!,
    sets: [
      ...(video.length > 0 ? [{ kind: 'video', tracks: video.map(entry) }] : []),
      ...audio.map((t) => ({ kind: 'audio', tracks: [entry(t)] })),
    ],
  };
  if (!writer.allTracks().some((t) => t.timeline === timeline && t.name === RENDITIONS_TRACK)) {
    writer.track({ timeline, name: RENDITIONS_TRACK, kind: 'constant', modality: 'meta.renditions' });
  }
  writer.write(timeline, RENDITIONS_TRACK, [{ tick: 0n, layer: 'ingest', payload: playlist }]);
}
