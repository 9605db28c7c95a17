import { EngineError, quote } from '../errors.js';
import '../indexes/builtin.js';
import type { TextIndexReader } from '../indexes/text/kind.js';
import { MAX_TEXT_K, searchText, type TextHit } from '../indexes/text/search.js';
import { openIndex, roleIndex } from '../indexes/track-indexes.js';
import type { Track } from '../model/track.js';
import { findTrack, type Resolved, type Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';

/** A text query over tracks of one timeline. */
export interface TextQuery {
  readonly timeline: string;
  readonly query: string;
  /** Tracks to search (default: every track of the timeline with a text index). */
  readonly tracks?: readonly string[];
  readonly k: number;
  readonly t0?: Tick;
  readonly t1?: Tick;
  /** Keep only hits this returns true for (applied before a hit can take a place in the top k). */
  readonly filter?: (hit: { track: string; tick: Tick; duration: Tick }) => boolean;
}

/** The tracks a text query searches: the ones named (each must have a text index), or all indexed. */
export function textTracks(resolved: Resolved, timeline: string, names?: readonly string[]): Track[] {
  if (!names) return resolved.manifest.tracks.filter((t) => t.timeline === timeline && roleIndex(t, 'text'));
  return names.map((name) => {
    const track = findTrack(resolved.manifest, timeline, name);
    if (!roleIndex(track, 'text'))
      throw new EngineError(
        'E_BAD_REQUEST',
        `track ${timeline}/${name} (${track.kind}, ${track.modality}) has no text index: text search covers event tracks of text.* and event.* items`,
      );
    return track;
  });
}

/**
 * BM25 over the text indexes of a timeline's tracks (spec 0015 §3): every segment of every chosen track
 * scored with statistics summed over all of them, so the ranking is the one a single index of all their
 * items would give. Hits name their track, tick, duration, score and the terms and fields they matched.
 */
export async function textSearch(session: Session, resolved: Resolved, query: TextQuery): Promise<TextHit[]> {
  if (!Number.isSafeInteger(query.k) || query.k < 1 || query.k > MAX_TEXT_K)
    throw new EngineError('E_BAD_REQUEST', `k ${quote(query.k)} must be an integer from 1 to ${MAX_TEXT_K}`);
  const tracks = textTracks(resolved, query.timeline, query.tracks);
  const t0 = query.t0 ?? 0n;
  const t1 = query.t1;
  // Every segment, even those outside the window: the statistics are the tracks', whatever the window,
  // so a hit scores the same in any window that holds it.
  const indexes = await Promise.all(
    tracks.map((t) => openIndex<TextIndexReader>(session, t, roleIndex(t, 'text')!.scheme)),
  );
  const opened = indexes.flatMap((index) => index.segments);
  const dropped = indexes.flatMap((index) => index.dropped);
  const windowed = query.t0 !== undefined || t1 !== undefined;
  const filter = query.filter;
  return searchText(opened, query.query, {
    k: query.k,
    dropped,
    ...((windowed || filter) && {
      filter: (doc) => doc.tick >= t0 && (t1 === undefined || doc.tick < t1) && (!filter || filter(doc)),
    }),
  });
}
