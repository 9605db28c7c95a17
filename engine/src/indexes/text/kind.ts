import { parseModality } from '../../address/modality.js';
import { multihashToHex } from '../../address/multihash.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import type { Session } from '../../session/session.js';
import { sessionCache } from '../../session/session-cache.js';
import type { Tick } from '../../time/ticks.js';
import { droppedUnion } from '../dropped.js';
import type { IndexKind } from '../kind.js';
import { type AnalyzedText, analyzeText } from './build.js';
import { decodeTextDirectory } from './directory.js';
import { decodeDocumentsPage } from './documents-page.js';
import { decodePostingsPage } from './postings-page.js';
import { TextSegmentReader } from './reader.js';
import { ANALYZER } from './tokenize.js';
import { eraseText, textFields, updateText } from './write.js';

/** The scheme of the BM25 text index (spec 0015 §9). */
export const TEXT_BM25 = 'dreamdb.text-bm25';

/** A text index's parameters: the analyzer its segments were built with. */
export interface TextParams {
  readonly analyzer: typeof ANALYZER;
}

/** A track's text index opened for queries: a reader per segment (each caches the pages it fetched). */
export interface TextIndexReader {
  readonly segments: readonly TextSegmentReader[];
  /** Per segment, the ticks of documents it holds that the track no longer does (spec 0020 §2.1). */
  readonly dropped: readonly (ReadonlySet<Tick> | undefined)[];
}

/** Dropped-tick sets kept per session, by object. */
const droppedSets = sessionCache<ReadonlySet<Tick>>(256);

/** Opened text segments kept per session (least recently used dropped past 256). */
const readers = sessionCache<TextSegmentReader>(256);

/** A text segment's reader, opened once per session. */
function reader(session: Session, object: Uint8Array): Promise<TextSegmentReader> {
  return readers(session, multihashToHex(object), () =>
    TextSegmentReader.open(object, (hash) => session.store.getObject(hash)),
  );
}

/** Payload texts up to this long are analyzed once and remembered (a detector writes few distinct labels). */
const MEMO_CHARS = 256;
const MEMO_ENTRIES = 65_536;
/** Analyses of payloads with one text field, by field name then text: no key is built per item. */
const byField = new Map<string, Map<string, AnalyzedText | null>>();
/** Analyses of other payloads, by a key of their names and texts. */
const byKey = new Map<string, AnalyzedText | null>();
let memoSize = 0;

/** Remember an analysis; past MEMO_ENTRIES, start afresh (vocabularies of labels are small). */
function remember<K>(map: Map<K, AnalyzedText | null>, key: K, text: AnalyzedText | undefined): void {
  if (++memoSize > MEMO_ENTRIES) {
    byField.clear();
    byKey.clear();
    memoSize = 1;
  }
  map.set(key, text ?? null);
}

/** The analysis of a payload remembered in `memo` under `key` (analyzed now if it was not). */
function remembered<K>(
  memo: Map<K, AnalyzedText | null>,
  key: K,
  payload: unknown,
): AnalyzedText | undefined {
  const known = memo.get(key);
  if (known !== undefined) return known ?? undefined;
  const text = analyzeText(textFields(payload));
  remember(memo, key, text);
  return text;
}

/** The analysis of an item's text fields (textFields, spec 0015 §2-5); undefined when nothing is indexed. */
export function analyzePayload(payload: unknown): AnalyzedText | undefined {
  if (typeof payload === 'string')
    return payload.length > MEMO_CHARS
      ? analyzeText(textFields(payload))
      : remembered(byKey, `\u0001${payload}`, payload);
  if (
    payload === null ||
    typeof payload !== 'object' ||
    payload instanceof Uint8Array ||
    payload instanceof Map
  )
    return analyzeText(textFields(payload));
  // One pass over the fields: a single text field is looked up by name and text, no key built per item;
  // several make a key of names and texts starting with \u0002 (a string payload's starts with \u0001).
  const record = payload as Record<string, unknown>;
  let name: string | undefined;
  let value = '';
  let key: string | undefined;
  for (const field in record) {
    const v = record[field];
    if (typeof v !== 'string') continue;
    if (name === undefined) {
      name = field;
      value = v;
    } else key = `${key ?? `\u0002${name}\u0000${value}`}\u0000${field}\u0000${v}`;
  }
  if (name === undefined) return undefined; // no text value: no field to index
  if ((key ?? value).length > MEMO_CHARS) return analyzeText(textFields(payload));
  if (key !== undefined) return remembered(byKey, key, payload);
  let texts = byField.get(name);
  if (!texts) {
    texts = new Map();
    byField.set(name, texts);
  }
  return remembered(texts, value, payload);
}

/**
 * The BM25 text index (spec 0015 §5, §9) as an index kind: an event track's items' text fields, analyzed
 * as they are written, in text segments (a directory and its pages) merged log-structured.
 */
export const textBm25: IndexKind<TextParams, TextIndexReader> = {
  scheme: TEXT_BM25,
  objects: ['textDirectory', 'textPage'],
  role: 'text',
  readParams(record, path) {
    const r = new FieldReader(record, path, ['analyzer']);
    const analyzer = r.text('analyzer', 64);
    if (analyzer !== ANALYZER) fieldError(r.at('analyzer'), `analyzer ${analyzer} is not ${ANALYZER}`);
    return { analyzer };
  },
  writeParams: (params) => ({ analyzer: params.analyzer }),
  fromOptions(options, _track, path) {
    return textBm25.readParams({ analyzer: ANALYZER, ...options }, path);
  },
  summary: (params) => ({ analyzer: params.analyzer }),
  fits(track, _params, path) {
    if (track.kind !== 'event') fieldError(path, `only event tracks have a ${TEXT_BM25} index`);
  },
  defaultFor(track) {
    // Captions, transcripts, annotations and detections are found by their words without asking.
    if (track.kind !== 'event') return undefined;
    const family = parseModality(track.modality);
    const indexed = family.builtin && (family.segments[0] === 'text' || family.segments[0] === 'event');
    return indexed ? { analyzer: ANALYZER } : undefined;
  },
  // null, not undefined, for an item without text: undefined means not staged (update then reads its bytes).
  stage: (payload) => analyzePayload(payload) ?? null,
  update: (context, _params, segments, change) => updateText(context, segments, change, analyzePayload),
  async erase(context, _params, segment, erased) {
    const done = await eraseText(context, segment, erased);
    return done && (done.ref ? { object: done.ref.object } : {});
  },
  async open(session, _track, _params, segments) {
    return {
      segments: await Promise.all(segments.map((s) => reader(session, s.object))),
      dropped: await Promise.all(
        segments.map((s) =>
          s.dropped
            ? droppedSets(
                session,
                multihashToHex(s.dropped),
                async () => new Set(await droppedUnion(session, [s])),
              )
            : undefined,
        ),
      ),
    };
  },
  async follow(session, segment) {
    const hex = multihashToHex(segment.object);
    const directory = decodeTextDirectory(
      await session.store.getObject(segment.object),
      `text directory ${hex}`,
    );
    return [...directory.pages, ...directory.docPages].map((page) => page.hash);
  },
  async check(session, segment, _params, replaced) {
    const hex = multihashToHex(segment.object);
    const directory = decodeTextDirectory(
      await session.store.getObject(segment.object),
      `text directory ${hex}`,
    );
    if (!replaced && directory.docs !== segment.count)
      fieldError(
        `text directory ${hex}`,
        `holds ${directory.docs} documents, not the ${segment.count} the track names`,
      );
    const context = { docs: directory.docs, fields: directory.fields.length };
    for (const page of directory.pages)
      decodePostingsPage(
        await session.store.getObject(page.hash),
        context,
        `text page ${multihashToHex(page.hash)}`,
      );
    for (const page of directory.docPages)
      decodeDocumentsPage(
        await session.store.getObject(page.hash),
        directory.tracks.length,
        `text page ${multihashToHex(page.hash)}`,
      );
  },
  describe: (params) => `analyzer ${params.analyzer}`,
};
