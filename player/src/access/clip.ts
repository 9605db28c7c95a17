import type { TimelineDoc } from '@dreamdb/engine/api';
import type { TickWindow } from './rights.js';

/**
 * A token's window played as a clip (spec 0018 §4.3): the origin serves a windowed token the playlists of
 * `?from=&to=` inside its window only, and of their files only the fragments and init segments (URLs with
 * `ref=`, which the playlists write). The engines start a clip at media time 0, not at its tick: where that
 * is, in ticks, depends on the engine (the playback controller finds it and tells the clock).
 */

/**
 * The tracks a clip's playlists list: the timeline's stream tracks (video and audio). Caption files and
 * thumbnail images are no playlist or fragment, so a windowed token is refused them: a clip that listed
 * them would have the engines ask for them and fail. Their lanes come from the API's items, in the window.
 */
export const clipTracks = (doc: TimelineDoc): string[] =>
  doc.tracks.filter((t) => t.kind === 'stream').map((t) => t.name);

/** A playlist URL of the clip [from, to) of `tracks`, its other parameters and fragment kept. */
export function clipUrl(url: string, window: TickWindow, tracks: readonly string[]): string {
  const hashAt = url.indexOf('#');
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const rest = hashAt < 0 ? url : url.slice(0, hashAt);
  const selection = [`from=${window.from}`, `to=${window.to}`];
  if (tracks.length > 0) selection.push(`tracks=${tracks.map(encodeURIComponent).join(',')}`);
  const separator = !rest.includes('?') ? '?' : rest.endsWith('?') || rest.endsWith('&') ? '' : '&';
  return `${rest}${separator}${selection.join('&')}${fragment}`;
}

/** Both playback URLs of a timeline as the clip of a window (its stream tracks). */
export const clipUrls = (doc: TimelineDoc, window: TickWindow): { hls: string; dash: string } => {
  const tracks = clipTracks(doc);
  return { hls: clipUrl(doc.playback.hls, window, tracks), dash: clipUrl(doc.playback.dash, window, tracks) };
};

/**
 * The track whose first listed fragment hls.js plays at media time 0: the main variant's, which is video
 * (any rung: the renditions are cut at the same ticks), else audio alone. hls.js times the whole clip by
 * that fragment's decode time (its initPTS); an alternative audio rendition is timed against it.
 */
export function mainTrack(doc: TimelineDoc): string | undefined {
  const streams = doc.tracks.filter((t) => t.kind === 'stream');
  return (streams.find((t) => t.modality.startsWith('video.')) ?? streams[0])?.name;
}
