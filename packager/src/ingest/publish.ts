import { EngineError, encodeItem, equalBytes, multihashToHex, type Track } from '@dreamdb/engine';
import { read } from '@dreamdb/engine/query';
import type { Resolved, Session } from '@dreamdb/engine/store';
import { type Published, publish, spill, type WriteItem, Writer } from '@dreamdb/engine/write';
import { MediaError } from '../errors.js';

/** A track an ingest batch defines: its definition less the timeline, and a stream track's CMAF header. */
export interface IngestTrack {
  /** The definition; a stream track's `init` is the hash of `header`, set when the header is stored. */
  readonly track: Omit<Track, 'timeline' | 'init'>;
  /** A stream track's CMAF header (ftyp + moov), stored as an object of its own. */
  readonly header?: Uint8Array;
}

/** Items of one track, in tick order: CMAF fragments of a stream track, payloads of the others. */
export interface TrackItems {
  readonly track: string;
  readonly items: readonly WriteItem[];
}

/**
 * What an ingest produced for one or more fragments: the tracks it defines (each before its first items)
 * and items of tracks defined here or in the version published to.
 */
export interface IngestBatch {
  readonly tracks?: readonly IngestTrack[];
  readonly items?: readonly TrackItems[];
}

/** Where and how publishIngest publishes. */
export interface PublishIngestOptions {
  readonly timeline: string;
  /** Unix ns of tick 0, when the timeline is new (a relative timeline when omitted). */
  readonly genesis?: bigint;
  /** The ref to publish to (default main). */
  readonly ref?: string;
  /** The manifest's message (default "ingest <source>"). */
  readonly message?: string;
  /** Refuse (E_CONFLICT) when the ref's version already has the timeline. */
  readonly requireNew?: boolean;
  /** The input the batches come from, named in refusals (default the timeline's name). */
  readonly source?: string;
  /** Abandons the publish when aborted: nothing is published. */
  readonly signal?: AbortSignal;
  /** Staged fragment bytes per stream track before they are packed into a bucket and uploaded. */
  readonly spillBytes?: number;
  /** Called once every batch is in, before the manifest is written (not when nothing changed). */
  readonly onPublishing?: () => void;
}

/** What publishIngest did. */
export interface IngestPublished {
  /** The new version, or the ref's current one when nothing changed. */
  readonly published: Published;
  /** Every item was already there, byte for byte, and nothing new was defined: nothing was published. */
  readonly unchanged: boolean;
  /** Items written, and stream or constant items skipped because the version held them byte for byte. */
  readonly written: number;
  readonly skipped: number;
}

/** Staged fragment bytes per stream track before spilling (bounded memory, few objects). */
export const SPILL_BYTES = 16 * 1024 * 1024;

/**
 * Write ingest batches into `options.timeline` on top of the ref's version and publish them as one
 * manifest (Writer, spill, publish). A one-shot ingest passes every batch of a file (consumed as they come,
 * fragments spilled every SPILL_BYTES); a live recording calls it once per fragment. Items the version
 * already holds byte for byte are skipped, so calling it again with the same batch changes nothing; other
 * bytes at a stored fragment's tick are refused. A failure, or an abort, at any point publishes nothing.
 */
export async function publishIngest(
  session: Session,
  batches: Iterable<IngestBatch> | AsyncIterable<IngestBatch>,
  options: PublishIngestOptions,
): Promise<IngestPublished> {
  const { timeline, signal } = options;
  const ref = options.ref ?? 'main';
  const source = options.source ?? timeline;
  const spillBytes = options.spillBytes ?? SPILL_BYTES;
  signal?.throwIfAborted();
  const base = await session.resolve(ref);
  const writer = new Writer(base);
  const timelineIsNew = !base?.manifest.timelines.some((t) => t.name === timeline);
  if (options.requireNew && !timelineIsNew)
    throw new EngineError('E_CONFLICT', `timeline ${timeline} already exists in ${ref}`);
  if (timelineIsNew)
    writer.timeline({ name: timeline, ...(options.genesis !== undefined && { genesis: options.genesis }) });
  const stored = (name: string) =>
    base?.manifest.tracks.find((t) => t.timeline === timeline && t.name === name);
  let defined = false;
  let written = 0;
  let skipped = 0;
  for await (const batch of batches) {
    signal?.throwIfAborted();
    for (const { track, header } of batch.tracks ?? []) {
      const existing = stored(track.name);
      defined ||= !existing;
      if (track.kind === 'stream' && !header)
        throw new MediaError(source, `stream track ${timeline}/${track.name} comes without its CMAF header`);
      const init = header && (await session.store.putObject(header));
      if (init && existing?.init && multihashToHex(existing.init) !== multihashToHex(init)) {
        throw new MediaError(
          source,
          `track ${timeline}/${track.name} already holds media with another CMAF header (codec or size); ingest into another timeline`,
        );
      }
      writer.track({ ...track, timeline, ...(init && { init }) });
    }
    for (const { track: name, items } of batch.items ?? []) {
      const track = writer.allTracks().find((t) => t.timeline === timeline && t.name === name);
      if (!track) throw new EngineError('E_NOT_FOUND', `track ${timeline}/${name} is not defined`);
      const fresh = await unstored(session, base, track, items, source);
      skipped += items.length - fresh.length;
      written += fresh.length;
      if (fresh.length === 0) continue;
      writer.write(timeline, name, fresh);
      // Fragments go to the store in buckets as they come; publish waits for these uploads.
      if (track.kind === 'stream' && writer.stagedBytes(timeline, name) >= spillBytes)
        await spill(session, writer, timeline, name, { wait: false });
    }
  }
  signal?.throwIfAborted();
  if (base && !timelineIsNew && !defined && written === 0)
    return { published: { ...base, objectsWritten: 0, bytesWritten: 0 }, unchanged: true, written, skipped };
  options.onPublishing?.();
  const published = await publish(session, writer, { ref, message: options.message ?? `ingest ${source}` });
  return { published, unchanged: false, written, skipped };
}

/**
 * The items of a batch that the base version does not hold already. A stream fragment at or before the
 * track's last stored tick must be there byte for byte (a re-ingest of the same file): other bytes are
 * refused. A constant item equal to the stored one (same layer, same bytes) is skipped. Event items are
 * all written (a derived track is derived again).
 */
async function unstored(
  session: Session,
  base: Resolved | undefined,
  track: Track,
  items: readonly WriteItem[],
  source: string,
): Promise<readonly WriteItem[]> {
  const last = track.index?.last;
  if (!base || last === undefined || track.kind === 'event') return items;
  const where = { timeline: track.timeline, track: track.name };
  const fresh: WriteItem[] = [];
  for (const item of items) {
    if (item.tick > last) {
      fresh.push(item);
      continue;
    }
    const found = await read(session, base, { ...where, tick: item.tick });
    if (track.kind === 'stream') {
      if (found?.tick !== item.tick || !equalBytes(found.bytes, item.payload as Uint8Array)) {
        throw new MediaError(
          source,
          `track ${track.timeline}/${track.name} already holds other media at tick ${item.tick}; ingest into another timeline`,
        );
      }
      continue;
    }
    const same =
      found?.tick === item.tick &&
      found.layer === item.layer &&
      equalBytes(found.bytes, encodeItem({ ...item, track: track.name }));
    if (!same) fresh.push(item);
  }
  return fresh;
}
