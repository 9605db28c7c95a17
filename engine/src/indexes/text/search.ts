import { EngineError, quote } from '../../errors.js';
import type { Tick } from '../../time/ticks.js';
import { DEFAULT_B, DEFAULT_K1, idf, termWeight } from './bm25.js';
import { compareCodePoints } from './collate.js';
import { PostingCursor } from './cursor.js';
import type { TextDocInfo } from './documents-page.js';
import { evaluatePruned, type SegmentHit } from './maxscore.js';
import { hasPhrase } from './phrase.js';
import type { PostingList } from './postings-page.js';
import { parseQuery, queryTerms, type TextQuery } from './query.js';
import type { TextSegmentReader } from './reader.js';
import { CandidateHeap, ScoreFloor } from './top.js';

/**
 * BM25 search over text segments (spec 0015 §5-§7): collection statistics are summed over all the
 * segments given, so several segments rank exactly like one segment holding all their documents.
 */

/** Search options: how many hits, an optional filter on each hit's place, BM25 parameters. */
export interface TextSearchOptions {
  /** Hits to return, 1 to MAX_TEXT_K. */
  readonly k: number;
  /** Keep only documents this returns true for (a time window, a set of tracks). */
  readonly filter?: (doc: TextDocInfo) => boolean;
  /** Per segment, ticks of documents the track no longer holds (spec 0020 §2.1): never hits. */
  readonly dropped?: readonly (ReadonlySet<Tick> | undefined)[];
  /** Term-frequency saturation, default 1.2. */
  readonly k1?: number;
  /** Length normalization, 0 to 1, default 0.75. */
  readonly b?: number;
  /**
   * Score every matching document instead of skipping those that cannot be hits (same hits, same
   * scores; slower): the reference the pruned search is tested and benchmarked against.
   */
  readonly exhaustive?: boolean;
}

/** A term a hit matched, and the fields it matched in (in code point order). */
export interface TextMatch {
  readonly term: string;
  readonly fields: readonly string[];
}

/** One hit: the item's place, its BM25 score and the scored terms it matched (in code point order). */
export interface TextHit extends TextDocInfo {
  readonly score: number;
  readonly matches: readonly TextMatch[];
}

/** Most hits one search returns. */
export const MAX_TEXT_K = 10_000;

/** A segment's candidates: ordinals ascending, their scores, and a field mask per scored term. */
interface Candidates {
  readonly ords: number[];
  readonly scores: number[];
  readonly masks: number[];
}

interface Ranked extends TextHit {
  readonly segment: number;
  readonly ord: number;
}

/** Score every document of one segment that the query matches. */
function evaluate(
  query: TextQuery,
  lists: ReadonlyMap<string, PostingList>,
  weight: (term: number, tf: number, dl: number) => number,
): Candidates {
  const out: Candidates = { ords: [], scores: [], masks: [] };
  const cursors = new Map<string, PostingCursor>();
  for (const [term, list] of lists) {
    const cursor = new PostingCursor(list);
    cursor.next();
    cursors.set(term, cursor);
  }
  const scored = query.scored.map((t) => cursors.get(t));
  const required = [...new Set(query.phrases.flatMap((p) => p.terms.map((t) => t.term)))].map((t) =>
    cursors.get(t),
  );
  if (required.some((c) => c === undefined)) return out;
  const must = required as PostingCursor[];
  const should = scored.filter((c): c is PostingCursor => c !== undefined);
  const single = query.phrases.length === 0 && query.excluded.length === 0 && should.length === 1;
  for (;;) {
    let ord: number;
    if (must.length > 0) {
      // Leapfrog: every required term at one document.
      ord = Math.max(...must.map((c) => c.ord));
      for (let moved = true; moved && ord !== Number.POSITIVE_INFINITY; ) {
        moved = false;
        for (const c of must) {
          c.advanceTo(ord);
          if (c.ord > ord) {
            ord = c.ord;
            moved = true;
          }
        }
      }
    } else {
      ord = Number.POSITIVE_INFINITY;
      for (const c of should) if (c.ord < ord) ord = c.ord;
    }
    if (ord === Number.POSITIVE_INFINITY) return out;
    const keep =
      single ||
      (query.phrases.every((p) => hasPhrase(p, cursors, ord)) &&
        !query.excluded.some((p) => hasPhrase(p, cursors, ord)));
    if (keep) {
      let score = 0;
      for (let t = 0; t < scored.length; t++) {
        const c = scored[t];
        if (c !== undefined && c.ord < ord) c.advanceTo(ord);
        if (c !== undefined && c.ord === ord) {
          score += weight(t, c.tf, c.dl);
          out.masks.push(c.mask);
        } else out.masks.push(0);
      }
      out.ords.push(ord);
      out.scores.push(score);
    }
    // Past this document: the driving cursors move on.
    if (must.length > 0) must[0]!.advanceTo(ord + 1);
    else for (const c of should) if (c.ord === ord) c.next();
  }
}

/** Every match of one segment scored, then the k best the filter keeps: the reference for pruning. */
async function exhaustive(
  query: TextQuery,
  lists: ReadonlyMap<string, PostingList>,
  weight: (term: number, tf: number, dl: number) => number,
  k: number,
  filter: ((doc: TextDocInfo) => boolean) | undefined,
  document: (ord: number) => TextDocInfo | Promise<TextDocInfo>,
): Promise<SegmentHit[]> {
  const candidates = evaluate(query, lists, weight);
  const heap = new CandidateHeap(candidates.scores);
  const T = query.scored.length;
  const out: SegmentHit[] = [];
  while (out.length < k && heap.size > 0) {
    const i = heap.pop();
    const ord = candidates.ords[i]!;
    if (filter && !filter(await document(ord))) continue;
    out.push({ ord, score: candidates.scores[i]!, masks: candidates.masks.slice(i * T, i * T + T) });
  }
  return out;
}

function checkOptions(options: TextSearchOptions): { k: number; k1: number; b: number } {
  const { k, k1 = DEFAULT_K1, b = DEFAULT_B } = options;
  if (!Number.isInteger(k) || k < 1 || k > MAX_TEXT_K) {
    throw new EngineError('E_BAD_REQUEST', `text search k ${quote(k)} must be an integer 1-${MAX_TEXT_K}`);
  }
  if (typeof k1 !== 'number' || !Number.isFinite(k1) || k1 < 0) {
    throw new EngineError('E_BAD_REQUEST', `text search k1 ${quote(k1)} must be a finite number >= 0`);
  }
  if (typeof b !== 'number' || !(b >= 0 && b <= 1)) {
    throw new EngineError('E_BAD_REQUEST', `text search b ${quote(b)} must be a number 0-1`);
  }
  return { k, k1, b };
}

/** Order of hits: higher score, then track (code point order), then earlier tick, then segment and ordinal. */
function compareHits(a: Ranked, b: Ranked): number {
  if (a.score !== b.score) return b.score - a.score;
  return (
    compareCodePoints(a.track, b.track) ||
    (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0) ||
    a.segment - b.segment ||
    a.ord - b.ord
  );
}

/**
 * The k best documents of `segments` for a query (a string or a parsed TextQuery), by BM25 with N, df
 * and avgdl summed over the segments; ties go to the track first in code point order, then the earlier tick.
 */
export async function searchText(
  segments: readonly TextSegmentReader[],
  query: string | TextQuery,
  options: TextSearchOptions,
): Promise<TextHit[]> {
  const parsed = typeof query === 'string' ? parseQuery(query) : query;
  const { k, k1, b } = checkOptions(options);
  const terms = queryTerms(parsed);
  const perSegment = await Promise.all(
    segments.map(async (segment) => {
      const lists = new Map<string, PostingList>();
      const found = await Promise.all(terms.map((t) => segment.postings(t)));
      found.forEach((list, i) => {
        if (list) lists.set(terms[i]!, list);
      });
      return lists;
    }),
  );
  const docs = segments.reduce((s, seg) => s + seg.docs, 0);
  const tokens = segments.reduce((s, seg) => s + seg.tokens, 0);
  if (docs === 0) return [];
  const avgdl = tokens / docs;
  const idfs = parsed.scored.map((term) =>
    idf(
      docs,
      perSegment.reduce((s, lists) => s + (lists.get(term)?.df ?? 0), 0),
    ),
  );
  const weight = (t: number, tf: number, dl: number) => termWeight(idfs[t]!, tf, dl, avgdl, k1, b);
  const floor = new ScoreFloor(k);
  const ranked: Ranked[] = [];
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const document = (ord: number) => segment.documentIfLoaded(ord) ?? segment.document(ord);
    const gone = options.dropped?.[s];
    const filter =
      gone && gone.size > 0
        ? // The caller's filter first: a time window turns most documents away more cheaply than a set lookup.
          (doc: TextDocInfo) => (!options.filter || options.filter(doc)) && !gone.has(doc.tick)
        : options.filter;
    const hits = options.exhaustive
      ? await exhaustive(parsed, perSegment[s]!, weight, k, filter, document)
      : await evaluatePruned(perSegment[s]!, {
          query: parsed,
          idfs,
          avgdl,
          k1,
          b,
          k,
          floor,
          filter,
          document,
        });
    for (const { ord, score, masks } of hits) {
      const info = await document(ord);
      const matches: TextMatch[] = [];
      masks.forEach((mask, t) => {
        if (mask !== 0) {
          matches.push({
            term: parsed.scored[t]!,
            fields: segment.directory.fields.filter((_, f) => mask & (2 ** f)),
          });
        }
      });
      ranked.push({ ...info, score, matches, segment: s, ord });
    }
  }
  return ranked
    .sort(compareHits)
    .slice(0, k)
    .map(({ track, tick, duration, score, matches }) => ({ track, tick, duration, score, matches }));
}
