/** HLS (RFC 8216) playlist text, built from plain descriptions: no engine, no I/O. */

/** One media segment: a byte range of an object. */
export interface HlsSegment {
  readonly uri: string;
  readonly start: number;
  readonly end: number;
  /** Seconds. */
  readonly duration: number;
  /** Wall-clock time of the segment's start (RFC 3339), when the timeline has a genesis. */
  readonly programDateTime?: string;
}

/** A VOD media playlist of fMP4 segments sharing one CMAF header. */
export function mediaPlaylist(init: string, segments: readonly HlsSegment[]): string {
  // EXTINF rounded to the nearest integer must not exceed the target duration (RFC 8216 §4.3.3.1).
  const target = Math.max(1, ...segments.map((s) => Math.round(s.duration)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${init}"`,
  ];
  for (const [i, s] of segments.entries()) {
    if (i === 0 && s.programDateTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.programDateTime}`);
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`, `#EXT-X-BYTERANGE:${s.end - s.start}@${s.start}`, s.uri);
  }
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
}

/** An alternative rendition (EXT-X-MEDIA), e.g. an audio track. */
export interface HlsMedia {
  readonly type: 'AUDIO' | 'SUBTITLES';
  readonly group: string;
  readonly name: string;
  readonly uri: string;
  readonly default: boolean;
}

/** A multivariant playlist: one EXT-X-STREAM-INF per variant, alternatives as EXT-X-MEDIA. */
export function multivariantPlaylist(
  variants: readonly HlsVariant[],
  media: readonly HlsMedia[] = [],
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
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  lines.push('');
  return lines.join('\n');
}
