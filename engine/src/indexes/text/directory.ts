import { Tag } from 'cbor-x';
import { assertMultihash, type Multihash } from '../../address/multihash.js';
import { TAGS } from '../../cbor/tags.js';
import { EngineError, quote } from '../../errors.js';
import { openObject, sealObject } from '../../format/envelope.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import { compareCodePoints } from './collate.js';
import { ANALYZER } from './tokenize.js';

/**
 * The text directory object (kind 6, spec 0015 §4.2): a segment's statistics, its field and track
 * tables, and the list of its postings pages (by first term) and document pages (by document count).
 * The header is the whole object; its payload is empty.
 */

/** Objects are at most 100 MiB in v0. */
export const MAX_TEXT_OBJECT_BYTES = 100 * 1024 * 1024;
/** Most distinct field names in one segment (a posting's field mask is a u32 varint). */
export const MAX_FIELDS = 31;
/** Longest track name, in UTF-16 code units. */
export const MAX_TRACK_CHARS = 256;
export const FIELD_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** One postings page as the directory lists it. */
export interface PostingsPageRef {
  /** The page's first term: a term t is on the last page whose first term is <= t. */
  readonly first: string;
  readonly hash: Multihash;
  /** Terms on the page. */
  readonly terms: number;
  /** Postings (documents x terms) on the page. */
  readonly postings: number;
}

/** One document page as the directory lists it: the next `docs` ordinals. */
export interface DocumentPageRef {
  readonly hash: Multihash;
  readonly docs: number;
}

/** A decoded text directory. */
export interface TextDirectory {
  readonly analyzer: string;
  /** Documents in the segment (N of BM25). */
  readonly docs: number;
  /** Indexed tokens over all documents (avgdl = tokens / docs). */
  readonly tokens: number;
  /** Field names, in code point order: bit i of a posting's field mask is fields[i]. */
  readonly fields: readonly string[];
  /** Track names, in code point order: a document's track is an index into this table. */
  readonly tracks: readonly string[];
  readonly pages: readonly PostingsPageRef[];
  readonly docPages: readonly DocumentPageRef[];
}

/** Refuse a field name outside 1-64 of [a-z0-9._-] starting with a letter or digit. */
export function assertFieldName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `${what} ${quote(name)} must be 1-64 characters of a-z 0-9 . _ - starting with a letter or digit`,
    );
  }
  return name;
}

/** Refuse a track name that is not 1-256 UTF-16 code units of text. */
export function assertTrackName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TRACK_CHARS) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `${what} ${quote(name)} must be text of 1-${MAX_TRACK_CHARS} characters`,
    );
  }
  return name;
}

const hashTag = (hash: Multihash) => new Tag(hash, TAGS.multihash);

/** Seal a directory into object bytes. */
export function encodeTextDirectory(directory: TextDirectory): Uint8Array {
  const bytes = sealObject('textDirectory', {
    v: 0,
    analyzer: directory.analyzer,
    docs: directory.docs,
    tokens: directory.tokens,
    fields: directory.fields,
    tracks: directory.tracks,
    pages: directory.pages.map((p) => [p.first, hashTag(p.hash), p.terms, p.postings]),
    doc_pages: directory.docPages.map((p) => [hashTag(p.hash), p.docs]),
  });
  if (bytes.length > MAX_TEXT_OBJECT_BYTES) {
    throw new EngineError(
      'E_TOO_LARGE',
      `text directory would be ${bytes.length} bytes, over ${MAX_TEXT_OBJECT_BYTES}`,
    );
  }
  return bytes;
}

function uintAt(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fieldError(path, `expected an unsigned integer >= ${min}, got ${quote(value)}`);
  }
  return value;
}

function hashAt(value: unknown, path: string): Multihash {
  if (!(value instanceof Tag) || value.tag !== TAGS.multihash) {
    fieldError(path, `expected a multihash (CBOR tag ${TAGS.multihash}), got ${quote(value)}`);
  }
  try {
    return assertMultihash(value.value, path);
  } catch (error) {
    return fieldError(path, (error as Error).message);
  }
}

function tupleAt(value: unknown, path: string, length: number): unknown[] {
  if (!Array.isArray(value) || value.length !== length) fieldError(path, `expected an array of ${length}`);
  return value;
}

/** Strings in strictly increasing code point order, each checked by `check`. */
function sortedNames(
  list: unknown[],
  path: string,
  check: (name: unknown, where: string) => string,
): string[] {
  return list.map((name, i) => {
    const where = `${path}[${i}]`;
    try {
      check(name, where);
    } catch (error) {
      fieldError(where, (error as Error).message.replace(/^E_BAD_REQUEST: \S+ /, ''));
    }
    if (i > 0 && compareCodePoints(list[i - 1] as string, name as string) >= 0) {
      fieldError(where, 'names must be distinct and in code point order');
    }
    return name as string;
  });
}

/** Open and check a text directory; anything out of place is refused with E_FIELD naming the field. */
export function decodeTextDirectory(bytes: Uint8Array, what = 'text directory'): TextDirectory {
  const { header, payloadStart } = openObject(bytes, 'textDirectory', what);
  if (payloadStart !== bytes.length) fieldError(what, 'a text directory has no payload');
  const r = new FieldReader(header, what, [
    'v',
    'analyzer',
    'docs',
    'tokens',
    'fields',
    'tracks',
    'pages',
    'doc_pages',
  ]);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'text directory version is not 0');
  const analyzer = r.raw('analyzer');
  if (analyzer !== ANALYZER)
    fieldError(r.at('analyzer'), `unknown analyzer ${quote(analyzer)} (known: ${ANALYZER})`);
  const docs = r.uint('docs');
  const tokens = r.uint('tokens');
  if (tokens < docs)
    fieldError(r.at('tokens'), `${tokens} tokens for ${docs} documents (each has at least one)`);
  const fields = sortedNames(r.array('fields'), r.at('fields'), assertFieldName);
  if (fields.length > MAX_FIELDS) fieldError(r.at('fields'), `more than ${MAX_FIELDS} fields`);
  const tracks = sortedNames(r.array('tracks'), r.at('tracks'), assertTrackName);
  const pages = r.array('pages').map((entry, i): PostingsPageRef => {
    const path = `${r.at('pages')}[${i}]`;
    const [first, hash, terms, postings] = tupleAt(entry, path, 4);
    if (typeof first !== 'string' || first.length === 0) fieldError(`${path}[0]`, 'expected a term');
    return {
      first,
      hash: hashAt(hash, `${path}[1]`),
      terms: uintAt(terms, `${path}[2]`, 1),
      postings: uintAt(postings, `${path}[3]`, uintAt(terms, `${path}[2]`, 1)),
    };
  });
  pages.forEach((page, i) => {
    if (i > 0 && compareCodePoints(pages[i - 1]!.first, page.first) >= 0) {
      fieldError(`${r.at('pages')}[${i}][0]`, 'first terms must increase');
    }
  });
  const docPages = r.array('doc_pages').map((entry, i): DocumentPageRef => {
    const path = `${r.at('doc_pages')}[${i}]`;
    const [hash, count] = tupleAt(entry, path, 2);
    return { hash: hashAt(hash, `${path}[0]`), docs: uintAt(count, `${path}[1]`, 1) };
  });
  const listed = docPages.reduce((s, p) => s + p.docs, 0);
  if (listed !== docs) fieldError(r.at('doc_pages'), `pages hold ${listed} documents, not ${docs}`);
  if ((docs === 0) !== (pages.length === 0))
    fieldError(r.at('pages'), 'a segment has pages iff it has documents');
  if (docs > 0 && (fields.length === 0 || tracks.length === 0))
    fieldError(what, 'fields and tracks must not be empty');
  return { analyzer, docs, tokens, fields, tracks, pages, docPages };
}
