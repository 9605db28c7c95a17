import { EngineError, quote } from '../../errors.js';
import { assertTick, type Tick, tickToHex } from '../../time/ticks.js';
import { compareCodePoints, sortedUnique } from './collate.js';
import { assertFieldName, assertTrackName, MAX_FIELDS } from './directory.js';
import type { DocumentColumns } from './documents-page.js';
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

/** A document's text after analysis, whatever item it came from: what a segment indexes of it. */
export interface AnalyzedText {
  /** Indexed tokens over all fields (BM25's document length). */
  readonly dl: number;
  /** The fields with at least one indexed token, distinct. */
  readonly fields: readonly string[];
  /** Each indexed term once: its positions (ascending) and the fields it occurs in. */
  readonly terms: readonly {
    readonly term: string;
    readonly positions: readonly number[];
    readonly fields: readonly string[];
  }[];
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
  const byTerm = new Map<string, { term: string; positions: number[]; fields: string[] }>();
  const names = new Set<string>();
  let dl = 0;
  perField.forEach((tokens, i) => {
    const name = fields[i]!.name;
    for (const token of tokens) {
      let entry = byTerm.get(token.term);
      if (!entry) {
        entry = { term: token.term, positions: [], fields: [] };
        byTerm.set(token.term, entry);
      }
      entry.positions.push(token.position);
      if (!entry.fields.includes(name)) entry.fields.push(name);
      names.add(name);
      dl++;
    }
  });
  return dl === 0 ? undefined : { dl, fields: [...names], terms: [...byTerm.values()] };
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
  const tracks = sortedUnique(docs.map((d) => d.track));
  const trackIndex = new Map(tracks.map((name, i) => [name, i]));
  const columns = {
    count: docs.length,
    tracks: Uint32Array.from(docs, (d) => trackIndex.get(d.track)!),
    ticks: BigUint64Array.from(docs, (d) => d.tick),
    durations: BigUint64Array.from(docs, (d) => d.duration),
  };
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
  for (let ordinal = 0; ordinal < texts.length; ordinal++) {
    const { dl, terms } = texts[ordinal]!;
    for (const entry of terms) {
      let mask = 0;
      for (const name of entry.fields) mask += fieldBit.get(name)!;
      writer.add(entry.term, ordinal, dl, mask, entry.positions);
    }
  }
  return writer.finish();
}
