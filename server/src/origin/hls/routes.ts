import { EngineError, type Manifest, type Track, ticksToSecondsNumber, tickToRfc3339 } from '@dreamdb/engine';
import { range, read } from '@dreamdb/engine/query';
import { findTrack, type Resolved, type Session } from '@dreamdb/engine/store';
import { Hono } from 'hono';
import type { OriginContext } from '../context.js';
import { cacheOf, playlistEtag } from '../http/caching.js';
import { cachedText } from '../http/text-cache.js';
import { announcedEvents, clipEntries, payloadJson, thumbnailInfo } from '../playback/clip.js';
import {
  frameRate,
  isThumbnails,
  mediaZero,
  type Rendition,
  renditionSets,
  timelineEnd,
} from '../playback/renditions.js';
import { inClip, type Selection, selectedTracks, selection, selectionQuery } from '../playback/selection.js';
import { objectUri, objectUris, playbackBase } from '../playback/urls.js';
import type { VttCue } from '../playback/webvtt.js';
import {
  type HlsDateRange,
  type HlsFile,
  type HlsImageStream,
  type HlsMedia,
  type HlsSegment,
  type HlsVariant,
  imagePlaylist,
  mediaPlaylist,
  multivariantPlaylist,
  subtitlesPlaylist,
  webvttSegment,
} from './playlists.js';

const M3U8 = 'application/vnd.apple.mpegurl';
/** Seconds of the media timeline per WebVTT segment of a subtitles rendition. */
const VTT_SEGMENT_SECONDS = 60;

/**
 * HLS routes under /hls/:space/:ref/:timeline: the multivariant playlist, media playlists of stream
 * tracks (byte ranges into buckets), subtitles from caption tracks, an image playlist of thumbnails.
 * `ref` is a ref name (URL-encoded) or a manifest hash; `?from=&to=&tracks=` clip and select.
 */
export function hlsRoutes(origin: OriginContext): Hono {
  const app = new Hono();

  app.get('/:space/:ref/:timeline/:track/:segment', async (c) => {
    const { space, ref, timeline, track: name, segment } = c.req.param();
    const resolved = await origin.resolve(space, ref);
    const track = findTrack(resolved.manifest, timeline, name);
    const session = origin.session(space);
    const vtt = /^(\d{1,6})\.vtt$/.exec(segment);
    if (vtt && track.modality === 'text.cue') {
      const text = await subtitlesSegment(session, resolved, timeline, track, Number(vtt[1]));
      return c.body(text, 200, { 'content-type': 'text/vtt; charset=utf-8', 'cache-control': cacheOf(ref) });
    }
    const jpeg = /^(\d{1,20})\.jpg$/.exec(segment);
    if (jpeg && isThumbnails(track)) {
      const item = await read(session, resolved, { timeline, track: name, tick: BigInt(jpeg[1]!) });
      const image = (item?.payload as { image?: unknown } | undefined)?.image;
      if (!(image instanceof Uint8Array))
        throw new EngineError('E_NOT_FOUND', `track ${name} has no thumbnail at tick ${jpeg[1]}`);
      return c.body(image as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'image/jpeg',
        'cache-control': cacheOf(ref),
      });
    }
    throw new EngineError('E_NOT_FOUND', `${segment}: not a segment of track ${name}`);
  });

  app.get('/:space/:ref/:timeline/:file', async (c) => {
    const { space, ref, timeline, file } = c.req.param();
    // The one body every gap segment has: none (players that know EXT-X-GAP never ask for it).
    if (file === GAP_URI)
      return c.body(null, 200, {
        'content-type': 'video/mp4',
        'cache-control': 'public, max-age=31536000, immutable',
      });
    if (!file.endsWith('.m3u8')) throw new EngineError('E_NOT_FOUND', `${file}: not a playlist`);
    const { resolved } = await origin.resolveTimeline(space, ref, timeline);
    const select = selection((k) => c.req.query(k), resolved.manifest, timeline);
    // A playlist is a function of the manifest and the URL: its ETag says both.
    const etag = playlistEtag(resolved, `${file}${selectionQuery(select)}`);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    const session = origin.session(space);
    const name = decodeURIComponent(file.slice(0, -'.m3u8'.length));
    const base = playbackBase('/hls', space, ref, timeline);
    const text = await cachedText(origin.texts, etag, c.req.path, async () => {
      if (file === 'master.m3u8') return master(session, resolved, timeline, select);
      const track = findTrack(resolved.manifest, timeline, name);
      if (track.modality === 'text.cue') return subtitles(resolved.manifest, timeline, track, base, select);
      if (isThumbnails(track)) return thumbnailsPlaylist(session, resolved, track, base, select);
      return media(session, resolved, timeline, track, select);
    });
    return c.body(text, 200, { 'content-type': M3U8, 'cache-control': cacheOf(ref), etag });
  });

  return app;
}

/**
 * Where a gap segment points: players that know EXT-X-GAP never load it; others get an empty segment
 * (200, no bytes) and go on to the next.
 */
const GAP_URI = 'gap.m4s';

/** The media playlist of one stream track: its fragments in the clip, as byte ranges of their buckets. */
async function media(
  session: Session,
  resolved: Resolved,
  timeline: string,
  track: Track,
  select: Selection,
): Promise<string> {
  if (track.kind !== 'stream' || !track.init)
    throw new EngineError(
      'E_NOT_FOUND',
      `track ${timeline}/${track.name} is not a stream track with a CMAF header`,
    );
  const genesis = resolved.manifest.timelines.find((t) => t.name === timeline)?.genesis;
  const space = session.store.space;
  const segmentUri = objectUris(space, '.m4s');
  const entries = await clipEntries(session, track, select);
  const segments: HlsSegment[] = [];
  let longest = 0n;
  for (const e of entries) if (e.duration > longest) longest = e.duration;
  for (const [k, e] of entries.entries()) {
    const previous = entries[k - 1];
    // A hole between fragments (a deleted stretch): gap segments no longer than the longest fragment,
    // so the playlist keeps every fragment at its tick and TARGETDURATION holds.
    for (let at = previous ? previous.tick + previous.duration : e.tick; at < e.tick; ) {
      const piece = e.tick - at < longest ? e.tick - at : longest;
      segments.push({ uri: GAP_URI, start: 0, end: 0, duration: ticksToSecondsNumber(piece), gap: true });
      at += piece;
    }
    segments.push({
      uri: segmentUri(e.object),
      start: e.start,
      end: e.end,
      duration: ticksToSecondsNumber(e.duration),
      ...(genesis !== undefined && k === 0 && { programDateTime: tickToRfc3339(e.tick, genesis) }),
    });
  }
  const dateRanges = genesis === undefined ? [] : await events(session, resolved, timeline, select, genesis);
  return mediaPlaylist(objectUri(space, track.init, '.mp4'), segments, dateRanges);
}

/** The timeline's announced events in the clip, as date ranges (at most MAX_ANNOUNCED). */
async function events(
  session: Session,
  resolved: Resolved,
  timeline: string,
  select: Selection,
  genesis: bigint,
): Promise<HlsDateRange[]> {
  const items = await announcedEvents(session, resolved, timeline, resolved.manifest.tracks, select);
  return items.map((item) => {
    const payload = item.payload as Record<string, unknown> | undefined;
    const label = typeof payload?.label === 'string' ? payload.label : undefined;
    return {
      id: `${item.track}/${item.tick}`,
      class: `org.dreamdb.${item.track}`,
      startDate: tickToRfc3339(item.tick, genesis),
      ...(item.duration > 0n && { duration: ticksToSecondsNumber(item.duration) }),
      attributes: {
        'X-TRACK': item.track,
        'X-TICK': item.tick.toString(),
        ...(label !== undefined && { 'X-LABEL': label }),
        ...(payload !== undefined && { 'X-PAYLOAD': encodeURIComponent(payloadJson(payload)) }),
      },
    };
  });
}

/** The multivariant playlist: the RenditionPlaylist's video rungs, audio and subtitles as EXT-X-MEDIA. */
async function master(
  session: Session,
  resolved: Resolved,
  timeline: string,
  select: Selection,
): Promise<string> {
  const tracks = selectedTracks(resolved.manifest, timeline, select);
  const sets = await renditionSets(session, resolved, timeline, tracks);
  if (sets.length === 0)
    throw new EngineError('E_NOT_FOUND', `timeline ${timeline} has no stream tracks selected`);
  const videos = sets.filter((s) => s.kind === 'video').flatMap((s) => s.tracks);
  const audios = sets.filter((s) => s.kind === 'audio').flatMap((s) => s.tracks);
  // Media playlists carry the clip on (the track selection is already applied here).
  const query = selectionQuery({ ...select, tracks: undefined });
  const uri = (track: string) => `${encodeURIComponent(track)}.m3u8${query}`;
  const audio: HlsMedia[] = audios.map((a, i) => ({
    type: 'AUDIO',
    group: 'audio',
    name: a.track,
    uri: uri(a.track),
    default: i === 0,
  }));
  const peakAudio = Math.max(0, ...audios.map((a) => a.bandwidth));
  const variants: HlsVariant[] =
    videos.length > 0
      ? videos.map((v: Rendition) => ({
          uri: uri(v.track),
          bandwidth: v.bandwidth + peakAudio,
          ...(v.average_bandwidth && {
            averageBandwidth: v.average_bandwidth + (audios[0]?.average_bandwidth ?? 0),
          }),
          codecs: [v.codecs, ...(audios[0] ? [audios[0].codecs] : [])].join(','),
          ...(v.width && v.height && { resolution: { width: v.width, height: v.height } }),
          ...(v.frame_rate && { frameRate: frameRate(v.frame_rate) }),
          ...(audios.length > 0 && { audio: 'audio' }),
        }))
      : audios.slice(0, 1).map((a) => ({ uri: uri(a.track), bandwidth: a.bandwidth, codecs: a.codecs }));
  const subtitles: HlsMedia[] = tracks
    .filter((t) => t.modality === 'text.cue')
    .map((t) => ({ type: 'SUBTITLES', group: 'subs', name: t.name, uri: uri(t.name), default: false }));
  const withSubs = subtitles.length > 0 ? variants.map((v) => ({ ...v, subtitles: 'subs' })) : variants;
  const images: HlsImageStream[] = [];
  for (const t of tracks.filter((t) => isThumbnails(t) && t.index)) {
    const { width, height, bandwidth } = await thumbnailInfo(session, resolved, t);
    images.push({ uri: uri(t.name), bandwidth, resolution: { width, height } });
  }
  return multivariantPlaylist(withSubs, [...(videos.length > 0 ? audio : []), ...subtitles], images);
}

/** The image playlist of a thumbnail track: one JPEG per thumbnail in the clip. */
async function thumbnailsPlaylist(
  session: Session,
  resolved: Resolved,
  track: Track,
  base: string,
  select: Selection,
): Promise<string> {
  const images: HlsFile[] = (await clipEntries(session, track, select)).map((e) => ({
    uri: `${base}/${encodeURIComponent(track.name)}/${e.tick}.jpg`,
    duration: ticksToSecondsNumber(e.duration),
  }));
  const { width, height } = await thumbnailInfo(session, resolved, track);
  return imagePlaylist(images, { width, height });
}

/** The subtitles playlist of a caption track: one WebVTT segment per minute of the clip. */
function subtitles(
  manifest: Manifest,
  timeline: string,
  track: Track,
  base: string,
  select: Selection,
): string {
  const zero = mediaZero(manifest, timeline);
  const end = timelineEnd(manifest, timeline);
  const seconds = Math.max(1, ticksToSecondsNumber(end > zero ? end - zero : 0n) + 1);
  const minute = BigInt(VTT_SEGMENT_SECONDS) * 1_000_000_000n;
  const files: HlsFile[] = [];
  for (let k = 0; k < Math.ceil(seconds / VTT_SEGMENT_SECONDS); k++) {
    if (!inClip(select, zero + BigInt(k) * minute, minute)) continue;
    files.push({
      uri: `${base}/${encodeURIComponent(track.name)}/${k}.vtt`,
      duration: Math.min(VTT_SEGMENT_SECONDS, seconds - k * VTT_SEGMENT_SECONDS),
    });
  }
  return subtitlesPlaylist(files);
}

/** WebVTT segment k of a caption track: the cues that start in its minute. */
async function subtitlesSegment(
  session: Session,
  resolved: Resolved,
  timeline: string,
  track: Track,
  k: number,
): Promise<string> {
  const zero = mediaZero(resolved.manifest, timeline);
  const minute = BigInt(VTT_SEGMENT_SECONDS) * 1_000_000_000n;
  const t0 = zero + BigInt(k) * minute;
  const cues: VttCue[] = [];
  const page = await range(session, resolved, { timeline, tracks: [track.name], t0, t1: t0 + minute });
  for (const item of page.items) {
    const start = ticksToSecondsNumber(item.tick - zero);
    const payload = item.payload as { text?: unknown };
    cues.push({ start, end: start + ticksToSecondsNumber(item.duration), text: String(payload?.text ?? '') });
  }
  return webvttSegment(cues);
}
