import { type Multihash, multihashToHex, verifyBytes } from '../../address/multihash.js';
import { EngineError, quote } from '../../errors.js';
import { fieldError } from '../../model/fields.js';
import { compareCodePoints } from './collate.js';
import { decodeTextDirectory, type TextDirectory } from './directory.js';
import { type DocumentsPage, decodeDocumentsPage, type TextDocInfo } from './documents-page.js';
import { decodePostingsPage, type PostingList, type PostingsPage } from './postings-page.js';
import type { BuiltTextSegment } from './segment-writer.js';

/**
 * Reads one text segment through a fetch function (a store, a cache, HTTP): the directory at open,
 * then only the pages a query needs, each verified against its hash and checked once, then cached.
 */

/** Fetch an object's bytes by its hash. */
export type FetchObject = (hash: Multihash) => Promise<Uint8Array>;

/** A fetch over built segments held in memory (tests, benches, a segment just built). */
export function fetchFromBuilt(segments: readonly BuiltTextSegment[]): FetchObject {
  const objects = new Map<string, Uint8Array>();
  for (const s of segments)
    for (const o of [s.directory, ...s.pages]) objects.set(multihashToHex(o.hash), o.bytes);
  return async (hash) => {
    const bytes = objects.get(multihashToHex(hash));
    if (!bytes)
      throw new EngineError('E_NOT_FOUND', `object ${multihashToHex(hash)} is not in these text segments`);
    return bytes;
  };
}

/** Index of the last entry of a sorted list whose key is <= `key`, or -1. */
function lastAtOrBefore<T>(list: readonly T[], key: (entry: T) => number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]!) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** One opened text segment. */
export class TextSegmentReader {
  private readonly postingsPages = new Map<number, Promise<PostingsPage>>();
  private readonly documentsPages = new Map<number, Promise<DocumentsPage>>();
  private readonly loadedDocuments: (DocumentsPage | undefined)[];
  /** Ordinal of the first document of each documents page. */
  private readonly pageStarts: number[];

  private constructor(
    /** The directory's hash: the segment's name. */
    readonly hash: Multihash,
    readonly directory: TextDirectory,
    private readonly fetch: FetchObject,
  ) {
    let start = 0;
    this.pageStarts = directory.docPages.map((p) => {
      const at = start;
      start += p.docs;
      return at;
    });
    this.loadedDocuments = new Array(directory.docPages.length);
  }

  /** Fetch, verify and decode the directory `hash` names. */
  static async open(hash: Multihash, fetch: FetchObject): Promise<TextSegmentReader> {
    const bytes = await fetch(hash);
    verifyBytes(bytes, hash, 'text directory');
    return new TextSegmentReader(
      hash,
      decodeTextDirectory(bytes, `text directory ${multihashToHex(hash)}`),
      fetch,
    );
  }

  /** Documents in the segment. */
  get docs(): number {
    return this.directory.docs;
  }

  /** Indexed tokens over all documents. */
  get tokens(): number {
    return this.directory.tokens;
  }

  /** Postings page `index` of the directory, fetched and checked once. */
  postingsPage(index: number): Promise<PostingsPage> {
    let page = this.postingsPages.get(index);
    if (!page) {
      page = this.loadPostingsPage(index);
      this.postingsPages.set(index, page);
      page.catch(() => this.postingsPages.delete(index));
    }
    return page;
  }

  private async loadPostingsPage(index: number): Promise<PostingsPage> {
    const ref = this.directory.pages[index]!;
    const what = `text page ${multihashToHex(ref.hash)}`;
    const bytes = await this.fetch(ref.hash);
    verifyBytes(bytes, ref.hash, what);
    const page = decodePostingsPage(bytes, { docs: this.docs, fields: this.directory.fields.length }, what);
    const next = this.directory.pages[index + 1]?.first;
    const last = page.lists[page.lists.length - 1]!.term;
    if (page.lists[0]!.term !== ref.first)
      fieldError(what, `first term is not ${quote(ref.first)} as the directory says`);
    if (next !== undefined && compareCodePoints(last, next) >= 0)
      fieldError(what, `term ${quote(last)} belongs to a later page`);
    if (page.lists.length !== ref.terms || page.postings !== ref.postings) {
      fieldError(
        what,
        `holds ${page.lists.length} terms and ${page.postings} postings, not ${ref.terms} and ${ref.postings}`,
      );
    }
    return page;
  }

  /** The posting list of `term`, or undefined when no document holds it. */
  async postings(term: string): Promise<PostingList | undefined> {
    const index = lastAtOrBefore(this.directory.pages, (p) => compareCodePoints(p.first, term));
    if (index < 0) return undefined;
    const { lists } = await this.postingsPage(index);
    const at = lastAtOrBefore(lists, (l) => compareCodePoints(l.term, term));
    return at >= 0 && lists[at]!.term === term ? lists[at] : undefined;
  }

  /** Every posting list, in term order (what a merge reads). */
  async *lists(): AsyncGenerator<PostingList> {
    for (let i = 0; i < this.directory.pages.length; i++) yield* (await this.postingsPage(i)).lists;
  }

  private documentsPageIndex(ordinal: number): number {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.docs) {
      throw new EngineError(
        'E_RANGE',
        `document ${ordinal} is past the ${this.docs} documents of the segment`,
      );
    }
    return lastAtOrBefore(this.pageStarts, (start) => start - ordinal);
  }

  private documentsPage(index: number): Promise<DocumentsPage> {
    let page = this.documentsPages.get(index);
    if (!page) {
      const ref = this.directory.docPages[index]!;
      const what = `text page ${multihashToHex(ref.hash)}`;
      page = this.fetch(ref.hash).then((bytes) => {
        verifyBytes(bytes, ref.hash, what);
        const decoded = decodeDocumentsPage(bytes, this.directory.tracks.length, what);
        if (decoded.tracks.length !== ref.docs)
          fieldError(what, `holds ${decoded.tracks.length} documents, not ${ref.docs}`);
        this.loadedDocuments[index] = decoded;
        return decoded;
      });
      this.documentsPages.set(index, page);
      page.catch(() => this.documentsPages.delete(index));
    }
    return page;
  }

  private info(page: DocumentsPage, index: number, ordinal: number): TextDocInfo {
    const i = ordinal - this.pageStarts[index]!;
    return {
      track: this.directory.tracks[page.tracks[i]!]!,
      tick: page.ticks[i]!,
      duration: page.durations[i]!,
    };
  }

  /** Track, tick and duration of document `ordinal`, when its page is already loaded. */
  documentIfLoaded(ordinal: number): TextDocInfo | undefined {
    const index = this.documentsPageIndex(ordinal);
    const page = this.loadedDocuments[index];
    return page && this.info(page, index, ordinal);
  }

  /** Track, tick and duration of document `ordinal` (fetching its page when needed). */
  async document(ordinal: number): Promise<TextDocInfo> {
    const index = this.documentsPageIndex(ordinal);
    return this.info(this.loadedDocuments[index] ?? (await this.documentsPage(index)), index, ordinal);
  }

  /** Every document in ordinal order (what a merge reads). */
  async documents(): Promise<TextDocInfo[]> {
    const out: TextDocInfo[] = [];
    for (let index = 0; index < this.directory.docPages.length; index++) {
      const page = await this.documentsPage(index);
      for (let i = 0; i < page.tracks.length; i++)
        out.push(this.info(page, index, this.pageStarts[index]! + i));
    }
    for (let i = 1; i < out.length; i++) {
      const a = out[i - 1]!;
      const b = out[i]!;
      if (compareCodePoints(a.track, b.track) > 0 || (a.track === b.track && a.tick >= b.tick)) {
        fieldError(
          `text directory ${multihashToHex(this.hash)}`,
          `document ${i} is out of (track, tick) order`,
        );
      }
    }
    return out;
  }
}
