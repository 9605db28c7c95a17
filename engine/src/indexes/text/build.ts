import { EngineError, quote } from '../../errors.js';
import { assertTick, type Tick, tickToHex } from '../../time/ticks.js';
import { compareCodePoints, sortedUnique } from './collate.js';
import { assertFieldName, assertTrackName, MAX_FIELDS } from './directory.js';
import { type DocumentColumns, documentColumns } from './documents-page.js';
import { type BuiltTextSegment, SegmentWriter } from './segment-writer.js';
import { tokenizeFields } from './tokenize.js';

/**
 * Build a text segment from documents (spec 0015 §4.5): analyze each document's fields, drop documents
 * without an indexed token, order the rest by (track, tick), and invert them into postings.
 */

/** A document: one item and its text fields (a caption's `text`, an annotation's `label` and `note`). */
export interface TextDoc {
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly fields: readonly { readonly name: string; readonly text: string }[];
}

/**
 * A document's text after analysis, whatever item it came from: what a segment indexes of it, in a few
 * flat arrays (a million of them stay cheap to keep until the segment is inverted).
 */
export interface AnalyzedText {
  /** Indexed tokens over all fields (BM25's document length). */
  readonly dl: number;
  /** The fields with at least one indexed token, distinct; bit i of a term's mask is fields[i]. */
  readonly fields: readonly string[];
  /** Each indexed term once, in order of first occurrence. */
  readonly terms: readonly string[];
  /**
   * With T terms, one array: T masks (the fields each term occurs in, as bits over `fields`), then T + 1
   * starts, then the positions grouped by term (term t's at [starts[t], starts[t+1]), ascending).
   */
  readonly data: Uint32Array;
}

/** Field lists shared by every analysis of the same fields (most documents have one or two). */
const fieldLists = new Map<string, readonly string[]>();
function fieldList(names: string[]): readonly string[] {
  const key = names.join('\u0000');
  let list = fieldLists.get(key);
  if (!list) {
    if (fieldLists.size >= 4096) fieldLists.clear();
    list = names;
    fieldLists.set(key, list);
  }
  return list;
}

/** A document analyzed: its place and its text. */
export interface AnalyzedDoc {
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly text: AnalyzedText;
}

/** Refuse two documents with the same (track, tick): an item has one place. */
export function duplicateError(track: string, tick: Tick): EngineError {
  return new EngineError(
    'E_BAD_REQUEST',
    `two text documents of track ${quote(track)} at tick 0x${tickToHex(tick)}; an item has one place`,
  );
}

/** Order of documents: track (code point order), then tick. */
export function compareDocs(a: { track: string; tick: Tick }, b: { track: string; tick: Tick }): number {
  return compareCodePoints(a.track, b.track) || (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0);
}

/**
 * Analyze a document's fields (spec 0015 §2-3); undefined when no token is indexed (the document is not
 * indexed). Field names and texts are checked, naming `what`.
 */
export function analyzeText(
  fields: readonly { readonly name: string; readonly text: string }[],
  what = 'text document',
): AnalyzedText | undefined {
  if (!Array.isArray(fields)) throw new EngineError('E_BAD_REQUEST', `${what}: fields must be an array`);
  fields.forEach((field, i) => {
    assertFieldName(field?.name, `${what} fields[${i}].name`);
    if (typeof field.text !== 'string') {
      throw new EngineError('E_BAD_REQUEST', `${what} fields[${i}].text ${quote(field.text)} is not text`);
    }
  });
  const perField = tokenizeFields(fields.map((f) => f.text));
  let dl = 0;
  for (const tokens of perField) dl += tokens.length;
  if (dl === 0) return undefined;
  // Group the tokens by term: each term's index, its count, then its positions in field order.
  const termIndex = new Map<string, number>();
  const terms: string[] = [];
  const counts: number[] = [];
  const masks: number[] = [];
  const names: string[] = [];
  perField.forEach((tokens, i) => {
    if (tokens.length === 0) return;
    const bit = 2 ** names.length;
    names.push(fields[i]!.name);
    for (const { term } of tokens) {
      let t = termIndex.get(term);
      if (t === undefined) {
        t = terms.length;
        termIndex.set(term, t);
        terms.push(term);
        counts.push(0);
        masks.push(0);
      }
      counts[t]!++;
      masks[t]! |= bit;
    }
  });
  const T = terms.length;
  const data = new Uint32Array(2 * T + 1 + dl);
  data.set(masks, 0);
  for (let t = 0; t < T; t++) data[T + t + 1] = data[T + t]! + counts[t]!;
  const fill = data.slice(T, 2 * T);
  for (const tokens of perField)
    for (const { term, position } of tokens) data[2 * T + 1 + fill[termIndex.get(term)!]!++] = position;
  return { dl, fields: fieldList(names), terms, data };
}

function analyzeDoc(doc: TextDoc, index: number): AnalyzedDoc | undefined {
  const what = `text document ${index}`;
  if (doc === null || typeof doc !== 'object')
    throw new EngineError('E_BAD_REQUEST', `${what} is not an object`);
  assertTrackName(doc.track, `${what} track`);
  assertTick(doc.tick, `${what} tick`);
  assertTick(doc.duration, `${what} duration`);
  const text = analyzeText(doc.fields, what);
  return text && { track: doc.track, tick: doc.tick, duration: doc.duration, text };
}

/** Build one segment from documents; the same documents in any order give the same bytes. */
export function buildTextSegment(docs: Iterable<TextDoc>): BuiltTextSegment {
  const analyzed: AnalyzedDoc[] = [];
  let index = 0;
  for (const doc of docs) {
    const one = analyzeDoc(doc, index++);
    if (one) analyzed.push(one);
  }
  return buildAnalyzed(analyzed);
}

/**
 * Build one segment from analyzed documents (track names checked by the caller), in any order: they are
 * put in (track, tick) order, which is usually theirs already.
 */
export function buildAnalyzed(docs: AnalyzedDoc[]): BuiltTextSegment {
  let ordered = true;
  for (let i = 1; i < docs.length && ordered; i++) ordered = compareDocs(docs[i - 1]!, docs[i]!) < 0;
  if (!ordered) {
    docs.sort(compareDocs);
    for (let i = 1; i < docs.length; i++) {
      if (compareDocs(docs[i - 1]!, docs[i]!) === 0) throw duplicateError(docs[i]!.track, docs[i]!.tick);
    }
  }
  const { tracks, columns } = documentColumns(docs);
  return invert(
    tracks,
    columns,
    docs.map((d) => d.text),
  );
}

/**
 * Build one segment from one track's items in tick order (what a publish stages), without an object per
 * document: `texts[i]` is item i's analysis, null or undefined when it is not a document.
 */
export function buildTrackSegment(
  track: string,
  items: {
    readonly count: number;
    readonly ticks: ArrayLike<Tick>;
    readonly durations?: ArrayLike<Tick> | undefined;
    readonly texts: ArrayLike<AnalyzedText | null | undefined>;
  },
): BuiltTextSegment {
  let n = 0;
  for (let i = 0; i < items.count; i++) if (items.texts[i]) n++;
  const columns = {
    count: n,
    tracks: new Uint32Array(n),
    ticks: new BigUint64Array(n),
    durations: new BigUint64Array(n),
  };
  const texts: AnalyzedText[] = new Array(n);
  let at = 0;
  for (let i = 0; i < items.count; i++) {
    const text = items.texts[i];
    if (!text) continue;
    const tick = items.ticks[i]!;
    if (at > 0 && tick <= columns.ticks[at - 1]!)
      throw new EngineError(
        'E_BAD_REQUEST',
        `text documents of track ${quote(track)} must come in tick order`,
      );
    columns.ticks[at] = tick;
    columns.durations[at] = items.durations ? items.durations[i]! : 0n;
    texts[at++] = text;
  }
  return invert(n > 0 ? [track] : [], columns, texts);
}

/** Invert documents in ordinal order (columns) and their analyses into a segment. */
function invert(
  tracks: readonly string[],
  docs: DocumentColumns,
  texts: readonly AnalyzedText[],
): BuiltTextSegment {
  const fieldSet = new Set<string>();
  let tokens = 0;
  let previous: AnalyzedText | undefined;
  for (const text of texts) {
    // Neighbours often share one analysis (a detector's labels): their fields are added once.
    if (text !== previous) for (const name of text.fields) fieldSet.add(name);
    previous = text;
    tokens += text.dl;
  }
  const fields = sortedUnique(fieldSet);
  if (fields.length > MAX_FIELDS) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `text documents have ${fields.length} field names, over ${MAX_FIELDS}`,
    );
  }
  const fieldBit = new Map(fields.map((name, i) => [name, 2 ** i]));
  const writer = new SegmentWriter(fields, tracks, docs, tokens);
  // A text's own field bits as the segment's, once per field list (lists are shared: few distinct ones).
  const bitsOf = new Map<readonly string[], number[]>();
  for (let ordinal = 0; ordinal < texts.length; ordinal++) {
    const text = texts[ordinal]!;
    let bits = bitsOf.get(text.fields);
    if (!bits) {
      bits = text.fields.map((name) => fieldBit.get(name)!);
      bitsOf.set(text.fields, bits);
    }
    const { dl, terms, data } = text;
    const T = terms.length;
    const positionsAt = 2 * T + 1;
    for (let t = 0; t < T; t++) {
      const local = data[t]!;
      let mask = 0;
      for (let f = 0; f < bits.length; f++) if (local & (1 << f)) mask += bits[f]!;
      writer.add(
        terms[t]!,
        ordinal,
        dl,
        mask,
        data,
        positionsAt + data[T + t]!,
        positionsAt + data[T + t + 1]!,
      );
    }
  }
  return writer.finish();
}
