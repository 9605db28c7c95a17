import type { Manifest, Tick, Track } from '@dreamdb/engine';
import { read } from '@dreamdb/engine/query';
import type { Resolved, Session } from '@dreamdb/engine/store';

/** One rendition of a RenditionPlaylist (spec 0014 §3). */
export interface Rendition {
  readonly track: string;
  readonly codecs: string;
  readonly bandwidth: number;
  readonly average_bandwidth?: number;
  readonly width?: number;
  readonly height?: number;
  readonly frame_rate?: string;
}

/** A switching set: renditions of one kind a player may switch between. */
export interface RenditionSet {
  readonly kind: string;
  readonly tracks: readonly Rendition[];
}

/**
 * The timeline's switching sets: its RenditionPlaylist (the `renditions` track), or one set per kind made
 * from the stream tracks' own fields. Only renditions of `tracks` are kept (a `?tracks=` selection).
 */
export async function renditionSets(
  session: Session,
  resolved: Resolved,
  timeline: string,
  tracks: readonly Track[],
): Promise<RenditionSet[]> {
  const keep = new Set(tracks.filter((t) => t.kind === 'stream' && t.init).map((t) => t.name));
  let sets: RenditionSet[] | undefined;
  if (resolved.manifest.tracks.some((t) => t.timeline === timeline && t.name === 'renditions')) {
    const item = await read(session, resolved, { timeline, track: 'renditions', tick: 0n });
    sets = (item?.payload as { sets?: RenditionSet[] } | undefined)?.sets;
  }
  if (!sets) {
    const of = (kind: string) =>
      tracks
        .filter((t) => t.kind === 'stream' && t.modality.startsWith(`${kind}.`))
        .map((t) => ({
          track: t.name,
          codecs: t.codecs ?? '',
          bandwidth: Number(t.attrs?.bandwidth ?? 1_000_000),
          ...(typeof t.attrs?.width === 'number' && {
            width: t.attrs.width,
            height: t.attrs.height as number,
          }),
        }));
    sets = [
      { kind: 'video', tracks: of('video') },
      { kind: 'audio', tracks: of('audio') },
    ];
  }
  return sets
    .map((s) => ({ kind: s.kind, tracks: s.tracks.filter((r) => keep.has(r.track)) }))
    .filter((s) => s.tracks.length > 0);
}

/**
 * Where the media timeline's 0 sits in ticks: the first fragment of the timeline's first video track (or
 * first stream track); the packager starts every track's media time at its first fragment (0007 §5.2).
 */
export function mediaZero(manifest: Manifest, timeline: string): Tick {
  const streams = manifest.tracks.filter((t) => t.timeline === timeline && t.kind === 'stream' && t.index);
  const video = streams.find((t) => t.modality.startsWith('video.')) ?? streams[0];
  return video?.index?.first ?? 0n;
}

/** The last tick any stream or caption track of the timeline reaches (its items' starts). */
export function timelineEnd(manifest: Manifest, timeline: string): Tick {
  let end = 0n;
  for (const t of manifest.tracks)
    if (t.timeline === timeline && t.index && t.index.last > end) end = t.index.last;
  return end;
}

/** A frame rate written as a fraction ("30000/1001") as a number. */
export const frameRate = (text: string): number => {
  const [num, den] = text.split('/').map(Number) as [number, number];
  return den ? num / den : num;
};

/** Whether a track's items are events a playlist announces (EXT-X-DATERANGE, DASH EventStream). */
export const isAnnouncedEvent = (t: Track) => t.kind === 'event' && t.modality.startsWith('event.');

/** Whether a track holds thumbnails (JPEG items) for an image playlist or adaptation set. */
export const isThumbnails = (t: Track) => t.modality === 'image.jpeg';
