/** DASH (ISO/IEC 23009-1) MPD text, built from plain descriptions: no engine, no I/O. */

/** The MPD profile: main allows SegmentList with byte ranges into shared objects (live/on-demand do not). */
export const DASH_PROFILE = 'urn:mpeg:dash:profile:isoff-main:2011';
/** The namespace of DreamDB's own attributes (the tick at the period's start). */
export const DREAMDB_NS = 'urn:dreamdb:2026';

/** One media segment: its start and duration in the representation's timescale, and where its bytes are. */
export interface DashSegment {
  /** Media time of the segment's start (for CMAF fragments: the tfdt). */
  readonly t: bigint;
  readonly d: bigint;
  readonly uri: string;
  /** A byte range [start, end) of the object at `uri`; the whole object when left out. */
  readonly range?: { readonly start: number; readonly end: number };
}

/** One Representation: segments (SegmentList + SegmentTimeline) or a single file (BaseURL). */
export interface DashRepresentation {
  readonly id: string;
  readonly bandwidth: number;
  readonly codecs?: string;
  readonly width?: number;
  readonly height?: number;
  /** A frame rate as DASH writes it: "25" or "30000/1001". */
  readonly frameRate?: string;
  readonly audioSamplingRate?: number;
  readonly channels?: number;
  /** Units per second of the segments' t and d. */
  readonly timescale?: bigint;
  /** Media time presented at the period's start. */
  readonly presentationTimeOffset?: bigint;
  /** The initialization segment (CMAF header) URL. */
  readonly initialization?: string;
  readonly segments?: readonly DashSegment[];
  /** A whole-file representation (a sidecar WebVTT timed from the period's start): the file's URL. */
  readonly baseUrl?: string;
}

/** A descriptor element (EssentialProperty, Role…): a scheme and a value. */
export interface DashDescriptor {
  readonly schemeIdUri: string;
  readonly value: string;
}

/** An AdaptationSet: representations a player may switch between. */
export interface DashAdaptationSet {
  readonly contentType: 'video' | 'audio' | 'text' | 'image';
  readonly mimeType: string;
  readonly lang?: string;
  /** Segments start at the same times in every representation (switch at any boundary). */
  readonly aligned?: boolean;
  readonly essentialProperty?: DashDescriptor;
  readonly role?: DashDescriptor;
  readonly representations: readonly DashRepresentation[];
}

/** One event of an EventStream: times in the stream's timescale from the period's start. */
export interface DashEvent {
  readonly id: number;
  readonly presentationTime: bigint;
  readonly duration: bigint;
  /** The message, written as the element's text. */
  readonly message: string;
}

/** An EventStream: the events of one scheme and value in the period. */
export interface DashEventStream {
  readonly schemeIdUri: string;
  readonly value: string;
  readonly timescale: bigint;
  readonly events: readonly DashEvent[];
}

/** A static, single-period presentation. */
export interface DashPresentation {
  /** Seconds of the presentation. */
  readonly duration: number;
  /** Seconds a player buffers before it starts (at least the longest segment). */
  readonly minBufferTime: number;
  /** The tick at the period's start, written as dreamdb:tick so clients can map period time to ticks. */
  readonly periodTick?: bigint;
  readonly eventStreams?: readonly DashEventStream[];
  readonly adaptationSets: readonly DashAdaptationSet[];
}

/** Characters XML 1.0 does not allow anywhere (control characters other than tab, LF, CR; U+FFFE/F). */
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text escaped for an XML attribute value; characters XML cannot carry are dropped. */
export const xmlEscape = (text: string) =>
  text.replace(XML_INVALID, '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** Text escaped for element content: quotes may stay (JSON messages stay readable). */
export const xmlText = (text: string) => text.replace(XML_INVALID, '').replace(/[&<>]/g, (c) => ENTITIES[c]!);

/** An xs:duration of seconds, to the millisecond ("PT6.016S"). */
export const isoDuration = (seconds: number) => `PT${(Math.round(seconds * 1000) / 1000).toFixed(3)}S`;

/** Attributes written as ` name="value"`, skipping undefined ones. */
const attrs = (pairs: Record<string, string | number | bigint | undefined>) =>
  Object.entries(pairs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

/**
 * The S elements of a segment list: one per segment, each with its @t, never a run folded into @r. In a
 * SegmentList the n-th segment is the n-th SegmentURL (ISO/IEC 23009-1 5.3.9.3), but dash.js (5.2) pairs
 * SegmentURLs with S elements, so with @r every repeat of a run would fetch the run's first fragment.
 */
export function segmentTimeline(segments: readonly DashSegment[]): string[] {
  return segments.map((s) => `<S${attrs({ t: s.t, d: s.d })}/>`);
}

function representation(r: DashRepresentation, indent: string): string[] {
  const open = `${indent}<Representation${attrs({
    id: r.id,
    bandwidth: r.bandwidth,
    codecs: r.codecs,
    width: r.width,
    height: r.height,
    frameRate: r.frameRate,
    audioSamplingRate: r.audioSamplingRate,
  })}>`;
  const lines = [open];
  const inner = `${indent}  `;
  if (r.channels !== undefined)
    lines.push(
      `${inner}<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${r.channels}"/>`,
    );
  if (r.baseUrl !== undefined) lines.push(`${inner}<BaseURL>${xmlText(r.baseUrl)}</BaseURL>`);
  if (r.segments) {
    lines.push(
      `${inner}<SegmentList${attrs({ timescale: r.timescale, presentationTimeOffset: r.presentationTimeOffset })}>`,
    );
    if (r.initialization !== undefined)
      lines.push(`${inner}  <Initialization${attrs({ sourceURL: r.initialization })}/>`);
    lines.push(`${inner}  <SegmentTimeline>`);
    for (const s of segmentTimeline(r.segments)) lines.push(`${inner}    ${s}`);
    lines.push(`${inner}  </SegmentTimeline>`);
    for (const s of r.segments) {
      // mediaRange is inclusive at both ends, like an HTTP Range.
      const range = s.range && `${s.range.start}-${s.range.end - 1}`;
      lines.push(`${inner}  <SegmentURL${attrs({ media: s.uri, mediaRange: range })}/>`);
    }
    lines.push(`${inner}</SegmentList>`);
  }
  lines.push(`${indent}</Representation>`);
  return lines;
}

function adaptationSet(a: DashAdaptationSet, id: number): string[] {
  const widths = a.representations.map((r) => r.width ?? 0);
  const heights = a.representations.map((r) => r.height ?? 0);
  const lines = [
    `    <AdaptationSet${attrs({
      id,
      contentType: a.contentType,
      mimeType: a.mimeType,
      lang: a.lang,
      segmentAlignment: a.aligned ? 'true' : undefined,
      startWithSAP: a.aligned ? 1 : undefined,
      maxWidth: a.contentType === 'video' && Math.max(...widths) > 0 ? Math.max(...widths) : undefined,
      maxHeight: a.contentType === 'video' && Math.max(...heights) > 0 ? Math.max(...heights) : undefined,
    })}>`,
  ];
  // Schema order: EssentialProperty (a RepresentationBase element) before Role.
  if (a.essentialProperty) lines.push(`      <EssentialProperty${attrs({ ...a.essentialProperty })}/>`);
  if (a.role) lines.push(`      <Role${attrs({ ...a.role })}/>`);
  for (const r of a.representations) lines.push(...representation(r, '      '));
  lines.push('    </AdaptationSet>');
  return lines;
}

function eventStream(s: DashEventStream): string[] {
  const lines = [
    `    <EventStream${attrs({ schemeIdUri: s.schemeIdUri, value: s.value, timescale: s.timescale })}>`,
  ];
  for (const e of s.events) {
    const open = `<Event${attrs({ presentationTime: e.presentationTime, duration: e.duration, id: e.id })}>`;
    lines.push(`      ${open}${xmlText(e.message)}</Event>`);
  }
  lines.push('    </EventStream>');
  return lines;
}

/** A static MPD of one period: event streams first, then the adaptation sets (the schema's order). */
export function mpd(p: DashPresentation): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:dreamdb="${DREAMDB_NS}"${attrs({
      profiles: DASH_PROFILE,
      type: 'static',
      mediaPresentationDuration: isoDuration(p.duration),
      minBufferTime: isoDuration(p.minBufferTime),
    })}>`,
    `  <Period${attrs({ id: '0', start: 'PT0S', 'dreamdb:tick': p.periodTick })}>`,
  ];
  for (const s of p.eventStreams ?? []) lines.push(...eventStream(s));
  for (const [i, a] of p.adaptationSets.entries()) lines.push(...adaptationSet(a, i));
  lines.push('  </Period>', '</MPD>', '');
  return lines.join('\n');
}
