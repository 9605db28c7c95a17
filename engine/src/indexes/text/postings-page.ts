import { EngineError, quote } from '../../errors.js';
import { openObject, sealObjectParts } from '../../format/envelope.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import { compareCodePoints } from './collate.js';
import { MAX_TEXT_OBJECT_BYTES } from './directory.js';
import { ByteReader } from './varint.js';

/**
 * A postings page (kind 7, `type: "postings"`, spec 0015 §4.3): whole posting lists of a run of terms.
 * The header lists the terms in code point order with each list's document frequency and byte sizes;
 * the payload holds, term after term, the list's document stream then its position stream:
 *
 *   document stream, per posting: ordinal (first absolute, then the gap from the previous, >= 1),
 *                                 tf (>= 1), dl (the document's length, >= tf), field mask (>= 1)
 *   position stream, per posting: tf positions (first absolute, then gaps >= 1)
 *
 * every number an unsigned LEB128 varint below 2^32.
 */

/** One term's postings, as bytes ready to be written or read. */
export interface PostingList {
  readonly term: string;
  /** Documents holding the term. */
  readonly df: number;
  /** Bytes holding both streams (`docs` then `positions` ranges index into it). */
  readonly bytes: Uint8Array;
  readonly docsStart: number;
  readonly docsEnd: number;
  readonly positionsStart: number;
  readonly positionsEnd: number;
}

/** A decoded postings page: its posting lists, in term order. */
export interface PostingsPage {
  readonly lists: readonly PostingList[];
  /** Sum of the lists' df. */
  readonly postings: number;
}

/** What a page's postings are checked against: the segment's document count and field count. */
export interface PostingsContext {
  readonly docs: number;
  readonly fields: number;
}

/** Seal posting lists (in term order) into one page. */
export function encodePostingsPage(lists: readonly PostingList[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const list of lists) {
    parts.push(list.bytes.subarray(list.docsStart, list.docsEnd));
    parts.push(list.bytes.subarray(list.positionsStart, list.positionsEnd));
  }
  return sealObjectParts(
    'textPage',
    {
      v: 0,
      type: 'postings',
      terms: lists.map((l) => l.term),
      df: lists.map((l) => l.df),
      docs_bytes: lists.map((l) => l.docsEnd - l.docsStart),
      positions_bytes: lists.map((l) => l.positionsEnd - l.positionsStart),
    },
    parts,
  );
}

/** The type of a text page (postings or documents), read from its header. */
export function textPageType(header: unknown, what: string): 'postings' | 'documents' {
  const type = (header as { type?: unknown } | null)?.type;
  if (type !== 'postings' && type !== 'documents')
    fieldError(`${what}.type`, `unknown text page type ${quote(type)}`);
  return type;
}

function uints(r: FieldReader, key: string, length: number, min: number): number[] {
  const list = r.array(key);
  if (list.length !== length) fieldError(r.at(key), `expected ${length} entries, got ${list.length}`);
  return list.map((v, i) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      fieldError(`${r.at(key)}[${i}]`, `expected an unsigned integer >= ${min}, got ${quote(v)}`);
    }
    return v;
  });
}

/** Check one posting list's two streams end to end. */
function checkList(list: PostingList, context: PostingsContext, what: string): void {
  const docs = new ByteReader(list.bytes, list.docsStart, list.docsEnd, `${what} documents`);
  const positions = new ByteReader(list.bytes, list.positionsStart, list.positionsEnd, `${what} positions`);
  const maxMask = 2 ** context.fields;
  let ordinal = -1;
  for (let i = 0; i < list.df; i++) {
    const gap = docs.u32();
    if (i > 0 && gap === 0) fieldError(what, `posting ${i}: ordinals must increase`);
    ordinal += i === 0 ? gap + 1 : gap;
    if (ordinal >= context.docs)
      fieldError(what, `posting ${i}: ordinal ${ordinal} is past the ${context.docs} documents`);
    const tf = docs.u32();
    const dl = docs.u32();
    const mask = docs.u32();
    if (tf < 1 || dl < tf) fieldError(what, `posting ${i}: tf ${tf} and dl ${dl} must satisfy 1 <= tf <= dl`);
    if (mask < 1 || mask >= maxMask)
      fieldError(what, `posting ${i}: field mask ${mask} names no field or an unknown one`);
    let position = -1;
    for (let j = 0; j < tf; j++) {
      const step = positions.u32();
      if (j > 0 && step === 0) fieldError(what, `posting ${i}: positions must increase`);
      position += j === 0 ? step + 1 : step;
      if (position > 0xffffffff) fieldError(what, `posting ${i}: position over 2^32-1`);
    }
  }
  if (!docs.done) fieldError(what, `document stream has bytes after posting ${list.df}`);
  if (!positions.done) fieldError(what, `position stream has bytes after posting ${list.df}`);
}

/** Open and check a postings page, every posting of it; refusals are E_FIELD naming the field or term. */
export function decodePostingsPage(
  bytes: Uint8Array,
  context: PostingsContext,
  what = 'text page',
): PostingsPage {
  const { header, payloadStart } = openObject(bytes, 'textPage', what);
  if (textPageType(header, what) !== 'postings')
    fieldError(`${what}.type`, 'is a documents page, not a postings page');
  const r = new FieldReader(header, what, ['v', 'type', 'terms', 'df', 'docs_bytes', 'positions_bytes']);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'text page version is not 0');
  const terms = r.array('terms');
  if (terms.length === 0) fieldError(r.at('terms'), 'a page holds at least one term');
  terms.forEach((term, i) => {
    if (typeof term !== 'string' || term.length === 0)
      fieldError(`${r.at('terms')}[${i}]`, `expected a term, got ${quote(term)}`);
    if (i > 0 && compareCodePoints(terms[i - 1] as string, term) >= 0) {
      fieldError(`${r.at('terms')}[${i}]`, 'terms must be distinct and in code point order');
    }
  });
  const df = uints(r, 'df', terms.length, 1);
  const docsBytes = uints(r, 'docs_bytes', terms.length, 1);
  const positionsBytes = uints(r, 'positions_bytes', terms.length, 1);
  const lists: PostingList[] = [];
  let at = payloadStart;
  let postings = 0;
  for (let i = 0; i < terms.length; i++) {
    const docsEnd = at + docsBytes[i]!;
    const positionsEnd = docsEnd + positionsBytes[i]!;
    if (positionsEnd > bytes.length)
      fieldError(`${r.at('terms')}[${i}]`, 'postings run past the end of the page');
    const list = {
      term: terms[i] as string,
      df: df[i]!,
      bytes,
      docsStart: at,
      docsEnd,
      positionsStart: docsEnd,
      positionsEnd,
    };
    checkList(list, context, `${what} term ${quote(list.term)}`);
    lists.push(list);
    postings += list.df;
    at = positionsEnd;
  }
  if (at !== bytes.length) fieldError(what, `postings cover ${at} bytes but the page has ${bytes.length}`);
  return { lists, postings };
}

/** Refuse a page over the object size limit. */
export function assertPageSize(size: number, what: string): void {
  if (size > MAX_TEXT_OBJECT_BYTES) {
    throw new EngineError('E_TOO_LARGE', `${what} would be ${size} bytes, over ${MAX_TEXT_OBJECT_BYTES}`);
  }
}
