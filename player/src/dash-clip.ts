/**
 * A DASH clip as shaka-player gets it, moved so that nothing of it is lost. The origin starts a clip's
 * Period at the clip's `from` (`dreamdb:tick`; each representation's presentationTimeOffset is that tick
 * in its own timescale), but its first fragments are those covering `from`, which begin before it. shaka
 * sets each SourceBuffer's appendWindowStart to the Period's start (0), and Media Source Extensions then
 * drop every frame presented before it and the frames after it up to the next key frame: a clip starting
 * mid-GOP would show nothing until its next key frame (up to a GOP of the window lost, and seeks there
 * moved past it). Moving the Period's start back to the clip's earliest fragment keeps every frame; the
 * new start is the clip's media time 0 in ticks, which the clock is told.
 */

/** An element as shaka's XML parser gives it to `manifest.dash.manifestPreprocessorTXml`. */
export interface XmlNode {
  tagName: string;
  attributes: Record<string, string>;
  children: unknown[];
}

/** The namespace of the origin's own MPD attributes. */
const DREAMDB_NS = 'urn:dreamdb:2026';
const NS_PER_SECOND = 1_000_000_000n;

const isNode = (value: unknown): value is XmlNode =>
  typeof value === 'object' && value !== null && 'tagName' in value && 'attributes' in value;
const localName = (tag: string) => tag.slice(tag.indexOf(':') + 1);
const childrenNamed = (node: XmlNode, name: string): XmlNode[] =>
  node.children.filter(isNode).filter((c) => localName(c.tagName) === name);
const integer = (text: string | undefined, fallback: bigint): bigint =>
  text !== undefined && /^\d+$/.test(text) ? BigInt(text) : fallback;
/** a / b rounded to the nearest integer (b > 0). */
const roundDiv = (a: bigint, b: bigint): bigint =>
  a >= 0n ? (2n * a + b) / (2n * b) : -((-2n * a + b) / (2n * b));

/** The segment lists and templates of an adaptation set and of its representations. */
const segmentInfos = (set: XmlNode): XmlNode[] =>
  [set, ...childrenNamed(set, 'Representation')].flatMap((node) => [
    ...childrenNamed(node, 'SegmentList'),
    ...childrenNamed(node, 'SegmentTemplate'),
  ]);

/** Where a segment list's first segment starts, in ns from the Period's start (negative: before it). */
function firstSegmentOffset(info: XmlNode): bigint | undefined {
  const [timeline] = childrenNamed(info, 'SegmentTimeline');
  const [first] = timeline ? childrenNamed(timeline, 'S') : [];
  if (!first || first.attributes.t === undefined) return undefined;
  const timescale = integer(info.attributes.timescale, 1n);
  const offset = integer(first.attributes.t, 0n) - integer(info.attributes.presentationTimeOffset, 0n);
  return timescale > 0n ? roundDiv(offset * NS_PER_SECOND, timescale) : undefined;
}

/** Seconds of an xs:duration (PnDTnHnMnS); undefined for one it cannot read. */
export function durationSeconds(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return Number(d) * 86_400 + Number(h) * 3_600 + Number(min) * 60 + Number(s);
}

/** An xs:duration of seconds, to the microsecond (rounded up: the presentation keeps its last frame). */
const isoDuration = (seconds: number) =>
  `PT${(Math.ceil(Math.round(seconds * 1e9) / 1e3) / 1e6).toFixed(6)}S`;

/**
 * Move a clip MPD's Period start back to its earliest audio or video fragment, in place; the tick of the
 * Period's start then (media time 0). Undefined when the MPD is not the origin's (no `dreamdb:tick`), left
 * as it is. Every presentationTimeOffset moves by the same time in its own timescale, the event streams'
 * times and the presentation's duration the other way, so every track keeps its timing in ticks. (A
 * sidecar WebVTT file, timed from the Period's start, cannot move: clips list no caption track.)
 */
export function rebaseClip(mpd: XmlNode): bigint | undefined {
  const prefix = Object.entries(mpd.attributes).find(
    ([name, value]) => name.startsWith('xmlns:') && value === DREAMDB_NS,
  )?.[0];
  const [period] = childrenNamed(mpd, 'Period');
  const tickName = prefix && `${prefix.slice('xmlns:'.length)}:tick`;
  if (!period || !tickName || !/^\d+$/.test(period.attributes[tickName] ?? '')) return undefined;
  const tick = BigInt(period.attributes[tickName]!);
  const sets = childrenNamed(period, 'AdaptationSet');
  // The earliest fragment of the media (images and text lose no frames, and do not start the clip).
  const media = (set: XmlNode) =>
    /^(audio|video)/.test(set.attributes.contentType ?? set.attributes.mimeType ?? '');
  let lead = 0n;
  for (const info of sets.filter(media).flatMap(segmentInfos)) {
    const offset = firstSegmentOffset(info);
    if (offset !== undefined && offset < lead) lead = offset;
  }
  const shift = -lead;
  if (shift === 0n) return tick;
  const inUnits = (timescale: bigint) => roundDiv(shift * timescale, NS_PER_SECOND);
  for (const info of sets.flatMap(segmentInfos)) {
    const offset = integer(info.attributes.presentationTimeOffset, 0n);
    const moved = offset - inUnits(integer(info.attributes.timescale, 1n));
    info.attributes.presentationTimeOffset = String(moved > 0n ? moved : 0n);
  }
  for (const stream of childrenNamed(period, 'EventStream')) {
    const later = inUnits(integer(stream.attributes.timescale, 1n));
    for (const event of childrenNamed(stream, 'Event'))
      event.attributes.presentationTime = String(integer(event.attributes.presentationTime, 0n) + later);
  }
  const seconds = Number(shift) / 1e9;
  for (const [node, name] of [
    [mpd, 'mediaPresentationDuration'],
    [period, 'duration'],
  ] as const) {
    const duration = node.attributes[name] === undefined ? undefined : durationSeconds(node.attributes[name]);
    if (duration !== undefined) node.attributes[name] = isoDuration(duration + seconds);
  }
  const start = tick - shift;
  period.attributes[tickName] = String(start);
  return start;
}
