import { multihashToHex, type Tick } from '@dreamdb/engine';
import type { Session } from '@dreamdb/engine/store';
import type { Published } from '@dreamdb/engine/write';
import { audioLevels } from '../derived/audio-level.js';
import { captions } from '../derived/captions.js';
import { userEvents } from '../derived/events.js';
import { frameEmbeddings } from '../derived/frame-embeddings.js';
import { thumbnails } from '../derived/thumbnails.js';
import { type DerivedTrack, derivedChunks } from '../derived/track.js';
import { MediaError } from '../errors.js';
import { planCmaf } from '../ffmpeg/plan.js';
import { type Probe, probe } from '../ffmpeg/probe.js';
import { type IngestBatch, publishIngest } from './publish.js';
import { renditionsBatch } from './renditions.js';
import { type CutResult, cutStreamTracks, type IngestedTrack } from './stream-tracks.js';

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

/**
 * Ingest a media file into a space: probe it, cut the first video stream and every audio stream into
 * CMAF in one ffmpeg run (remuxed when browsers play the codec, else transcoded to H.264/AAC, or encoded
 * as a ladder with keyframes aligned across rungs), write the fragments as items of stream tracks (their
 * bytes spilled to the store as they come) and publish one manifest. Every track keeps the input's
 * timing: the input's time zero is one tick (`origin`) on all of them. Nothing is published unless every
 * output went through; a failure leaves the ref as it was.
 */
export async function ingest(session: Session, input: string, options: IngestOptions): Promise<IngestReport> {
  const packaged = await packageInput(input, options);
  const { published, unchanged } = await publishIngest(session, packaged.batches, {
    timeline: options.timeline,
    source: input,
    ...(options.genesis !== undefined && { genesis: options.genesis }),
    ...(options.ref !== undefined && { ref: options.ref }),
    ...(options.requireNew && { requireNew: true }),
    ...(options.signal && { signal: options.signal }),
    message: options.message ?? `ingest ${input}`,
    onPublishing: () => options.onStage?.({ stage: 'publishing' }),
  });
  return {
    published,
    unchanged,
    tracks: packaged.tracks,
    origin: packaged.origin!,
    derived: packaged.derived,
  };
}

/** What packageInput takes of the ingest options: how to cut and what to derive (not where to publish). */
export type PackageOptions = Omit<IngestOptions, 'timeline' | 'ref' | 'requireNew' | 'message' | 'genesis'>;

/** An input ready to ingest: its batches (taken once), and what they held, complete once taken. */
export interface PackagedInput {
  /** The stream tracks' batches (a track with its CMAF header, then a batch per fragment), then the
   * derived tracks' (a batch per 512 items), then the RenditionPlaylist. Taking them runs ffmpeg. */
  readonly batches: AsyncIterable<IngestBatch>;
  readonly tracks: readonly IngestedTrack[];
  /** The tick at which the input's time zero sits; known after the first fragment of every track. */
  readonly origin: Tick | undefined;
  readonly derived: readonly { readonly name: string; readonly count: number }[];
}

/**
 * Probe an input and plan its ffmpeg run (bad input and bad options are refused here, before anything
 * runs), and give the batches an ingest publishes: the stream tracks cut into CMAF fragments in one ffmpeg
 * run (see ingest), then the derived tracks asked for, then the RenditionPlaylist. `publishIngest` takes
 * them all at once (what `ingest` does) or one at a time (one version per fragment, as a live recording
 * would publish).
 */
export async function packageInput(input: string, options: PackageOptions): Promise<PackagedInput> {
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
  const { signal } = options;
  const cut: CutResult = { tracks: [] };
  const derived: { name: string; count: number }[] = [];
  async function* batches(): AsyncGenerator<IngestBatch> {
    yield* cutStreamTracks(input, info, plan, cut, {
      ...(signal && { signal }),
      ...(options.onProgress && { onProgress: options.onProgress }),
    });
    for (const track of derivedTracks(input, info, cut.origin!, options)) {
      options.onStage?.({ stage: 'deriving', track: track.track.name });
      const name = track.track.name;
      let count = 0;
      yield { tracks: [{ track: track.track }] };
      for await (const items of derivedChunks(track, { ...(signal && { signal }) })) {
        count += items.length;
        yield { items: [{ track: name, items }] };
      }
      derived.push({ name, count });
    }
    yield renditionsBatch(cut.tracks, input);
  }
  return {
    batches: batches(),
    tracks: cut.tracks,
    get origin() {
      return cut.origin;
    },
    derived,
  };
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
function derivedTracks(
  input: string,
  info: Probe,
  origin: Tick,
  options: Pick<IngestOptions, 'thumbnails' | 'embeddings' | 'audioLevels' | 'captions' | 'events'>,
): DerivedTrack[] {
  const out: DerivedTrack[] = [];
  const has = (kind: 'video' | 'audio') => info.streams.some((s) => s.kind === kind);
  if (options.thumbnails && has('video')) out.push(thumbnails(input, { origin, ...options.thumbnails }));
  if (options.embeddings && has('video')) out.push(frameEmbeddings(input, { origin, ...options.embeddings }));
  if (options.audioLevels && has('audio')) out.push(audioLevels(input, { origin }));
  if (options.captions) out.push(captions(options.captions, { origin }));
  if (options.events) out.push(userEvents(options.events, { origin }));
  return out;
}
