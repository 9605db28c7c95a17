import {
  type Multihash,
  multihashToHex,
  type Published,
  publish,
  rate,
  read,
  type Session,
  spill,
  type Tick,
  unitsToTicks,
  Writer,
} from '@dreamdb/engine';
import type { InitInfo } from './cmaf.js';
import { MediaError } from './errors.js';
import { cmafTrack, remuxes } from './fragmenter.js';
import { firstDecodeTime, type MediaStream, probe } from './probe.js';

export interface IngestOptions {
  readonly timeline: string;
  /** Unix ns of tick 0, for wall-clock times (EXT-X-PROGRAM-DATE-TIME); omitted: a relative timeline. */
  readonly genesis?: bigint;
  /** Target fragment duration in seconds (1–30, default 2). */
  readonly fragmentSeconds?: number;
  /** Re-encode every stream even when it is already browser-playable. */
  readonly transcode?: boolean;
  /** The ref to publish to (default main). */
  readonly ref?: string;
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
}

export interface IngestReport {
  readonly published: Published;
  /** The input was already there, byte for byte: nothing was published (`published` is the current version). */
  readonly unchanged: boolean;
  readonly tracks: readonly IngestedTrack[];
  /** The tick at which the input's time zero sits (room left for audio priming and B-frame delay). */
  readonly origin: Tick;
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

const NS = 1_000_000_000n;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
/** Staged fragment bytes per track before they are packed into a bucket and uploaded. */
export const SPILL_BYTES = 16 * 1024 * 1024;

/** The least whole millisecond, in ticks, at or after `ticks`. */
const ceilMs = (ticks: bigint) => ((ticks + 999_999n) / 1_000_000n) * 1_000_000n;

/**
 * Ingest a media file into a space: probe it, cut each audio and video stream into CMAF (remuxed when the
 * codec plays in browsers, else transcoded to H.264/AAC), write the fragments as items of stream tracks
 * and publish one manifest. Every track keeps the input's timing: the input's time zero is one tick
 * (`origin`) on all of them, so audio and video line up. Nothing is published unless every stream went
 * through; a failure leaves the ref as it was.
 */
export async function ingest(session: Session, input: string, options: IngestOptions): Promise<IngestReport> {
  const fragmentSeconds = options.fragmentSeconds ?? 2;
  if (!(fragmentSeconds >= 1 && fragmentSeconds <= 30))
    throw new MediaError(input, `fragment duration ${fragmentSeconds} s is outside 1–30 s`);
  const info = await probe(input);
  const streams = [
    info.streams.find((s) => s.kind === 'video'),
    ...info.streams.filter((s) => s.kind === 'audio'),
  ].filter((s): s is MediaStream => s !== undefined);
  // Where each stream's first packet is decoded relative to the input's zero (negative: priming, B-frames).
  const starts = await Promise.all(
    streams.map(async (s) => {
      const { units, rate: r } = await firstDecodeTime(input, s.index);
      return (units * NS) / r;
    }),
  );
  const origin = ceilMs(starts.reduce((lead, t) => (t < 0n && -t > lead ? -t : lead), 0n));
  const ref = options.ref ?? 'main';
  const base = await session.resolve(ref);
  const writer = new Writer(base);
  const timelineIsNew = !base?.manifest.timelines.some((t) => t.name === options.timeline);
  let unchanged = 0;
  if (timelineIsNew) {
    writer.timeline({
      name: options.timeline,
      ...(options.genesis !== undefined && { genesis: options.genesis }),
    });
  }
  const tracks: IngestedTrack[] = [];
  let audioCount = 0;
  for (const [i, stream] of streams.entries()) {
    const name = stream.kind === 'video' ? 'video' : audioCount++ === 0 ? 'audio' : `audio-${audioCount}`;
    let init: InitInfo | undefined;
    let initHash: Multihash | undefined;
    let first: Tick | undefined;
    let next: Tick | undefined;
    let fragments = 0;
    const start = origin + starts[i]!;
    const existing = base?.manifest.tracks.find((t) => t.timeline === options.timeline && t.name === name);
    for await (const event of cmafTrack(input, stream, { fragmentSeconds, transcode: options.transcode })) {
      if (event.kind === 'init') {
        init = event.info;
        initHash = await session.store.putObject(event.bytes);
        if (existing?.init && multihashToHex(existing.init) !== multihashToHex(initHash)) {
          throw new MediaError(
            input,
            `track ${options.timeline}/${name} already holds media with another CMAF header (codec or size); ingest into another timeline`,
          );
        }
        writer.track({
          timeline: options.timeline,
          name,
          kind: 'stream',
          modality: modalityOf(init.codec),
          rate: rate(init.timescale),
          codecs: init.codec,
          init: initHash,
          attrs: {
            ...(init.width !== undefined && { width: init.width, height: init.height }),
            ...(stream.frameRate !== undefined && { frame_rate: stream.frameRate }),
            ...(init.sampleRate !== undefined && { sample_rate: init.sampleRate, channels: init.channels }),
            source_stream: stream.index,
          },
        });
        continue;
      }
      const f = event.info;
      if (!f.startsWithSync)
        throw new MediaError(input, `stream ${stream.index}: a fragment does not start at a sync sample`);
      const r = rate(init!.timescale);
      const tick = start + unitsToTicks(BigInt(f.baseMediaDecodeTime), r);
      const end = start + unitsToTicks(BigInt(f.baseMediaDecodeTime + f.duration), r);
      if (next !== undefined && tick !== next) {
        throw new MediaError(
          input,
          `stream ${stream.index}: fragment at tick ${tick} does not follow ${next}`,
        );
      }
      first ??= tick;
      next = end;
      fragments++;
      if (existing?.index && tick <= existing.index.last) {
        // Already stored (a re-ingest of the same file): the same bytes are skipped, other bytes refused.
        const stored = await read(session, base!, { timeline: options.timeline, track: name, tick });
        if (stored?.tick !== tick || !sameBytes(stored.bytes, event.bytes)) {
          throw new MediaError(
            input,
            `track ${options.timeline}/${name} already holds other media at tick ${tick}; ingest into another timeline`,
          );
        }
        unchanged++;
        continue;
      }
      writer.write(options.timeline, name, [{ tick, duration: end - tick, payload: event.bytes }]);
      // Fragments go to the store in buckets of SPILL_BYTES as they come: memory stays bounded.
      if (writer.stagedBytes(options.timeline, name) >= SPILL_BYTES)
        await spill(session, writer, options.timeline, name);
      options.onProgress?.({
        seconds: Number(end - origin) / 1e9,
        ...(info.duration !== undefined && { duration: info.duration }),
        fragments,
      });
    }
    if (!init || fragments === 0) throw new MediaError(input, `stream ${stream.index} gave no fragments`);
    tracks.push({
      name,
      stream: stream.index,
      codec: init.codec,
      modality: modalityOf(init.codec),
      init: initHash!,
      fragments,
      first: first!,
      end: next!,
      remuxed: remuxes(stream, options),
    });
  }
  const total = tracks.reduce((n, t) => n + t.fragments, 0);
  if (base && unchanged === total && !timelineIsNew) {
    // Everything was already there, byte for byte: nothing to publish.
    return { published: { ...base, objectsWritten: 0, bytesWritten: 0 }, tracks, origin, unchanged: true };
  }
  const published = await publish(session, writer, { ref, message: `ingest ${input}` });
  return { published, tracks, origin, unchanged: false };
}
