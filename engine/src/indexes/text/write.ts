import { multihashToHex } from '../../address/multihash.js';
import { decodeCanonical } from '../../cbor/deterministic.js';
import type { SegmentRef } from '../../model/segments.js';
import { itemBytes, trackEntries } from '../../queries/read.js';
import type { Tick } from '../../time/ticks.js';
import type { Uploader } from '../../writes/uploader.js';
import { droppedUnion, dropTicks } from '../dropped.js';
import type { IndexChange, IndexContext } from '../kind.js';
import { appendSegments } from '../segment-log.js';
import { type AnalyzedDoc, type AnalyzedText, buildAnalyzed, buildTrackSegment } from './build.js';
import { FIELD_NAME } from './directory.js';
import { mergeTextSegments } from './merge.js';
import { TextSegmentReader } from './reader.js';
import type { BuiltTextSegment } from './segment-writer.js';

/** Documents a text segment holds at most; larger ones are never merged again (0015 §5). */
export const TEXT_SEGMENT_DOCS = 4_000_000;

/**
 * The text fields of an item's payload (spec 0015 §5): a text payload is the field `text`; a map gives
 * each of its top-level text values under its key (a caption's `text`, an annotation's `label` and
 * `note`). Other values (numbers, bytes, nested maps), and keys that are not field names (0015 §1:
 * `a-z 0-9 . _ -`), are not indexed.
 */
export function textFields(payload: unknown): { name: string; text: string }[] {
  if (typeof payload === 'string') return [{ name: 'text', text: payload }];
  const entries =
    payload instanceof Map
      ? [...payload.entries()]
      : payload !== null && typeof payload === 'object' && !(payload instanceof Uint8Array)
        ? Object.entries(payload)
        : [];
  return entries
    .filter(
      (e): e is [string, string] =>
        typeof e[0] === 'string' && FIELD_NAME.test(e[0]) && typeof e[1] === 'string',
    )
    .map(([name, text]) => ({ name, text }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The first and last tick of the items that are documents (ticks ascending), or undefined when none is. */
function documentSpan(
  ticks: ArrayLike<Tick>,
  texts: readonly (AnalyzedText | null | undefined)[],
  count: number,
): { first: Tick; last: Tick } | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i < count; i++)
    if (texts[i]) {
      if (first < 0) first = i;
      last = i;
    }
  return first < 0 ? undefined : { first: ticks[first]!, last: ticks[last]! };
}

/** Upload a built segment; its reference (the directory), or undefined when it holds no document. */
async function upload(built: BuiltTextSegment, first: Tick, last: Tick, uploader: Uploader) {
  if (built.stats.docs === 0) return undefined;
  for (const page of built.pages) await uploader.put(page.bytes, page.hash);
  await uploader.put(built.directory.bytes, built.directory.hash);
  return { object: built.directory.hash, count: built.stats.docs, first, last } satisfies SegmentRef;
}

/**
 * What each staged item is as a document: the kind's stage step analyzed it as it was written (null: no
 * text), or, for an item staged without it, its bytes are decoded and analyzed now.
 */
function stagedTexts(
  change: IndexChange,
  analyze: (payload: unknown) => AnalyzedText | undefined,
): readonly (AnalyzedText | null | undefined)[] {
  const { staged, staging } = change;
  let complete = staging !== undefined && staging.length >= staged.count;
  for (let i = 0; complete && i < staged.count; i++) complete = staging![i] !== undefined;
  if (complete) return staging as readonly (AnalyzedText | null)[];
  return Array.from({ length: staged.count }, (_, i) => {
    const done = staging?.[i] as AnalyzedText | null | undefined;
    return done !== undefined
      ? done
      : analyze((decodeCanonical(staged.bytes(i)) as { payload?: unknown }).payload);
  });
}

/**
 * A track's text segments after a change of its items (spec 0015 §5): an append indexes the new items as
 * a new segment, merged log-structured with the others (mergeTextSegments, no re-analysis); any other
 * change rebuilds the track's one segment from every item (the old ones read through the time index).
 */
export async function updateText(
  context: IndexContext,
  segments: readonly SegmentRef[],
  change: IndexChange,
  analyze: (payload: unknown) => AnalyzedText | undefined,
): Promise<SegmentRef[]> {
  const { session, uploader } = context;
  const { staged, track } = change;
  if (staged.count === 0 && change.removed.size > 0) {
    // A delete (spec 0020): only the segments that hold a removed item change.
    return dropTicks(context, segments, change.removed, (segment, gone) =>
      eraseText(context, segment, (t) => gone.has(t)),
    );
  }
  const texts = stagedTexts(change, analyze);
  if (change.append) {
    const built = buildTrackSegment(track.name, {
      count: staged.count,
      ticks: staged.ticks,
      durations: staged.durations,
      texts,
    });
    const documents = documentSpan(staged.ticks, texts, staged.count);
    const added = documents ? await upload(built, documents.first, documents.last, uploader) : undefined;
    const readers = new Map<string, TextSegmentReader>();
    const fetch = (hash: Uint8Array) => session.store.getObject(hash);
    return appendSegments(segments, added ? [added] : [], TEXT_SEGMENT_DOCS, async (group) => {
      // A merge purges the documents the segments had dropped (spec 0020 §2.1).
      const gone = await droppedUnion(session, group);
      const opened = await Promise.all(
        group.map(async (s) => {
          const hex = multihashToHex(s.object);
          const reader = readers.get(hex) ?? (await TextSegmentReader.open(s.object, fetch));
          readers.set(hex, reader);
          return reader;
        }),
      );
      // Appended segments are disjoint in time and come ordered by first tick.
      const first = group[0]!.first;
      const last = group[group.length - 1]!.last;
      const merged = await upload(
        await mergeTextSegments(opened, gone.size > 0 ? (d) => !gone.has(d.tick) : undefined),
        first,
        last,
        uploader,
      );
      return merged ? [merged] : [];
    });
  }
  const replaced = new Set<Tick>(staged.ticks.subarray(0, staged.count));
  for (const tick of change.removed) replaced.add(tick);
  const docs: AnalyzedDoc[] = [];
  for (let i = 0; i < staged.count; i++) {
    const text = texts[i];
    if (text) docs.push({ track: track.name, tick: staged.ticks[i]!, duration: staged.duration(i), text });
  }
  for await (const entry of trackEntries(session, track)) {
    if (replaced.has(entry.tick)) continue;
    const bytes = await itemBytes(session, await session.store.getRange(entry.object, entry));
    const text = analyze((decodeCanonical(bytes) as { payload?: unknown }).payload);
    if (text) docs.push({ track: track.name, tick: entry.tick, duration: entry.duration, text });
  }
  if (docs.length === 0) return [];
  const built = buildAnalyzed(docs);
  let first = docs[0]!.tick;
  let last = first;
  for (const { tick } of docs) {
    if (tick < first) first = tick;
    if (tick > last) last = tick;
  }
  const rebuilt = await upload(built, first, last, uploader);
  return rebuilt ? [rebuilt] : [];
}

/** One segment without the documents `drop` names; undefined when it holds none of them. */
export async function eraseText(
  context: IndexContext,
  segment: SegmentRef,
  drop: (tick: Tick) => boolean,
): Promise<{ ref?: SegmentRef } | undefined> {
  const fetch = (hash: Uint8Array) => context.session.store.getObject(hash);
  const reader = await TextSegmentReader.open(segment.object, fetch);
  const documents = await reader.documents();
  const kept = documents.filter((d) => !drop(d.tick));
  if (kept.length === documents.length) return undefined;
  // The segment's dropped documents go with them: the rewrite holds only what the track holds.
  const gone = await droppedUnion(context.session, [segment]);
  const live = kept.filter((d) => !gone.has(d.tick));
  if (live.length === 0) return {};
  const built = await mergeTextSegments([reader], (d) => !drop(d.tick) && !gone.has(d.tick));
  const ref = await upload(built, live[0]!.tick, live[live.length - 1]!.tick, context.uploader);
  return ref ? { ref } : {};
}
