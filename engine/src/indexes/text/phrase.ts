import type { PostingCursor } from './cursor.js';
import type { Phrase } from './query.js';

/** True when the cursors (at one document) hold the phrase: every term at first position + offset. */
function holdsPhrase(phrase: Phrase, cursors: ReadonlyMap<string, PostingCursor>): boolean {
  const lists = phrase.terms.map((t) => cursors.get(t.term)!.positions());
  const at = new Array<number>(lists.length).fill(0);
  for (const start of lists[0]!) {
    let all = true;
    for (let i = 1; i < lists.length && all; i++) {
      const want = start + phrase.terms[i]!.offset;
      const list = lists[i]!;
      while (at[i]! < list.length && list[at[i]!]! < want) at[i]!++;
      all = list[at[i]!] === want;
    }
    if (all) return true;
  }
  return false;
}

/**
 * True when document `ord` holds `phrase` (advancing the phrase's cursors to it). Each cursor must not
 * be past `ord` unless its term is absent from `ord`.
 */
export function hasPhrase(phrase: Phrase, cursors: ReadonlyMap<string, PostingCursor>, ord: number): boolean {
  for (const { term } of phrase.terms) {
    const cursor = cursors.get(term);
    if (!cursor) return false;
    cursor.advanceTo(ord);
    if (cursor.ord !== ord) return false;
  }
  return phrase.terms.length === 1 || holdsPhrase(phrase, cursors);
}
