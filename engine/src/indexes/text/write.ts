import { multihashToHex } from '../../address/multihash.js';
import { decodeCanonical } from '../../cbor/deterministic.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Track, TrackText } from '../../model/track.js';
import { itemBytes, trackEntries } from '../../queries/read.js';
import type { Session } from '../../session/session.js';
import type { Tick } from '../../time/ticks.js';
import type { StagedColumns } from '../../writes/staged.js';
import type { Uploader } from '../../writes/uploader.js';
import { appendSegments } from '../segment-log.js';
import { FIELD_NAME } from './directory.js';
import {
  type BuiltTextSegment,
  buildTextSegment,
  mergeTextSegments,
  type TextDoc,
  TextSegmentReader,
} from './text-index.js';

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

/** A text document of an item's CBOR, or undefined when it holds no text. */
function docOf(track: string, tick: Tick, duration: Tick, itemBytes: Uint8Array): TextDoc | undefined {
  const fields = textFields((decodeCanonical(itemBytes) as { payload?: unknown }).payload);
  return fields.length > 0 ? { track, tick, duration, fields } : undefined;
}

/** What a publish changes in a track with a text index. */
export interface TextChange {
  /** The track as the base manifest has it (its time index finds the old items on a rebuild). */
  readonly track: Track;
  readonly text: TrackText;
  readonly staged: StagedColumns;
  /** True when every staged tick follows the track's last tick: only new segments are written. */
  readonly append: boolean;
  /** Ticks whose items are gone (a merge of a removal); never with `append`. */
  readonly removed?: ReadonlySet<Tick>;
}

/** Upload a built segment; its reference (the directory), or undefined when it holds no document. */
async function upload(built: BuiltTextSegment, docs: readonly { tick: Tick }[], uploader: Uploader) {
  if (built.stats.docs === 0) return undefined;
  for (const page of built.pages) await uploader.put(page.bytes, page.hash);
  await uploader.put(built.directory.bytes, built.directory.hash);
  let first = docs[0]!.tick;
  let last = first;
  for (const { tick } of docs) {
    if (tick < first) first = tick;
    if (tick > last) last = tick;
  }
  return { object: built.directory.hash, count: built.stats.docs, first, last } satisfies SegmentRef;
}

/**
 * The text index of a track after a publish (spec 0015 §5): an append indexes the new items' text as a
 * new segment, merged log-structured with the others (mergeTextSegments, no re-analysis); any other
 * change rebuilds the track's one segment from every item (the old ones read through the time index).
 */
export async function publishText(
  session: Session,
  change: TextChange,
  uploader: Uploader,
): Promise<TrackText> {
  const { track, staged } = change;
  const fresh: TextDoc[] = [];
  for (let i = 0; i < staged.count; i++) {
    const doc = docOf(track.name, staged.ticks[i]!, staged.duration(i), staged.bytes(i));
    if (doc) fresh.push(doc);
  }
  if (change.append) {
    const added = await upload(buildTextSegment(fresh), fresh, uploader);
    const readers = new Map<string, TextSegmentReader>();
    const fetch = (hash: Uint8Array) => session.store.getObject(hash);
    const segments = await appendSegments(
      change.text.segments,
      added ? [added] : [],
      TEXT_SEGMENT_DOCS,
      async (group) => {
        const opened = await Promise.all(
          group.map(async (s) => {
            const hex = multihashToHex(s.object);
            const reader = readers.get(hex) ?? (await TextSegmentReader.open(s.object, fetch));
            readers.set(hex, reader);
            return reader;
          }),
        );
        const ticks = group.flatMap((s) => [{ tick: s.first }, { tick: s.last }]);
        const merged = await upload(await mergeTextSegments(opened), ticks, uploader);
        return merged ? [merged] : [];
      },
    );
    return { analyzer: change.text.analyzer, segments };
  }
  const replaced = new Set<Tick>(Array.from({ length: staged.count }, (_, i) => staged.ticks[i]!));
  for (const tick of change.removed ?? []) replaced.add(tick);
  const docs = [...fresh];
  for await (const entry of trackEntries(session, track)) {
    if (replaced.has(entry.tick)) continue;
    const doc = docOf(
      track.name,
      entry.tick,
      entry.duration,
      await itemBytes(session, await session.store.getRange(entry.object, entry)),
    );
    if (doc) docs.push(doc);
  }
  const rebuilt = await upload(buildTextSegment(docs), docs, uploader);
  return { analyzer: change.text.analyzer, segments: rebuilt ? [rebuilt] : [] };
}
