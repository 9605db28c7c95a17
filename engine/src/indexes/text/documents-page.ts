import { openObject, sealObject } from '../../format/envelope.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import type { Tick } from '../../time/ticks.js';
import { sortedUnique } from './collate.js';
import { textPageType } from './postings-page.js';
import { ByteReader, ByteWriter } from './varint.js';

/**
 * A documents page (kind 7, `type: "documents"`, spec 0015 §4.4): the (track, tick, duration) of a run
 * of consecutive ordinals. Payload, per document: track index, tick, duration, as unsigned LEB128
 * varints (tick and duration up to 2^64-1); the tick is the gap from the previous document's tick
 * (>= 1) when the previous document on the page has the same track, else absolute. Track indices never
 * decrease.
 */

/** A document's place on the timeline, as search hits and filters see it. */
export interface TextDocInfo {
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
}

/** Decoded documents of one page, as columns. */
export interface DocumentsPage {
  readonly tracks: Uint32Array;
  readonly ticks: BigUint64Array;
  readonly durations: BigUint64Array;
}

/** Documents in ordinal order, as columns: track (an index into the segment's track table), tick, duration. */
export interface DocumentColumns {
  readonly count: number;
  readonly tracks: Uint32Array;
  readonly ticks: BigUint64Array;
  readonly durations: BigUint64Array;
}

/** The columns of documents in ordinal order, and the track table (code point order) they index into. */
export function documentColumns(docs: readonly TextDocInfo[]): {
  tracks: string[];
  columns: DocumentColumns;
} {
  const tracks = sortedUnique(docs.map((d) => d.track));
  const trackIndex = new Map(tracks.map((name, i) => [name, i]));
  return {
    tracks,
    columns: {
      count: docs.length,
      tracks: Uint32Array.from(docs, (d) => trackIndex.get(d.track)!),
      ticks: BigUint64Array.from(docs, (d) => d.tick),
      durations: BigUint64Array.from(docs, (d) => d.duration),
    },
  };
}

/** Append document i's entry to a page's payload; `first` is the page's first document. */
export function writeDocument(out: ByteWriter, docs: DocumentColumns, i: number, first: number): void {
  const track = docs.tracks[i]!;
  const same = i > first && docs.tracks[i - 1] === track;
  out.u32(track);
  out.u64(same ? docs.ticks[i]! - docs.ticks[i - 1]! : docs.ticks[i]!);
  out.u64(docs.durations[i]!);
}

/** Seal documents [from, to) into one page. */
export function encodeDocumentsPage(docs: DocumentColumns, from = 0, to = docs.count): Uint8Array {
  const out = new ByteWriter((to - from) * 8);
  for (let i = from; i < to; i++) writeDocument(out, docs, i, from);
  return sealDocumentsPage(out, to - from);
}

/** Seal a page of `count` documents whose payload `out` holds. */
export function sealDocumentsPage(out: ByteWriter, count: number): Uint8Array {
  return sealObject('textPage', { v: 0, type: 'documents', docs: count }, out.view());
}

/** Open and check a documents page of a segment with `tracks` tracks; refusals are E_FIELD. */
export function decodeDocumentsPage(bytes: Uint8Array, tracks: number, what = 'text page'): DocumentsPage {
  const { header, payloadStart } = openObject(bytes, 'textPage', what);
  if (textPageType(header, what) !== 'documents')
    fieldError(`${what}.type`, 'is a postings page, not a documents page');
  const r = new FieldReader(header, what, ['v', 'type', 'docs']);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'text page version is not 0');
  const docs = r.uint('docs');
  if (docs === 0) fieldError(r.at('docs'), 'a page holds at least one document');
  const page: DocumentsPage = {
    tracks: new Uint32Array(docs),
    ticks: new BigUint64Array(docs),
    durations: new BigUint64Array(docs),
  };
  const reader = new ByteReader(bytes, payloadStart, bytes.length, `${what} documents`);
  for (let i = 0; i < docs; i++) {
    const track = reader.u32();
    if (track >= tracks) fieldError(what, `document ${i}: track index ${track} is past the ${tracks} tracks`);
    const tick = reader.u64();
    const same = i > 0 && page.tracks[i - 1] === track;
    if (i > 0 && track < page.tracks[i - 1]!)
      fieldError(what, `document ${i}: track indices must not decrease`);
    if (same && tick === 0n) fieldError(what, `document ${i}: ticks of a track must increase`);
    const absolute = same ? page.ticks[i - 1]! + tick : tick;
    if (absolute >= 1n << 64n) fieldError(what, `document ${i}: tick over 2^64-1`);
    page.tracks[i] = track;
    page.ticks[i] = absolute;
    page.durations[i] = reader.u64();
  }
  if (!reader.done) fieldError(what, `payload has bytes after document ${docs}`);
  return page;
}
