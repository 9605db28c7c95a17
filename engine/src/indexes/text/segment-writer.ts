import { hashBytes, type Multihash } from '../../address/multihash.js';
import { joinParts } from '../../bytes.js';
import { EngineError, quote } from '../../errors.js';
import { compareCodePoints } from './collate.js';
import { encodeTextDirectory } from './directory.js';
import { type DocumentColumns, sealDocumentsPage, writeDocument } from './documents-page.js';
import { assertPageSize, encodePostingsPage, type PostingList } from './postings-page.js';
import { ANALYZER } from './tokenize.js';
import { ByteWriter } from './varint.js';

/**
 * Writes a segment's objects from its postings (spec 0015 §4.5). Build and merge both feed it, in the
 * same order of ordinals per term, so the same documents give the same bytes however they arrived.
 */

/** Payload bytes a page is filled to: a query fetches about this much per term it looks up. */
export const PAGE_TARGET_BYTES = 64 * 1024;

/** An object of a segment: its address and bytes. */
export interface BuiltObject {
  readonly hash: Multihash;
  readonly bytes: Uint8Array;
}

/** Counts of a built segment. */
export interface TextSegmentStats {
  readonly docs: number;
  readonly tokens: number;
  readonly terms: number;
  readonly postings: number;
  /** Postings pages and documents pages. */
  readonly pages: number;
  /** Bytes of every object, the directory included. */
  readonly bytes: number;
}

/** A built segment: the directory (whose hash names the segment) and every page it lists. */
export interface BuiltTextSegment {
  readonly directory: BuiltObject;
  readonly pages: readonly BuiltObject[];
  readonly stats: TextSegmentStats;
}

class TermPostings {
  readonly docs = new ByteWriter(8);
  readonly positions = new ByteWriter(8);
  df = 0;
  last = -1;
}

const built = (bytes: Uint8Array): BuiltObject => ({ hash: hashBytes(bytes), bytes });

/** Collects postings, then seals pages and the directory. */
export class SegmentWriter {
  private readonly terms = new Map<string, TermPostings>();
  private postings = 0;

  constructor(
    readonly fields: readonly string[],
    readonly tracks: readonly string[],
    readonly docs: DocumentColumns,
    /** Indexed tokens over all documents (a merge that drops documents takes theirs off). */
    public tokens: number,
  ) {}

  /**
   * Add the posting of `term` in document `ordinal` (per term, ordinals must increase): its positions are
   * positions[from .. to), ascending.
   */
  add(
    term: string,
    ordinal: number,
    dl: number,
    mask: number,
    positions: ArrayLike<number>,
    from = 0,
    to = positions.length,
  ): void {
    let list = this.terms.get(term);
    if (!list) {
      list = new TermPostings();
      this.terms.set(term, list);
    }
    if (ordinal <= list.last) throw new Error(`postings of ${quote(term)} out of order at ${ordinal}`);
    list.docs.u32(list.last < 0 ? ordinal : ordinal - list.last);
    list.docs.u32(to - from);
    list.docs.u32(dl);
    list.docs.u32(mask);
    let previous = 0;
    for (let i = from; i < to; i++) {
      const position = positions[i]!;
      list.positions.u32(i === from ? position : position - previous);
      previous = position;
    }
    list.last = ordinal;
    list.df++;
    this.postings++;
  }

  /** Seal every page and the directory. */
  finish(): BuiltTextSegment {
    const terms = [...this.terms.keys()].sort(compareCodePoints);
    const pages: BuiltObject[] = [];
    const pageRefs: { first: string; hash: Multihash; terms: number; postings: number }[] = [];
    let batch: PostingList[] = [];
    let batchBytes = 0;
    const flush = () => {
      if (batch.length === 0) return;
      const bytes = joinParts(encodePostingsPage(batch));
      assertPageSize(bytes.length, `text page of term ${quote(batch[0]!.term)}`);
      const page = built(bytes);
      pages.push(page);
      pageRefs.push({
        first: batch[0]!.term,
        hash: page.hash,
        terms: batch.length,
        postings: batch.reduce((s, l) => s + l.df, 0),
      });
      batch = [];
      batchBytes = 0;
    };
    for (const term of terms) {
      const postings = this.terms.get(term)!;
      const docs = postings.docs.view();
      const positions = postings.positions.view();
      const bytes = joinParts([docs, positions]);
      const size = bytes.length;
      if (batch.length > 0 && batchBytes + size > PAGE_TARGET_BYTES) flush();
      batch.push({
        term,
        df: postings.df,
        bytes,
        docsStart: 0,
        docsEnd: docs.length,
        positionsStart: docs.length,
        positionsEnd: size,
      });
      batchBytes += size;
    }
    flush();
    const docPages = this.documentPages();
    const directory = built(
      encodeTextDirectory({
        analyzer: ANALYZER,
        docs: this.docs.count,
        tokens: this.tokens,
        fields: this.fields,
        tracks: this.tracks,
        pages: pageRefs,
        docPages: docPages.map((p) => ({ hash: p.page.hash, docs: p.docs })),
      }),
    );
    const all = [...pages, ...docPages.map((p) => p.page)];
    return {
      directory,
      pages: all,
      stats: {
        docs: this.docs.count,
        tokens: this.tokens,
        terms: terms.length,
        postings: this.postings,
        pages: all.length,
        bytes: all.reduce((s, p) => s + p.bytes.length, directory.bytes.length),
      },
    };
  }

  /** Documents pages: each closes after the document that brings its payload to PAGE_TARGET_BYTES. */
  private documentPages(): { page: BuiltObject; docs: number }[] {
    const out: { page: BuiltObject; docs: number }[] = [];
    const { count, tracks } = this.docs;
    let from = 0;
    let page = new ByteWriter(PAGE_TARGET_BYTES + 32);
    for (let i = 0; i < count; i++) {
      if (tracks[i]! >= this.tracks.length)
        throw new EngineError('E_FIELD', `document ${i}: no track ${tracks[i]}`);
      writeDocument(page, this.docs, i, from);
      if (page.length >= PAGE_TARGET_BYTES || i === count - 1) {
        out.push({ page: built(sealDocumentsPage(page, i + 1 - from)), docs: i + 1 - from });
        from = i + 1;
        page = new ByteWriter(PAGE_TARGET_BYTES + 32);
      }
    }
    return out;
  }
}
