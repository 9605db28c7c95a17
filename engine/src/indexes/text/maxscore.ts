import { type PostingBlocks, postingBlocks } from './blocks.js';
import { termWeight } from './bm25.js';
import { PostingCursor } from './cursor.js';
import type { TextDocInfo } from './documents-page.js';
import { hasPhrase } from './phrase.js';
import type { PostingList } from './postings-page.js';
import type { TextQuery } from './query.js';
import type { ScoreFloor } from './top.js';
import { SegmentTop } from './top.js';

/**
 * Dynamic pruning of a segment's BM25 top k (spec 0015 §7, "Pruning"): block-max MaxScore
 * (Turtle & Flood 1995; Ding & Suel 2011 for the block bounds). Each scored term has an upper bound of
 * its weight per block of postings (blocks.ts) and over its whole list. Once k documents are kept,
 * the floor is the lowest of the k best scores: a term whose bound, with every lower-bounded term's,
 * stays below it cannot make a hit alone, so only the other ("essential") terms propose documents;
 * a run of documents whose block bounds stay below it is skipped unread, and a document whose bound
 * drops below it while its other terms are looked up is dropped. A document that passes is scored in
 * full, exactly as §6 says, so the hits and scores are those of the exhaustive search.
 */

/**
 * Bounds are compared with this margin: a bound is a sum in another order than the score's sum (and
 * of the weights of dominating (tf, dl) pairs), so it may be a few ulps below a score it bounds.
 */
const SLACK = 1 + 1e-9;

/** One scored term of one segment: its cursor and weight bounds. */
interface Term {
  /** Index in `query.scored`. */
  readonly t: number;
  readonly cursor: PostingCursor;
  readonly blocks: PostingBlocks;
  /** Largest weight per block. */
  readonly maxes: Float64Array;
  /** Largest weight over the list. */
  readonly max: number;
  /** Block of the last bound asked for (bounds are asked for at non-decreasing ordinals). */
  shallow: number;
}

/** Largest weight of `term` over the documents lo..hi (lo non-decreasing over calls). */
function boundIn(term: Term, lo: number, hi: number): number {
  const { last, count } = term.blocks;
  const maxes = term.maxes;
  let b = term.shallow;
  while (b < count && last[b]! < lo) b++;
  term.shallow = b;
  let max = 0;
  for (; b < count; b++) {
    if (maxes[b]! > max) max = maxes[b]!;
    if (last[b]! >= hi) break;
  }
  return max;
}

/** A kept document of a segment: ordinal, score, and a field mask per scored term. */
export interface SegmentHit {
  readonly ord: number;
  readonly score: number;
  readonly masks: readonly number[];
}

/** Scoring context shared by the segments of one search. */
export interface PruneContext {
  readonly query: TextQuery;
  readonly idfs: readonly number[];
  readonly avgdl: number;
  readonly k1: number;
  readonly b: number;
  readonly k: number;
  /** The k best scores over the segments searched so far. */
  readonly floor: ScoreFloor;
  readonly filter?: (doc: TextDocInfo) => boolean;
  /** Track, tick and duration of a document of this segment (for the filter). */
  readonly document: (ord: number) => TextDocInfo | Promise<TextDocInfo>;
}

/** The k best matching documents of one segment that can still be hits, best first. */
export async function evaluatePruned(
  lists: ReadonlyMap<string, PostingList>,
  ctx: PruneContext,
): Promise<SegmentHit[]> {
  const { query, idfs, avgdl, k1, b, floor, filter } = ctx;
  const cursors = new Map<string, PostingCursor>();
  const blocksOf = new Map<string, PostingBlocks>();
  for (const [term, list] of lists) {
    const blocks = postingBlocks(list);
    const cursor = new PostingCursor(list, blocks);
    cursor.next();
    cursors.set(term, cursor);
    blocksOf.set(term, blocks);
  }
  const required = new Set(query.phrases.flatMap((p) => p.terms.map((t) => t.term)));
  for (const term of required) if (!cursors.has(term)) return [];
  const T = query.scored.length;
  const scoredCursors: (PostingCursor | undefined)[] = query.scored.map((term) => cursors.get(term));
  const terms: Term[] = [];
  query.scored.forEach((term, t) => {
    const cursor = cursors.get(term);
    if (!cursor) return;
    const blocks = blocksOf.get(term)!;
    const maxes = new Float64Array(blocks.count);
    let max = 0;
    const idf = idfs[t]!;
    for (let i = 0; i < blocks.count; i++) {
      let m = 0;
      for (let j = blocks.frontStart[i]!; j < blocks.frontStart[i + 1]!; j++) {
        const w = termWeight(idf, blocks.frontTf[j]!, blocks.frontDl[j]!, avgdl, k1, b);
        if (w > m) m = w;
      }
      maxes[i] = m;
      if (m > max) max = m;
    }
    terms.push({ t, cursor, blocks, maxes, max, shallow: 0 });
  });
  const must = terms.filter((term) => required.has(query.scored[term.t]!));
  const byMax = terms.filter((term) => !required.has(query.scored[term.t]!)).sort((x, y) => x.max - y.max);
  const total = terms.reduce((s, term) => s + term.max, 0);
  const below = (bound: number) => bound * SLACK < floor.floor;
  const weight = (term: Term) => termWeight(idfs[term.t]!, term.cursor.tf, term.cursor.dl, avgdl, k1, b);

  // Drivers propose documents: the required terms, else the essential terms. The others are looked
  // up at the proposed documents, the one with the largest bound first.
  let drivers: Term[] = must.length > 0 ? must : byMax;
  let others: Term[] = must.length > 0 ? [...byMax].reverse() : [];
  let bounds = new Float64Array(others.length + 1);
  let othersMax = others.reduce((sum, term) => sum + term.max, 0);
  let seenFloor = Number.NaN;
  let windowEnd = -1;
  let windowFloor = Number.NaN;
  const top = new SegmentTop(ctx.k);

  for (;;) {
    if (floor.floor !== seenFloor) {
      seenFloor = floor.floor;
      if (below(total)) break;
      if (must.length === 0) {
        // Non-essential: the longest run of smallest bounds whose sum stays below the floor.
        let p = 0;
        let sum = 0;
        while (p < byMax.length && below(sum + byMax[p]!.max)) sum += byMax[p++]!.max;
        if (p !== others.length) {
          drivers = byMax.slice(p);
          others = byMax.slice(0, p).reverse();
          bounds = new Float64Array(others.length + 1);
          othersMax = sum;
        }
      }
    }

    // The next candidate: every required term at one document, else the first document of a driver.
    let ord: number;
    if (must.length > 0) {
      ord = must[0]!.cursor.ord;
      for (let moved = true; moved && ord !== Number.POSITIVE_INFINITY; ) {
        moved = false;
        for (const { cursor } of must) {
          cursor.advanceTo(ord);
          if (cursor.ord > ord) {
            ord = cursor.ord;
            moved = true;
          }
        }
      }
    } else {
      ord = Number.POSITIVE_INFINITY;
      for (const { cursor } of drivers) if (cursor.ord < ord) ord = cursor.ord;
    }
    if (ord === Number.POSITIVE_INFINITY) break;

    // Window: from `ord` to the end of the first driver block that ends. When the drivers' block bounds
    // and the others' bounds over the window stay below the floor, no document in it can be a hit.
    let end = Number.POSITIVE_INFINITY;
    let ender: Term | undefined;
    for (const term of drivers) {
      if (term.cursor.ord === Number.POSITIVE_INFINITY) continue;
      const blockEnd = term.blocks.last[term.cursor.block]!;
      if (blockEnd < end) {
        end = blockEnd;
        ender = term;
      }
    }
    if (end !== windowEnd || floor.floor !== windowFloor) {
      let bound = 0;
      // A driver whose next document is past the window holds nothing in it.
      for (const term of drivers) if (term.cursor.ord <= end) bound += term.maxes[term.cursor.block]!;
      for (const term of others) bound += boundIn(term, ord, end);
      if (below(bound)) {
        if (must.length > 0) ender!.cursor.advanceTo(end + 1);
        else for (const { cursor } of drivers) if (cursor.ord <= end) cursor.advanceTo(end + 1);
        continue;
      }
      windowEnd = end;
      windowFloor = floor.floor;
    }

    // The document: the drivers' weights, then the others' while the bound stays at the floor or above.
    let keep = true;
    let partial = 0;
    if (floor.floor !== Number.NEGATIVE_INFINITY) {
      for (const term of drivers) if (term.cursor.ord === ord) partial += weight(term);
      // First the others' bounds over their whole lists (free), then over their blocks at `ord`.
      keep = !below(partial + othersMax);
    }
    if (keep && floor.floor !== Number.NEGATIVE_INFINITY) {
      bounds[others.length] = 0;
      for (let i = others.length - 1; i >= 0; i--) bounds[i] = bounds[i + 1]! + boundIn(others[i]!, ord, ord);
      keep = !below(partial + bounds[0]!);
      for (let i = 0; keep && i < others.length; i++) {
        const term = others[i]!;
        term.cursor.advanceTo(ord);
        if (term.cursor.ord === ord) partial += weight(term);
        keep = !below(partial + bounds[i + 1]!);
      }
    }
    if (keep) {
      for (const term of others) term.cursor.advanceTo(ord);
      keep =
        query.phrases.every((p) => hasPhrase(p, cursors, ord)) &&
        !query.excluded.some((p) => hasPhrase(p, cursors, ord));
    }
    if (keep) {
      // The score exactly as §6: the weights in code point order of the terms, added from 0.
      let score = 0;
      for (let t = 0; t < T; t++) {
        const c = scoredCursors[t];
        if (c !== undefined && c.ord === ord) score += termWeight(idfs[t]!, c.tf, c.dl, avgdl, k1, b);
      }
      if (score >= floor.floor && top.takes(score, ord)) {
        let pass = true;
        if (filter) {
          const doc = ctx.document(ord);
          pass = filter(doc instanceof Promise ? await doc : doc);
        }
        if (pass) {
          top.add(score, ord);
          floor.add(score);
        }
      }
    }
    // Past this document: the driving cursors move on.
    if (must.length > 0) must[0]!.cursor.advanceTo(ord + 1);
    else for (const { cursor } of drivers) if (cursor.ord === ord) cursor.next();
  }

  // The kept documents' field masks, read again with fresh cursors in ordinal order.
  const kept = top.sorted();
  const masks = new Map<number, number[]>();
  const fresh = query.scored.map((term) => {
    const list = lists.get(term);
    if (!list) return undefined;
    const cursor = new PostingCursor(list, blocksOf.get(term));
    cursor.next();
    return cursor;
  });
  for (const ord of kept.map((h) => h.ord).sort((x, y) => x - y)) {
    masks.set(
      ord,
      fresh.map((c) => {
        c?.advanceTo(ord);
        return c !== undefined && c.ord === ord ? c.mask : 0;
      }),
    );
  }
  return kept.map(({ ord, score }) => ({ ord, score, masks: masks.get(ord)! }));
}
