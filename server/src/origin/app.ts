import {
  EngineError,
  findTrack,
  type Manifest,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  type ObjectStore,
  objectKey,
  parseRangeHeader,
  type Resolved,
  range,
  read,
  Session,
  SpaceStore,
  seekEntry,
  type Track,
  ticksToSecondsNumber,
  tickToRfc3339,
  trackEntries,
} from '@dreamdb/engine';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { parseTimeArg } from '../cli/time-arg.js';
import {
  type HlsMedia,
  type HlsSegment,
  type HlsVariant,
  mediaPlaylist,
  multivariantPlaylist,
  type VttCue,
  webvttSegment,
} from './hls.js';

/** What an origin serves from. */
export interface OriginOptions {
  readonly store: ObjectStore;
  /** How stale a ref resolution may be, in ms (default 1000): playlists follow publishes within it. */
  readonly maxStalenessMs?: number;
}

const HTTP_STATUS: Partial<Record<string, 400 | 404 | 409 | 413 | 416>> = {
  E_NOT_FOUND: 404,
  E_BAD_REQUEST: 400,
  E_FIELD: 400,
  E_NAME: 400,
  E_MULTIHASH: 400,
  E_TICK_FORMAT: 400,
  E_TICK_RANGE: 400,
  E_RANGE: 416,
  E_CONFLICT: 409,
  E_TOO_LARGE: 413,
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const MANIFEST_HASH = /^1e20[0-9a-f]{64}$/;

/**
 * The origin (issue 6, first part): HLS generated per request from the resolved manifest, content-addressed
 * bytes with single Range support, and the timeline listing of the HTTP API. Stateless: everything it
 * knows comes from the store, so identical copies scale out behind a CDN.
 */
export function createOrigin(options: OriginOptions): Hono {
  const sessions = new Map<string, Session>();
  const sessionOf = (space: string) => {
    let session = sessions.get(space);
    if (!session) {
      session = new Session(new SpaceStore(options.store, space));
      sessions.set(space, session);
    }
    return session;
  };
  /** A ref name (URL-encoded: heads%2Fteam) or a manifest hash, resolved. */
  const resolve = async (space: string, ref: string): Promise<Resolved> => {
    const session = sessionOf(space);
    if (MANIFEST_HASH.test(ref)) {
      const hash = multihashFromHex(ref);
      return { hash, manifest: await session.manifest(hash) };
    }
    const resolved = await session.resolve(ref, { maxStalenessMs: options.maxStalenessMs ?? 1000 });
    if (!resolved) throw new EngineError('E_NOT_FOUND', `space ${space} has no ref ${ref}`);
    return resolved;
  };

  const app = new Hono();
  app.use(
    '*',
    cors({
      origin: '*',
      allowHeaders: ['Range', 'If-None-Match'],
      exposeHeaders: ['Content-Range', 'Content-Length', 'Accept-Ranges', 'ETag'],
    }),
  );
  app.onError((error, c) => {
    if (error instanceof EngineError) {
      return c.json({ error: error.code, message: error.message }, HTTP_STATUS[error.code] ?? 500);
    }
    return c.json({ error: 'E_INTERNAL', message: (error as Error).message.split('\n')[0] }, 500);
  });

  app.get('/v0/health', (c) => c.json({ ok: true }));

  app.get('/v0/spaces/:space/timelines/:timeline', async (c) => {
    const { space, timeline } = c.req.param();
    const ref = c.req.query('ref') ?? 'main';
    const resolved = await resolve(space, ref);
    const line = resolved.manifest.timelines.find((t) => t.name === timeline);
    if (!line) throw new EngineError('E_NOT_FOUND', `timeline ${timeline} is not in ${space}@${ref}`);
    const base = `/hls/${encodeURIComponent(space)}/${encodeURIComponent(ref)}/${encodeURIComponent(timeline)}`;
    return c.json({
      space,
      timeline,
      manifest: multihashToHex(resolved.hash),
      ...(line.genesis !== undefined && { genesis: line.genesis.toString() }),
      tracks: resolved.manifest.tracks
        .filter((t) => t.timeline === timeline)
        .map((t) => ({
          name: t.name,
          kind: t.kind,
          modality: t.modality,
          items: t.index?.count ?? 0,
          ...(t.index && { first: t.index.first.toString(), last: t.index.last.toString() }),
          ...(t.kind === 'stream' && { hls: `${base}/${encodeURIComponent(t.name)}.m3u8` }),
        })),
      playback: { hls: `${base}/master.m3u8` },
    });
  });

  // Time-seek: per stream track, the fragment covering t, from the index alone (no listing, no bytes).
  app.get('/v0/spaces/:space/timelines/:timeline/seek', async (c) => {
    const { space, timeline } = c.req.param();
    const text = c.req.query('t');
    if (text === undefined)
      throw new EngineError('E_BAD_REQUEST', 'seek needs t (ticks, or seconds like 12.5s)');
    let t: bigint;
    try {
      t = parseTimeArg(text);
    } catch (error) {
      throw new EngineError('E_BAD_REQUEST', `t: ${(error as Error).message}`);
    }
    const resolved = await resolve(space, c.req.query('ref') ?? 'main');
    const names = c.req.query('tracks')?.split(',');
    const tracks = resolved.manifest.tracks.filter(
      (tr) => tr.timeline === timeline && tr.kind === 'stream' && (!names || names.includes(tr.name)),
    );
    if (names) for (const name of names) findTrack(resolved.manifest, timeline, name);
    const session = sessionOf(space);
    const hits = await Promise.all(
      tracks.map(async (track) => {
        const entry = await seekEntry(session, track, t);
        return (
          entry && {
            track: track.name,
            tick: entry.tick.toString(),
            duration: entry.duration.toString(),
            offset: (t - entry.tick).toString(),
            url: objectUri(space, entry.object, '.m4s'),
            range: { start: entry.start, end: entry.end },
          }
        );
      }),
    );
    return c.json({ t: t.toString(), tracks: hits.filter((h) => h !== undefined) });
  });

  app.get('/hls/:space/:ref/:timeline/:track/:segment', async (c) => {
    const { space, ref, timeline, track: name, segment } = c.req.param();
    const k = /^(\d{1,6})\.vtt$/.exec(segment);
    if (!k) throw new EngineError('E_NOT_FOUND', `${segment}: not a WebVTT segment`);
    const resolved = await resolve(space, ref);
    const track = findTrack(resolved.manifest, timeline, name);
    if (track.modality !== 'text.cue')
      throw new EngineError('E_NOT_FOUND', `track ${name} is not a caption track`);
    const text = await subtitlesSegment(sessionOf(space), resolved, timeline, track, Number(k[1]));
    return c.body(text, 200, { 'content-type': 'text/vtt; charset=utf-8', 'cache-control': 'max-age=1' });
  });

  app.get('/hls/:space/:ref/:timeline/:file', async (c) => {
    const { space, ref, timeline, file } = c.req.param();
    if (!file.endsWith('.m3u8')) throw new EngineError('E_NOT_FOUND', `${file}: not a playlist`);
    const resolved = await resolve(space, ref);
    // A playlist is a function of the manifest and the path: its ETag says both.
    const etag = `"${multihashToHex(resolved.hash).slice(4, 36)}-${file}"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    const name = decodeURIComponent(file.slice(0, -5));
    const captions = resolved.manifest.tracks.find(
      (t) => t.timeline === timeline && t.name === name && t.modality === 'text.cue',
    );
    const text =
      file === 'master.m3u8'
        ? await master(sessionOf(space), resolved, timeline)
        : captions
          ? await subtitlesPlaylist(resolved.manifest, timeline, captions, space, ref)
          : await media(sessionOf(space), resolved.manifest, timeline, name);
    return c.body(text, 200, {
      'content-type': 'application/vnd.apple.mpegurl',
      'cache-control': 'max-age=1',
      etag,
    });
  });

  app.get('/objects/:space/:hash', async (c) => {
    const { space } = c.req.param();
    const hash = c.req.param('hash').replace(/\.(mp4|m4s|cmfv|cmfa)$/, '');
    if (!MANIFEST_HASH.test(hash))
      throw new EngineError('E_MULTIHASH', `${hash} is not a BLAKE3 multihash in hex`);
    const etag = `"${hash}"`;
    const headers = {
      etag,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    const store = sessionOf(space).store;
    const key = objectKey(space, multihashFromHex(hash));
    const range = c.req.header('range');
    if (!range)
      return c.body((await store.getObject(multihashFromHex(hash))) as Uint8Array<ArrayBuffer>, 200, headers);
    const { size } = await options.store.head(key);
    let wanted: { start: number; end: number };
    try {
      wanted = parseRangeHeader(range, size, key);
    } catch (error) {
      if (error instanceof EngineError && error.code === 'E_RANGE')
        return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
      throw error;
    }
    const bytes = await store.getRange(multihashFromHex(hash), wanted);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 206, {
      ...headers,
      'content-range': `bytes ${wanted.start}-${wanted.end - 1}/${size}`,
    });
  });

  return app;
}

/**
 * The URL of an object's bytes. HLS clients want a media extension on segment URLs (ffmpeg refuses
 * others), so media get one; the origin serves an object under its hash with or without it.
 */
const objectUri = (space: string, mh: Multihash, extension = '') =>
  `/objects/${encodeURIComponent(space)}/${multihashToHex(mh)}${extension}`;

/** The media playlist of one stream track: its fragments as byte ranges of their buckets. */
async function media(session: Session, manifest: Manifest, timeline: string, name: string): Promise<string> {
  const track = findTrack(manifest, timeline, name);
  if (track.kind !== 'stream' || !track.init)
    throw new EngineError(
      'E_NOT_FOUND',
      `track ${timeline}/${name} is not a stream track with a CMAF header`,
    );
  const genesis = manifest.timelines.find((t) => t.name === timeline)?.genesis;
  const space = session.store.space;
  const segments: HlsSegment[] = [];
  for await (const e of trackEntries(session, track)) {
    segments.push({
      uri: objectUri(space, e.object, '.m4s'),
      start: e.start,
      end: e.end,
      duration: ticksToSecondsNumber(e.duration),
      ...(genesis !== undefined &&
        segments.length === 0 && { programDateTime: tickToRfc3339(e.tick, genesis) }),
    });
  }
  return mediaPlaylist(objectUri(space, track.init, '.mp4'), segments);
}

/** One rendition of a RenditionPlaylist (spec 0014 §3). */
interface Rendition {
  track: string;
  codecs: string;
  bandwidth: number;
  average_bandwidth?: number;
  width?: number;
  height?: number;
  frame_rate?: string;
}

/** The multivariant playlist: the RenditionPlaylist's video rungs, audio as an EXT-X-MEDIA group. */
async function master(session: Session, resolved: Resolved, timeline: string): Promise<string> {
  const tracks = resolved.manifest.tracks.filter((t) => t.timeline === timeline && t.kind === 'stream');
  if (tracks.length === 0) throw new EngineError('E_NOT_FOUND', `timeline ${timeline} has no stream tracks`);
  const sets = await renditionSets(session, resolved, timeline, tracks);
  const videos = sets.filter((s) => s.kind === 'video').flatMap((s) => s.tracks);
  const audios = sets.filter((s) => s.kind === 'audio').flatMap((s) => s.tracks);
  const uri = (r: Rendition) => `${encodeURIComponent(r.track)}.m3u8`;
  const audio: HlsMedia[] = audios.map((a, i) => ({
    type: 'AUDIO',
    group: 'audio',
    name: a.track,
    uri: uri(a),
    default: i === 0,
  }));
  const peakAudio = Math.max(0, ...audios.map((a) => a.bandwidth));
  const variants: HlsVariant[] =
    videos.length > 0
      ? videos.map((v) => ({
          uri: uri(v),
          bandwidth: v.bandwidth + peakAudio,
          ...(v.average_bandwidth && {
            averageBandwidth: v.average_bandwidth + (audios[0]?.average_bandwidth ?? 0),
          }),
          codecs: [v.codecs, ...(audios[0] ? [audios[0].codecs] : [])].join(','),
          ...(v.width && v.height && { resolution: { width: v.width, height: v.height } }),
          ...(v.frame_rate && { frameRate: fraction(v.frame_rate) }),
          ...(audios.length > 0 && { audio: 'audio' }),
        }))
      : audios.slice(0, 1).map((a) => ({ uri: uri(a), bandwidth: a.bandwidth, codecs: a.codecs }));
  const subtitles: HlsMedia[] = resolved.manifest.tracks
    .filter((t) => t.timeline === timeline && t.modality === 'text.cue')
    .map((t) => ({
      type: 'SUBTITLES',
      group: 'subs',
      name: t.name,
      uri: uri({ track: t.name } as Rendition),
      default: false, // subtitles are offered, not forced
    }));
  const withSubs = subtitles.length > 0 ? variants.map((v) => ({ ...v, subtitles: 'subs' })) : variants;
  return multivariantPlaylist(withSubs, [...(videos.length > 0 ? audio : []), ...subtitles]);
}

/** Seconds of the media timeline per WebVTT segment of a subtitles rendition. */
const VTT_SEGMENT_SECONDS = 60;

/**
 * Where the media timeline's 0 sits in ticks: the first fragment of the timeline's first stream track
 * (the packager starts every track's media time at its first fragment, 0007 §5.2).
 */
function mediaZero(manifest: Manifest, timeline: string): bigint {
  const streams = manifest.tracks.filter((t) => t.timeline === timeline && t.kind === 'stream' && t.index);
  const video = streams.find((t) => t.modality.startsWith('video.')) ?? streams[0];
  return video?.index?.first ?? 0n;
}

/** The subtitles playlist of a caption track: one WebVTT segment per minute of the timeline. */
async function subtitlesPlaylist(
  manifest: Manifest,
  timeline: string,
  track: Track,
  space: string,
  ref: string,
): Promise<string> {
  const zero = mediaZero(manifest, timeline);
  const streams = manifest.tracks.filter((t) => t.timeline === timeline && t.kind === 'stream' && t.index);
  let end = track.index?.last ?? 0n;
  for (const t of streams) if (t.index!.last > end) end = t.index!.last;
  const seconds = Math.max(1, ticksToSecondsNumber(end > zero ? end - zero : 0n) + 1);
  const count = Math.ceil(seconds / VTT_SEGMENT_SECONDS);
  const base = `/hls/${encodeURIComponent(space)}/${encodeURIComponent(ref)}/${encodeURIComponent(timeline)}`;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${VTT_SEGMENT_SECONDS}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  for (let k = 0; k < count; k++) {
    const length = Math.min(VTT_SEGMENT_SECONDS, seconds - k * VTT_SEGMENT_SECONDS);
    lines.push(`#EXTINF:${length.toFixed(6)},`, `${base}/${encodeURIComponent(track.name)}/${k}.vtt`);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
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

/** The timeline's RenditionPlaylist, or one set per kind made from the tracks' own fields. */
async function renditionSets(
  session: Session,
  resolved: Resolved,
  timeline: string,
  tracks: readonly Track[],
): Promise<{ kind: string; tracks: Rendition[] }[]> {
  if (resolved.manifest.tracks.some((t) => t.timeline === timeline && t.name === 'renditions')) {
    const item = await read(session, resolved, { timeline, track: 'renditions', tick: 0n });
    const sets = (item?.payload as { sets?: { kind: string; tracks: Rendition[] }[] } | undefined)?.sets;
    if (sets) return sets;
  }
  const of = (kind: string) =>
    tracks
      .filter((t) => t.modality.startsWith(`${kind}.`))
      .map((t) => ({
        track: t.name,
        codecs: t.codecs ?? '',
        bandwidth: Number(t.attrs?.bandwidth ?? 1_000_000),
        ...(typeof t.attrs?.width === 'number' && { width: t.attrs.width, height: t.attrs.height as number }),
      }));
  return [
    { kind: 'video', tracks: of('video') },
    { kind: 'audio', tracks: of('audio') },
  ];
}

const fraction = (text: string) => {
  const [num, den] = text.split('/').map(Number) as [number, number];
  return den ? num / den : num;
};
