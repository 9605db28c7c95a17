/**
 * `@dreamdb/engine/indexes/text`: the parts of the BM25 text index (spec 0015): the analyzer, query
 * syntax, segment objects, search and merge, usable on their own over any fetch function.
 */

export { DEFAULT_B, DEFAULT_K1, idf as bm25Idf, termWeight as bm25TermWeight } from '../indexes/text/bm25.js';
export { type AnalyzedText, analyzeText, buildTextSegment, type TextDoc } from '../indexes/text/build.js';
export { compareCodePoints } from '../indexes/text/collate.js';
export {
  type DocumentPageRef,
  decodeTextDirectory,
  encodeTextDirectory,
  MAX_FIELDS,
  MAX_TEXT_OBJECT_BYTES,
  type PostingsPageRef,
  type TextDirectory,
} from '../indexes/text/directory.js';
export {
  type DocumentsPage,
  decodeDocumentsPage,
  encodeDocumentsPage,
  type TextDocInfo,
} from '../indexes/text/documents-page.js';
export { mergeTextSegments } from '../indexes/text/merge.js';
export { decodePostingsPage, type PostingList, type PostingsPage } from '../indexes/text/postings-page.js';
export {
  MAX_PHRASE_WORDS,
  MAX_QUERY_CHARS,
  type Phrase,
  parseQuery as parseTextQuery,
  queryTerms,
  type TextQuery,
} from '../indexes/text/query.js';
export { type FetchObject, fetchFromBuilt, TextSegmentReader } from '../indexes/text/reader.js';
export {
  MAX_TEXT_K,
  searchText,
  type TextHit,
  type TextMatch,
  type TextSearchOptions,
} from '../indexes/text/search.js';
export {
  type BuiltObject,
  type BuiltTextSegment,
  PAGE_TARGET_BYTES,
  type TextSegmentStats,
} from '../indexes/text/segment-writer.js';
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
} from '../indexes/text/tokenize.js';
export { textFields } from '../indexes/text/write.js';
