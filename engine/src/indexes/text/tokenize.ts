import { stemmer } from 'stemmer';

/**
 * The text analyzer `dreamdb.text-en-1` (spec 0015 §2): text -> terms with positions. Steps, in order:
 * NFKC, lowercase (Unicode default, locale-independent), words = maximal runs of letters, marks and
 * numbers where an apostrophe between two such characters joins the run and is then removed
 * ("don't" -> "dont"), every word takes the next position, words of more than MAX_TOKEN_CHARS code
 * points and stop words are dropped (their positions stay taken, so a phrase still needs them),
 * and words of only a-z are Porter-stemmed.
 */

/** The analyzer's name, written in every text directory; readers refuse others. */
export const ANALYZER = 'dreamdb.text-en-1';
/** Longest word indexed, in code points; longer ones are dropped. */
export const MAX_TOKEN_CHARS = 64;
/** Positions skipped between consecutive fields of a document, so no phrase matches across them. */
export const FIELD_GAP = 128;

/** The stop words (Lucene's English set), matched before stemming. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then there ' +
    'these they this to was will with'
  ).split(' '),
);

/** One indexed word: its term (stemmed) and its position. */
export interface Token {
  readonly term: string;
  readonly position: number;
}

/** A word as the analyzer sees it before stemming, with its position and whether it is indexed. */
export interface Word {
  readonly word: string;
  readonly position: number;
  /** The indexed term, or undefined for a stop word or an over-long word. */
  readonly term: string | undefined;
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}\p{N}]+)*/gu;
const APOSTROPHES = /['\u2019]/g;
const ASCII_WORD = /^[a-z]+$/;

const stems = new Map<string, string>();

/** Porter stem of an a-z word (memoized: vocabularies are small next to texts). */
function stem(word: string): string {
  let out = stems.get(word);
  if (out === undefined) {
    out = stemmer(word);
    if (stems.size >= 200_000) stems.clear();
    stems.set(word, out);
  }
  return out;
}

/** Code points of a string, stopping early once past `max`. */
function codePointsOver(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let n = 0;
  for (const _ of text) if (++n > max) return true;
  return false;
}

/** The term a word is indexed under, or undefined when it is not indexed. */
export function termOf(word: string): string | undefined {
  if (codePointsOver(word, MAX_TOKEN_CHARS) || STOP_WORDS.has(word)) return undefined;
  return ASCII_WORD.test(word) ? stem(word) : word;
}

/** Every word of `text` with its position (from `start`) and term; see the module comment for the steps. */
export function analyze(text: string, start = 0): Word[] {
  const words: Word[] = [];
  let position = start;
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    const raw = match[0];
    const word = raw.includes("'") || raw.includes('\u2019') ? raw.replace(APOSTROPHES, '') : raw;
    words.push({ word, position: position++, term: termOf(word) });
  }
  return words;
}

/** The indexed tokens of `text`, positions from `start`. */
export function tokenize(text: string, start = 0): Token[] {
  const tokens: Token[] = [];
  for (const { term, position } of analyze(text, start))
    if (term !== undefined) tokens.push({ term, position });
  return tokens;
}

/**
 * Tokens of consecutive fields of one document: field i+1 starts FIELD_GAP positions after the
 * position following field i's last word (its first word, empty or not, at 0 for field 0). The same
 * steps as `analyze`, without an object per dropped word (the build's hot loop).
 */
export function tokenizeFields(texts: readonly string[]): Token[][] {
  let position = 0;
  return texts.map((text, i) => {
    if (i > 0) position += FIELD_GAP;
    const tokens: Token[] = [];
    for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      const raw = match[0];
      const word = raw.includes("'") || raw.includes('\u2019') ? raw.replace(APOSTROPHES, '') : raw;
      const term = termOf(word);
      if (term !== undefined) tokens.push({ term, position });
      position++;
    }
    return tokens;
  });
}
