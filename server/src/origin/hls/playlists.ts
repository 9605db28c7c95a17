/** HLS (RFC 8216) playlist text, built from plain descriptions: no engine, no I/O. */
import { type VttCue, webvtt } from '../playback/webvtt.js';

/** One media segment: a byte range of an object. */
export interface HlsSegment {
  readonly uri: string;
  readonly start: number;
  readonly end: number;
  /** Seconds. */
  readonly duration: number;
  /** Wall-clock time of the segment's start (RFC 3339), when the timeline has a genesis. */
  readonly programDateTime?: string;
  /**
   * A stretch with no media (deleted, spec 0020 §5): written with EXT-X-GAP, which players skip without
   * loading, and the next real segment is marked EXT-X-DISCONTINUITY for players that do not know GAP.
   */
  readonly gap?: boolean;
}

/** An event shown on the timeline (EXT-X-DATERANGE, RFC 8216 §4.3.2.7). */
export interface HlsDateRange {
  /** Unique within the playlist. */
  readonly id: string;
  readonly class: string;
  /** RFC 3339. */
  readonly startDate: string;
  /** Seconds; left out for an instant. */
  readonly duration?: number;
  /** Client attributes (X-...), written as quoted strings. */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * The lines a VOD media playlist starts with. EXT-X-TARGETDURATION is the largest EXTINF rounded to the
 * nearest integer, which no EXTINF may exceed (RFC 8216 §4.3.3.1); found by a loop, not Math.max(...): a
 * long timeline has more segments than a call has arguments.
 */
function vodHead(segments: readonly { readonly duration: number }[]): string[] {
  let target = 1;
  for (const s of segments) target = Math.max(target, Math.round(s.duration));
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
}

/** A quoted-string attribute value: no double quote, CR or LF may appear in it (RFC 8216 §4.2). */
export const quoted = (text: string) => `"${text.replace(/"/g, "'").replace(/[\r\n]/g, ' ')}"`;

const dateRangeTag = (d: HlsDateRange) =>
  [
    `#EXT-X-DATERANGE:ID=${quoted(d.id)}`,
    `CLASS=${quoted(d.class)}`,
    `START-DATE=${quoted(d.startDate)}`,
    ...(d.duration !== undefined ? [`DURATION=${d.duration.toFixed(3)}`] : []),
    ...Object.entries(d.attributes).map(([k, v]) => `${k}=${quoted(v)}`),
  ].join(',');

/**
 * A VOD media playlist of fMP4 segments sharing one CMAF header; date ranges need a program date time,
 * so they are written only when the first segment has one.
 */
export function mediaPlaylist(
  init: string,
  segments: readonly HlsSegment[],
  dateRanges: readonly HlsDateRange[] = [],
): string {
  const lines = [...vodHead(segments), '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-MAP:URI="${init}"`];
  for (const [i, s] of segments.entries()) {
    if (i === 0 && s.programDateTime) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.programDateTime}`);
      for (const d of dateRanges) lines.push(dateRangeTag(d));
    }
    if (s.gap) {
      lines.push('#EXT-X-GAP', `#EXTINF:${s.duration.toFixed(6)},`, s.uri);
      continue;
    }
    if (i > 0 && segments[i - 1]!.gap) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`, `#EXT-X-BYTERANGE:${s.end - s.start}@${s.start}`, s.uri);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** A subtitles playlist: one WebVTT file per segment (RFC 8216 §3.5). */
export function subtitlesPlaylist(files: readonly HlsFile[]): string {
  const lines = vodHead(files);
  for (const f of files) lines.push(`#EXTINF:${f.duration.toFixed(6)},`, f.uri);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** One variant (a video rung, or audio alone) of a multivariant playlist. */
export interface HlsVariant {
  readonly uri: string;
  readonly bandwidth: number;
  readonly averageBandwidth?: number;
  readonly codecs: string;
  readonly resolution?: { readonly width: number; readonly height: number };
  readonly frameRate?: number;
  /** The audio group it plays with. */
  readonly audio?: string;
  /** The subtitles group it plays with. */
  readonly subtitles?: string;
}

/** An alternative rendition (EXT-X-MEDIA), e.g. an audio track. */
export interface HlsMedia {
  readonly type: 'AUDIO' | 'SUBTITLES';
  readonly group: string;
  readonly name: string;
  readonly uri: string;
  readonly default: boolean;
}

/** An image (thumbnail) playlist of a multivariant playlist (EXT-X-IMAGE-STREAM-INF). */
export interface HlsImageStream {
  readonly uri: string;
  readonly bandwidth: number;
  readonly resolution: { readonly width: number; readonly height: number };
}

/** A multivariant playlist: one EXT-X-STREAM-INF per variant, alternatives as EXT-X-MEDIA. */
export function multivariantPlaylist(
  variants: readonly HlsVariant[],
  media: readonly HlsMedia[] = [],
  images: readonly HlsImageStream[] = [],
): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const m of media) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=${m.type},GROUP-ID="${m.group}",NAME="${m.name}",DEFAULT=${m.default ? 'YES' : 'NO'},AUTOSELECT=YES,URI="${m.uri}"`,
    );
  }
  for (const v of variants) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth}`,
      ...(v.averageBandwidth ? [`AVERAGE-BANDWIDTH=${v.averageBandwidth}`] : []),
      `CODECS="${v.codecs}"`,
      ...(v.resolution ? [`RESOLUTION=${v.resolution.width}x${v.resolution.height}`] : []),
      ...(v.frameRate ? [`FRAME-RATE=${v.frameRate.toFixed(3)}`] : []),
      ...(v.audio ? [`AUDIO="${v.audio}"`] : []),
      ...(v.subtitles ? [`SUBTITLES="${v.subtitles}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  for (const i of images) {
    lines.push(
      `#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=${i.bandwidth},RESOLUTION=${i.resolution.width}x${i.resolution.height},CODECS="jpeg",URI="${i.uri}"`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * A WebVTT segment of a subtitles rendition (RFC 8216 §3.5): cue times on the media timeline, which
 * X-TIMESTAMP-MAP ties to media time 0.
 */
export const webvttSegment = (cues: readonly VttCue[]): string =>
  webvtt(cues, ['X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000']);

/** A segment that is a whole file (a JPEG, a WebVTT file) shown for `duration` seconds. */
export interface HlsFile {
  readonly uri: string;
  readonly duration: number;
}

/**
 * An image media playlist (the HLS image playlist extension Apple and Roku players read): one JPEG per
 * segment, each a 1x1 tile covering its duration.
 */
export function imagePlaylist(
  images: readonly HlsFile[],
  resolution: { readonly width: number; readonly height: number },
): string {
  const lines = [...vodHead(images), '#EXT-X-IMAGES-ONLY'];
  for (const i of images) {
    lines.push(
      `#EXT-X-TILES:RESOLUTION=${resolution.width}x${resolution.height},LAYOUT=1x1,DURATION=${i.duration.toFixed(3)}`,
      `#EXTINF:${i.duration.toFixed(6)},`,
      i.uri,
    );
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}
