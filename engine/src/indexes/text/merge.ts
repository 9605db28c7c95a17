import { EngineError } from '../../errors.js';
import type { Tick } from '../../time/ticks.js';
import { compareDocs, duplicateError } from './build.js';
import { compareCodePoints, sortedUnique } from './collate.js';
import { PostingCursor } from './cursor.js';
import { MAX_FIELDS } from './directory.js';
import { documentColumns } from './documents-page.js';
import type { PostingList } from './postings-page.js';
import type { TextSegmentReader } from './reader.js';
import { type BuiltTextSegment, SegmentWriter } from './segment-writer.js';

/** The ordinal of a document a merge drops. */
const DROPPED = 0xffffffff;

/**
 * Merge segments into one (LSM-style compaction) without re-analyzing text: documents are re-ordered by
 * (track, tick) and each posting moves to its new ordinal and field bits. The result is byte for byte
 * the segment buildTextSegment gives for the union of the segments' documents.
 */
export async function mergeTextSegments(
  readers: readonly TextSegmentReader[],
  /** Documents to keep (default all): a delete's compaction and erasure drop the others, postings and all. */
  keep?: (doc: { track: string; tick: Tick }) => boolean,
): Promise<BuiltTextSegment> {
  const documents = await Promise.all(readers.map((r) => r.documents()));
  const all = documents.flatMap((docs, r) =>
    docs.flatMap((doc, ord) => (!keep || keep(doc) ? [{ ...doc, r, ord }] : [])),
  );
  all.sort(compareDocs);
  for (let i = 1; i < all.length; i++) {
    if (compareDocs(all[i - 1]!, all[i]!) === 0) throw duplicateError(all[i]!.track, all[i]!.tick);
  }
  const remap = documents.map((docs) => new Uint32Array(docs.length).fill(DROPPED));
  all.forEach((doc, ordinal) => {
    remap[doc.r]![doc.ord] = ordinal;
  });
  const fields = sortedUnique(readers.flatMap((r) => r.directory.fields));
  if (fields.length > MAX_FIELDS) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `merged text segments have ${fields.length} field names, over ${MAX_FIELDS}`,
    );
  }
  const fieldBits = readers.map((r) => r.directory.fields.map((name) => 2 ** fields.indexOf(name)));
  const { tracks, columns: rows } = documentColumns(all);
  const writer = new SegmentWriter(
    fields,
    tracks,
    rows,
    readers.reduce((s, r) => s + r.tokens, 0),
  );
  const droppedSeen = new Set<string>();
  // Walk every segment's terms in order together: a k-way merge of sorted term streams.
  const streams = readers.map((r) => r.lists()[Symbol.asyncIterator]());
  const heads: (PostingList | undefined)[] = await Promise.all(
    streams.map(async (s) => (await s.next()).value),
  );
  for (;;) {
    let term: string | undefined;
    for (const head of heads)
      if (head && (term === undefined || compareCodePoints(head.term, term) < 0)) term = head.term;
    if (term === undefined) break;
    const postings: { ord: number; dl: number; mask: number; positions: number[] }[] = [];
    for (let r = 0; r < heads.length; r++) {
      const head = heads[r];
      if (!head || head.term !== term) continue;
      const cursor = new PostingCursor(head);
      while (cursor.next()) {
        const ordinal = remap[r]![cursor.ord]!;
        if (ordinal === DROPPED) {
          // A dropped document's length leaves the segment's token count, once (its first term).
          const key = `${r}:${cursor.ord}`;
          if (!droppedSeen.has(key)) {
            droppedSeen.add(key);
            writer.tokens -= cursor.dl;
          }
          continue;
        }
        let mask = 0;
        for (let f = 0; f < fieldBits[r]!.length; f++) if (cursor.mask & (2 ** f)) mask += fieldBits[r]![f]!;
        postings.push({ ord: ordinal, dl: cursor.dl, mask, positions: cursor.positions() });
      }
      heads[r] = (await streams[r]!.next()).value;
    }
    postings.sort((a, b) => a.ord - b.ord);
    for (const p of postings) writer.add(term, p.ord, p.dl, p.mask, p.positions);
  }
  return writer.finish();
}
