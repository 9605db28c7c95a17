import { EngineError, quote } from '../../errors.js';
import { assertTick, type Tick, tickToHex } from '../../time/ticks.js';
import { compareCodePoints, sortedUnique } from './collate.js';
import { assertFieldName, assertTrackName, MAX_FIELDS } from './directory.js';
import { type BuiltTextSegment, type DocumentRow, SegmentWriter } from './segment-writer.js';
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

/** A document after analysis: every token's term, position and field name. */
interface Analyzed {
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly terms: string[];
  readonly positions: Uint32Array;
  readonly fields: string[];
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

function analyzeDoc(doc: TextDoc, index: number): Analyzed | undefined {
  const what = `text document ${index}`;
  if (doc === null || typeof doc !== 'object')
    throw new EngineError('E_BAD_REQUEST', `${what} is not an object`);
  assertTrackName(doc.track, `${what} track`);
  assertTick(doc.tick, `${what} tick`);
  assertTick(doc.duration, `${what} duration`);
  if (!Array.isArray(doc.fields)) throw new EngineError('E_BAD_REQUEST', `${what}: fields must be an array`);
  doc.fields.forEach((field, i) => {
    assertFieldName(field?.name, `${what} fields[${i}].name`);
    if (typeof field.text !== 'string') {
      throw new EngineError('E_BAD_REQUEST', `${what} fields[${i}].text ${quote(field.text)} is not text`);
    }
  });
  const perField = tokenizeFields(doc.fields.map((f) => f.text));
  const count = perField.reduce((s, tokens) => s + tokens.length, 0);
  if (count === 0) return undefined;
  const terms: string[] = new Array(count);
  const positions = new Uint32Array(count);
  const fields: string[] = new Array(count);
  let at = 0;
  perField.forEach((tokens, i) => {
    for (const token of tokens) {
      terms[at] = token.term;
      positions[at] = token.position;
      fields[at++] = doc.fields[i]!.name;
    }
  });
  return { track: doc.track, tick: doc.tick, duration: doc.duration, terms, positions, fields };
}

/** Build one segment from documents; the same documents in any order give the same bytes. */
export function buildTextSegment(docs: Iterable<TextDoc>): BuiltTextSegment {
  const analyzed: Analyzed[] = [];
  let index = 0;
  for (const doc of docs) {
    const one = analyzeDoc(doc, index++);
    if (one) analyzed.push(one);
  }
  analyzed.sort(compareDocs);
  for (let i = 1; i < analyzed.length; i++) {
    if (compareDocs(analyzed[i - 1]!, analyzed[i]!) === 0)
      throw duplicateError(analyzed[i]!.track, analyzed[i]!.tick);
  }
  const fields = sortedUnique(analyzed.flatMap((d) => sortedUnique(d.fields)));
  if (fields.length > MAX_FIELDS) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `text documents have ${fields.length} field names, over ${MAX_FIELDS}`,
    );
  }
  const tracks = sortedUnique(analyzed.map((d) => d.track));
  const fieldBit = new Map(fields.map((name, i) => [name, 2 ** i]));
  const trackIndex = new Map(tracks.map((name, i) => [name, i]));
  const rows: DocumentRow[] = analyzed.map((d) => ({
    track: trackIndex.get(d.track)!,
    tick: d.tick,
    duration: d.duration,
  }));
  const tokens = analyzed.reduce((s, d) => s + d.terms.length, 0);
  const writer = new SegmentWriter(fields, tracks, rows, tokens);
  analyzed.forEach((doc, ordinal) => {
    const byTerm = new Map<string, { positions: number[]; mask: number }>();
    for (let i = 0; i < doc.terms.length; i++) {
      const term = doc.terms[i]!;
      let entry = byTerm.get(term);
      if (!entry) {
        entry = { positions: [], mask: 0 };
        byTerm.set(term, entry);
      }
      entry.positions.push(doc.positions[i]!);
      entry.mask |= fieldBit.get(doc.fields[i]!)!;
    }
    for (const [term, entry] of byTerm)
      writer.add(term, ordinal, doc.terms.length, entry.mask, entry.positions);
  });
  return writer.finish();
}
