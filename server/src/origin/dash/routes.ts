import {
  EngineError,
  MAX_TICK,
  multihashToHex,
  type Rate,
  rate,
  type Tick,
  type Track,
  tickFromHex,
  ticksToSecondsNumber,
  ticksToUnits,
  tickToHex,
  unitsToTicks,
} from '@dreamdb/engine';
import { type IndexEntry, range, seekEntry } from '@dreamdb/engine/query';
import { findTrack, type Resolved, type Session } from '@dreamdb/engine/store';
import { type FragmentInfo, type InitInfo, parseFragment, parseInit } from '@dreamdb/packager';
import { Hono } from 'hono';
import type { OriginContext } from '../context.js';
import { cacheOf, playlistEtag } from '../http/caching.js';
import { cachedText } from '../http/text-cache.js';
import { announcedEvents, clipEntries, payloadJson, thumbnailInfo } from '../playback/clip.js';
import {
  isAnnouncedEvent,
  isThumbnails,
  type Rendition,
  type RenditionSet,
  renditionSets,
} from '../playback/renditions.js';
import { type Selection, selectedTracks, selection, selectionQuery } from '../playback/selection.js';
import { objectUri, objectUris, playbackBase } from '../playback/urls.js';
import { type VttCue, webvtt } from '../playback/webvtt.js';
import {
  type DashAdaptationSet,
  type DashEventStream,
  type DashRepresentation,
  type DashSegment,
  mpd,
} from './mpd.js';

const MPD_TYPE = 'application/dash+xml';
/** The scheme of event streams made from DreamDB event tracks; each stream's value is the track name. */
export const EVENT_SCHEME = 'urn:dreamdb:event:2026';
/** Event streams and thumbnails count in ticks: exact, whatever the item times. */
const TICKS_PER_SECOND = 1_000_000_000n;
/** Entries kept per in-memory cache (headers and first-fragment times: a few hundred bytes each). */
const CACHE_ENTRIES = 4096;

/** Where a stream track's media time 0 sits in ticks, and the track's timescale (from its CMAF header). */
interface Clock {
  readonly info: InitInfo;
  readonly rate: Rate;
  /** The tick of media time 0: a fragment's tick is start + its tfdt in ticks (0007 §5.2). */
  readonly start: Tick;
  /** The tick its first sample is presented at: where its media begins. */
  readonly first: Tick;
  /**
   * Ticks from a sample's decode to its presentation (the first sample's composition offset: the B-frame
   * delay): the track presents [first, end of its last fragment + delay).
   */
  readonly delay: Tick;
}

/** A bounded map of promises: objects are immutable, so what is derived from their bytes never goes stale. */
class Memo<T> {
  readonly #entries = new Map<string, Promise<T>>();

  get(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.#entries.get(key);
    if (!value) {
      if (this.#entries.size >= CACHE_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
      value = make();
      // A failed read is not remembered: the next request tries again.
      value.catch(() => this.#entries.delete(key));
      this.#entries.set(key, value);
    }
    return value;
  }
}

/**
 * DASH routes under /dash/:space/:ref/:timeline: `manifest.mpd` (a static MPD: SegmentList byte ranges
 * into buckets, timed by the fragments' own tfdt) and `{track}.vtt` (a caption track as one WebVTT file on
 * the media timeline). `?from=&to=&tracks=` clip and select the MPD, as for HLS.
 */
export function dashRoutes(origin: OriginContext): Hono {
  const app = new Hono();
  const inits = new Memo<InitInfo>();
  const firstFragments = new Memo<FragmentInfo>();

  /** A stream track's clock: its header's timescale and where its first fragment's tfdt puts media time 0. */
  const clockOf = async (session: Session, track: Track): Promise<Clock | undefined> => {
    if (!track.init || !track.index) return undefined;
    const init = track.init;
    const info = await inits.get(multihashToHex(init), async () =>
      parseInit(await session.store.getObject(init)),
    );
    const first = await seekEntry(session, track, track.index.first);
    if (!first) return undefined;
    const key = `${multihashToHex(first.object)}:${first.start}-${first.end}`;
    const fragment = await firstFragments.get(key, async () =>
      parseFragment(await session.store.getRange(first.object, first), info),
    );
    const r = rate(info.timescale);
    // The first sample is presented its composition offset after it is decoded (B-frame delay).
    const delay = unitsToTicks(BigInt(fragment.firstCompositionOffset), r);
    return {
      info,
      rate: r,
      start: first.tick - unitsToTicks(BigInt(fragment.baseMediaDecodeTime), r),
      first: first.tick + delay,
      delay,
    };
  };

  app.get('/:space/:ref/:timeline/:file', async (c) => {
    const { space, ref, timeline, file } = c.req.param();
    if (file !== 'manifest.mpd') throw new EngineError('E_NOT_FOUND', `${file}: not an MPD`);
    const { resolved } = await origin.resolveTimeline(space, ref, timeline);
    const select = selection((k) => c.req.query(k), resolved.manifest, timeline);
    // The MPD is a function of the manifest and the URL.
    const etag = playlistEtag(resolved, `dash/${file}${selectionQuery(select)}`);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    const base = playbackBase('/hls', space, ref, timeline);
    const text = await cachedText(origin.texts, etag, c.req.path, () =>
      presentation(origin.session(space), resolved, timeline, select, base, clockOf),
    );
    return c.body(text, 200, { 'cache-control': cacheOf(ref), etag, 'content-type': MPD_TYPE });
  });

  app.get('/:space/:ref/:timeline/:track/:file', async (c) => {
    const { space, ref, timeline, track: name, file } = c.req.param();
    const { resolved } = await origin.resolveTimeline(space, ref, timeline);
    const track = findTrack(resolved.manifest, timeline, name);
    if (track.modality !== 'text.cue')
      throw new EngineError('E_NOT_FOUND', `track ${timeline}/${track.name} is not a caption track`);
    const hex = /^([0-9a-f]{16})\.vtt$/.exec(file)?.[1];
    if (!hex)
      throw new EngineError('E_NOT_FOUND', `${file}: not a WebVTT file named by a tick in 16 hex digits`);
    // The file is a function of the manifest and its path.
    const etag = playlistEtag(resolved, `dash/${track.name}/${file}`);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    const text = await cachedText(origin.texts, etag, c.req.path, () =>
      captionsFile(origin.session(space), resolved, track, tickFromHex(hex)),
    );
    return c.body(text, 200, {
      'cache-control': cacheOf(ref),
      etag,
      'content-type': 'text/vtt; charset=utf-8',
    });
  });

  return app;
}

type ClockOf = (session: Session, track: Track) => Promise<Clock | undefined>;

/** A stream track the MPD presents: its switching set, its clock, and its fragments in the clip. */
interface Stream {
  readonly set: RenditionSet;
  readonly rendition: Rendition;
  readonly track: Track;
  readonly clock: Clock;
  readonly entries: readonly IndexEntry[];
}

/** The selected stream tracks with at least one fragment in the clip, by switching set. */
async function selectedStreams(
  session: Session,
  resolved: Resolved,
  timeline: string,
  select: Selection,
  clockOf: ClockOf,
): Promise<Stream[]> {
  const tracks = selectedTracks(resolved.manifest, timeline, select);
  const sets = await renditionSets(session, resolved, timeline, tracks);
  const streams = await Promise.all(
    sets.flatMap((set) =>
      set.tracks.map(async (rendition): Promise<Stream | undefined> => {
        const track = findTrack(resolved.manifest, timeline, rendition.track);
        const clock = await clockOf(session, track);
        const entries = clock ? await clipEntries(session, track, select) : [];
        return clock && entries.length > 0 ? { set, rendition, track, clock, entries } : undefined;
      }),
    ),
  );
  return streams.filter((s) => s !== undefined);
}

/**
 * The tick at the period's start: the clip's `from`, or later if a stream track presents its first sample later (a
 * player would meet a gap at the start and jump it on its own time, over a seek made meanwhile; and a
 * presentationTimeOffset, which is at least the track's media time 0, cannot be negative). Each
 * representation's presentationTimeOffset is this tick in its own media time, so all tracks keep the
 * timing they have in ticks.
 */
function periodZero(select: Selection, streams: readonly Stream[]): Tick {
  let zero = select.from ?? 0n;
  for (const s of streams) if (s.clock.first > zero) zero = s.clock.first;
  return zero;
}

/** Where an item [tick, tick + duration) lands on the period: from its start, clamped at 0; undefined if it ends before. */
function onPeriod(tick: Tick, duration: Tick, zero: Tick): { at: Tick; length: Tick } | undefined {
  const end = tick + duration;
  if (duration > 0n && end <= zero) return undefined;
  const at = tick > zero ? tick - zero : 0n;
  return { at, length: duration > 0n ? end - zero - at : 0n };
}

/** "25/1" as "25"; other fractions as they are (DASH's FrameRateType takes both). */
const dashFrameRate = (text: string | undefined) => text?.replace(/\/1$/, '');

/** The MPD of a timeline's selection. */
async function presentation(
  session: Session,
  resolved: Resolved,
  timeline: string,
  select: Selection,
  hlsBase: string,
  clockOf: ClockOf,
): Promise<string> {
  const streams = await selectedStreams(session, resolved, timeline, select, clockOf);
  if (streams.length === 0)
    throw new EngineError('E_NOT_FOUND', `timeline ${timeline} has no stream fragments in the selection`);
  const zero = periodZero(select, streams);
  const space = session.store.space;
  let end = 0n;
  let longest = 0n;
  for (const s of streams) {
    // The last fragment's samples are presented a composition offset after their decode times.
    const last = s.entries[s.entries.length - 1]!;
    const presented = last.tick + last.duration + s.clock.delay;
    if (presented > end) end = presented;
    for (const e of s.entries) if (e.duration > longest) longest = e.duration;
  }
  if (select.to !== undefined && select.to < end) end = select.to;

  const media: DashAdaptationSet[] = [];
  for (const set of new Set(streams.map((s) => s.set))) {
    const kind = set.kind === 'video' || set.kind === 'audio' ? set.kind : undefined;
    if (!kind) continue;
    media.push({
      contentType: kind,
      mimeType: `${kind}/mp4`,
      aligned: true,
      representations: streams.filter((s) => s.set === set).map((s) => streamRepresentation(s, zero, space)),
    });
  }
  const tracks = selectedTracks(resolved.manifest, timeline, select);
  const text = tracks.filter((t) => t.modality === 'text.cue').map((t) => captionsSet(t, zero));
  const images: DashAdaptationSet[] = [];
  for (const t of tracks.filter((t) => isThumbnails(t) && t.index)) {
    const set = await thumbnailsSet(session, resolved, t, select, zero, hlsBase);
    if (set) images.push(set);
  }
  return mpd({
    duration: ticksToSecondsNumber(end - zero),
    minBufferTime: Math.max(1, ticksToSecondsNumber(longest)),
    periodTick: zero,
    eventStreams: await eventStreams(session, resolved, timeline, tracks, select, zero),
    adaptationSets: [...media, ...text, ...images],
  });
}

/** A stream track as a Representation: S@t and S@d are its fragments' tfdt and durations, exactly. */
function streamRepresentation(s: Stream, zero: Tick, space: string): DashRepresentation {
  const { clock, track, rendition } = s;
  // tick = start + ticks(tfdt), rounding up; ticks back to units rounding down inverts it exactly.
  const units = (tick: Tick) => ticksToUnits(tick - clock.start, clock.rate);
  const segmentUri = objectUris(space, '.m4s');
  const segments: DashSegment[] = s.entries.map((e) => {
    const t = units(e.tick);
    return {
      t,
      d: units(e.tick + e.duration) - t,
      uri: segmentUri(e.object),
      range: { start: e.start, end: e.end },
    };
  });
  const width = rendition.width ?? clock.info.width;
  const height = rendition.height ?? clock.info.height;
  return {
    id: track.name,
    bandwidth: rendition.bandwidth,
    codecs: rendition.codecs || clock.info.codec,
    ...(clock.info.kind === 'video' && width && height && { width, height }),
    ...(rendition.frame_rate && { frameRate: dashFrameRate(rendition.frame_rate) }),
    ...(clock.info.sampleRate !== undefined && {
      audioSamplingRate: clock.info.sampleRate,
      channels: clock.info.channels,
    }),
    timescale: BigInt(clock.info.timescale),
    presentationTimeOffset: units(zero),
    initialization: objectUri(space, track.init!, '.mp4'),
    segments,
  };
}

/**
 * A caption track as a text AdaptationSet: one WebVTT file of the whole track timed from the period's start
 * (DASH-IF IOP: a side-loaded WebVTT file is on the period's timeline). No SegmentBase to shift it: dash.js
 * reads a SegmentBase as the promise of a segment index and asks the text file for one.
 */
function captionsSet(track: Track, zero: Tick): DashAdaptationSet {
  const lang = track.attrs?.lang ?? track.attrs?.language;
  return {
    contentType: 'text',
    mimeType: 'text/vtt',
    ...(typeof lang === 'string' && { lang }),
    role: { schemeIdUri: 'urn:mpeg:dash:role:2011', value: 'subtitle' },
    representations: [
      {
        id: track.name,
        bandwidth: 256,
        // Relative to the MPD's URL, the period's tick in the path and no query: ffmpeg rewrites BaseURL
        // text and breaks on '&'.
        baseUrl: `${encodeURIComponent(track.name)}/${tickToHex(zero)}.vtt`,
      },
    ],
  };
}

/** A caption track's cues as one WebVTT file timed from tick `zero` (cues ending before it left out). */
async function captionsFile(session: Session, resolved: Resolved, track: Track, zero: Tick): Promise<string> {
  const page = await range(session, resolved, {
    timeline: track.timeline,
    tracks: [track.name],
    t0: 0n,
    t1: MAX_TICK,
  });
  const cues: VttCue[] = [];
  for (const item of page.items) {
    const placed = onPeriod(item.tick, item.duration, zero);
    if (!placed) continue;
    const start = ticksToSecondsNumber(placed.at);
    const text = String((item.payload as { text?: unknown } | undefined)?.text ?? '');
    cues.push({ start, end: start + ticksToSecondsNumber(placed.length), text });
  }
  // No X-TIMESTAMP-MAP: it ties HLS cues to MPEG-TS time, not a DASH notion.
  return webvtt(cues);
}

/** A thumbnail track as an image AdaptationSet (DASH-IF thumbnails, 1x1 tiles): one JPEG per thumbnail. */
async function thumbnailsSet(
  session: Session,
  resolved: Resolved,
  track: Track,
  select: Selection,
  zero: Tick,
  hlsBase: string,
): Promise<DashAdaptationSet | undefined> {
  const entries = await clipEntries(session, track, select);
  if (entries.length === 0) return undefined;
  const { width, height, bandwidth } = await thumbnailInfo(session, resolved, track);
  return {
    contentType: 'image',
    mimeType: 'image/jpeg',
    essentialProperty: { schemeIdUri: 'http://dashif.org/thumbnail_tile', value: '1x1' },
    representations: [
      {
        id: track.name,
        bandwidth,
        ...(width > 0 && height > 0 && { width, height }),
        // Thumbnails count in ticks: S@t is the item's tick, the offset the period's.
        timescale: TICKS_PER_SECOND,
        presentationTimeOffset: zero,
        // The HLS routes serve each thumbnail as a JPEG; the DASH one names the same URLs.
        segments: entries.map((e) => ({
          t: e.tick,
          d: e.duration,
          uri: `${hlsBase}/${encodeURIComponent(track.name)}/${e.tick}.jpg`,
        })),
      },
    ],
  };
}

/** One EventStream per selected announced event track: its items in the clip (at most MAX_ANNOUNCED). */
async function eventStreams(
  session: Session,
  resolved: Resolved,
  timeline: string,
  tracks: readonly Track[],
  select: Selection,
  zero: Tick,
): Promise<DashEventStream[]> {
  const announced = tracks.filter((t) => isAnnouncedEvent(t) && t.index);
  const items = await announcedEvents(session, resolved, timeline, announced, select);
  return announced.map((t) => {
    const events = items
      .filter((item) => item.track === t.name)
      .flatMap((item) => {
        const placed = onPeriod(item.tick, item.duration, zero);
        return placed ? [{ item, placed }] : [];
      })
      .map(({ item, placed }, id) => ({
        id,
        presentationTime: placed.at,
        duration: placed.length,
        message: payloadJson(item.payload),
      }));
    return { schemeIdUri: EVENT_SCHEME, value: t.name, timescale: TICKS_PER_SECOND, events };
  });
}
