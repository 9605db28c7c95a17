import { EngineError, type Manifest, type Tick, type Track } from '@dreamdb/engine';
import { genesisOf, timeParam } from '../http/params.js';

/** What a playback URL selects: a clip [from, to) of the timeline and some of its tracks. */
export interface Selection {
  readonly from?: Tick;
  readonly to?: Tick;
  /** Track names; all when undefined. */
  readonly tracks?: readonly string[];
}

/** The selection of `?from=&to=&tracks=`; unknown tracks and empty clips are 4xx. */
export function selection(
  query: (name: string) => string | undefined,
  manifest: Manifest,
  timeline: string,
): Selection {
  const genesis = genesisOf(manifest, timeline);
  const from = timeParam('from', query('from'), genesis);
  const to = timeParam('to', query('to'), genesis);
  if (from !== undefined && to !== undefined && to <= from)
    throw new EngineError('E_BAD_REQUEST', `to (${to}) must be after from (${from})`);
  const tracks = query('tracks')
    ?.split(',')
    .filter((t) => t !== '');
  for (const name of tracks ?? []) {
    if (!manifest.tracks.some((t) => t.timeline === timeline && t.name === name))
      throw new EngineError('E_NOT_FOUND', `track ${name} is not in timeline ${timeline}`);
  }
  return { ...(from !== undefined && { from }), ...(to !== undefined && { to }), ...(tracks && { tracks }) };
}

/** Whether a fragment [tick, tick + duration) plays in the selection's clip. */
export const inClip = (s: Selection, tick: Tick, duration: Tick) =>
  (s.to === undefined || tick < s.to) &&
  (s.from === undefined || tick + (duration > 0n ? duration : 1n) > s.from);

/** The query string that carries a selection on to the URLs a playlist names. */
export function selectionQuery(s: Selection): string {
  const params = new URLSearchParams();
  if (s.from !== undefined) params.set('from', s.from.toString());
  if (s.to !== undefined) params.set('to', s.to.toString());
  if (s.tracks) params.set('tracks', s.tracks.join(','));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The tracks of a timeline a selection keeps. */
export const selectedTracks = (manifest: Manifest, timeline: string, s: Selection): Track[] =>
  manifest.tracks.filter((t) => t.timeline === timeline && (!s.tracks || s.tracks.includes(t.name)));
