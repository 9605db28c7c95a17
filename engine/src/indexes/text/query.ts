import { EngineError, quote } from '../../errors.js';
import { sortedUnique } from './collate.js';
import { analyze } from './tokenize.js';

/**
 * Text query syntax (spec 0015 §5): whitespace-separated words are optional terms, `"quoted words"` are
 * required phrases, and `-word` or `-"phrase"` exclude documents. A document matches when it holds
 * every phrase and no exclusion, and, when the query has no phrase, at least one term.
 */

/** Longest query accepted, in UTF-16 code units. */
export const MAX_QUERY_CHARS = 4096;
/** Most words (stop words included) in one phrase; below FIELD_GAP, so a phrase never spans fields. */
export const MAX_PHRASE_WORDS = 64;

/** A phrase: its terms with their offsets from the phrase's first term (stop words leave gaps). */
export interface Phrase {
  readonly terms: readonly { readonly term: string; readonly offset: number }[];
}

/** A parsed query. */
export interface TextQuery {
  /** Optional terms, sorted, distinct. */
  readonly terms: readonly string[];
  /** Required phrases (a one-term phrase is a required term), in query order. */
  readonly phrases: readonly Phrase[];
  /** Excluded phrases (a one-term phrase excludes a term), in query order. */
  readonly excluded: readonly Phrase[];
  /** Every term that scores: `terms` and the phrases' terms, sorted, distinct. */
  readonly scored: readonly string[];
}

function bad(query: string, why: string): never {
  throw new EngineError('E_BAD_REQUEST', `text query ${quote(query)}: ${why}`);
}

/** The phrase of a run of words, or undefined when none of them is indexed. */
function phraseOf(text: string, query: string): Phrase | undefined {
  const words = analyze(text);
  if (words.length > MAX_PHRASE_WORDS) bad(query, `a phrase holds more than ${MAX_PHRASE_WORDS} words`);
  const indexed = words.filter((w) => w.term !== undefined);
  if (indexed.length === 0) return undefined;
  const first = indexed[0]!.position;
  return { terms: indexed.map((w) => ({ term: w.term!, offset: w.position - first })) };
}

/** Parse a query string; E_BAD_REQUEST when it is empty, malformed or has no indexed term to look for. */
export function parseQuery(query: string): TextQuery {
  if (typeof query !== 'string') bad(String(query), 'is not text');
  if (query.length > MAX_QUERY_CHARS) bad(query, `is over ${MAX_QUERY_CHARS} characters`);
  if (query.trim() === '') bad(query, 'is empty');
  const terms: string[] = [];
  const phrases: Phrase[] = [];
  const excluded: Phrase[] = [];
  // A chunk: an optional "-", then a quoted phrase or a run of non-space characters.
  const CHUNK = /(-?)(?:"([^"]*)("?)|([^\s"]+))/gy;
  let at = 0;
  while (at < query.length) {
    if (/\s/.test(query[at]!)) {
      at++;
      continue;
    }
    CHUNK.lastIndex = at;
    const match = CHUNK.exec(query);
    if (!match) bad(query, `cannot read from character ${at}`);
    at = CHUNK.lastIndex;
    const [, minus, quoted, closed, bare] = match;
    if (quoted !== undefined && closed !== '"') bad(query, 'a quote is not closed');
    const text = quoted ?? bare!;
    if (minus === '-') {
      const phrase = phraseOf(text, query);
      if (phrase) excluded.push(phrase);
    } else if (quoted !== undefined) {
      const phrase = phraseOf(text, query);
      if (phrase) phrases.push(phrase);
    } else {
      for (const word of analyze(text)) if (word.term !== undefined) terms.push(word.term);
    }
  }
  if (terms.length === 0 && phrases.length === 0) {
    bad(query, 'has no indexed term to look for (only stop words, exclusions or punctuation)');
  }
  const scored = sortedUnique([...terms, ...phrases.flatMap((p) => p.terms.map((t) => t.term))]);
  return { terms: sortedUnique(terms), phrases, excluded, scored };
}

/** Every distinct term a query reads postings of (scored and excluded), sorted. */
export function queryTerms(query: TextQuery): string[] {
  return sortedUnique([...query.scored, ...query.excluded.flatMap((p) => p.terms.map((t) => t.term))]);
}
