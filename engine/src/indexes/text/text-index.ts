/** The text index (spec 0015): analyzer, query syntax, segment objects, search and merge. */

export { DEFAULT_B, DEFAULT_K1, idf, termWeight } from './bm25.js';
export { buildTextSegment, type TextDoc } from './build.js';
export { compareCodePoints } from './collate.js';
export {
  type DocumentPageRef,
  decodeTextDirectory,
  encodeTextDirectory,
  MAX_FIELDS,
  MAX_TEXT_OBJECT_BYTES,
  type PostingsPageRef,
  type TextDirectory,
} from './directory.js';
export {
  type DocumentsPage,
  decodeDocumentsPage,
  encodeDocumentsPage,
  type TextDocInfo,
} from './documents-page.js';
export { mergeTextSegments } from './merge.js';
export { decodePostingsPage, type PostingList, type PostingsPage } from './postings-page.js';
export {
  MAX_PHRASE_WORDS,
  MAX_QUERY_CHARS,
  type Phrase,
  parseQuery,
  queryTerms,
  type TextQuery,
} from './query.js';
export { type FetchObject, fetchFromBuilt, TextSegmentReader } from './reader.js';
export { MAX_TEXT_K, searchText, type TextHit, type TextMatch, type TextSearchOptions } from './search.js';
export {
  type BuiltObject,
  type BuiltTextSegment,
  PAGE_TARGET_BYTES,
  type TextSegmentStats,
} from './segment-writer.js';
export {
  ANALYZER,
  analyze,
  FIELD_GAP,
  MAX_TOKEN_CHARS,
  STOP_WORDS,
  type Token,
  tokenize,
  tokenizeFields,
  type Word,
} from './tokenize.js';
