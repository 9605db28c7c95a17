import type { Multihash } from '../../address/multihash.js';
import { fieldError } from '../../model/fields.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import type { Codebooks } from '../../vectors/pq.js';
import { CodeKernel } from './code-kernel.js';
import { orderedDot } from './dot-kernel.js';
import { checkPage, forEachPage, type GraphIndexObject, pageOf, readPage, upperGraph } from './segment.js';
import { CandidateList, type VamanaHits, VamanaSearcher, Visits } from './vamana.js';

/**
 * A graph segment searched without holding its pages (spec 0013 §5.2, DiskANN's search): the codes
 * (spec 0010) and the navigation layers in memory, node records read by byte range as the walk reaches
 * them. The walk ranks by estimated distances from the codes; each node it expands is measured exactly
 * from the full-precision vector in its page, and the answer is the best expanded nodes by that exact
 * distance. A beam of several nodes is expanded per round, their pages fetched together: one round trip
 * of the object store per round, not per node.
 */

/**
 * Nodes expanded per round: pages fetched at once (DiskANN's beam width). At list 64 on 100k x 128 with
 * 20 ms a GET: beam 4 takes 16.5 round trips a query (p50 346 ms), 8 takes 9 (185 ms) for 5% more pages.
 */
export const BEAM_WIDTH = 8;

/** Verified pages a paged segment keeps (64 MiB of 4 KiB pages), least recently used out first. */
export const PAGE_CACHE_PAGES = 16_384;

/** Reads a byte range of an object: the store's ranged GET. */
export type RangeReader = (object: Multihash, start: number, end: number) => Promise<Uint8Array>;

/** What a paged search did: the hits, and the pages it read from the store and its rounds of reads. */
export interface PagedHits extends VamanaHits {
  readonly pagesRead: number;
  readonly rounds: number;
}

export class PagedGraph {
  private readonly codes: CodeKernel;
  private readonly upper: VamanaSearcher | undefined;
  /** Visit marks of searches in flight (a query awaits its pages while others run): one each, reused. */
  private readonly visitsPool: Visits[] = [];
  /** Which search's table the code kernel holds now. */
  private tableOwner: object | undefined;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Promise<Uint8Array>>();

  constructor(
    readonly index: GraphIndexObject,
    books: Codebooks,
    codes: Uint8Array,
    private readonly read: RangeReader,
    private readonly cachePages = PAGE_CACHE_PAGES,
  ) {
    this.codes = new CodeKernel(books, index.count, codes);
    const upper = upperGraph(index.upper, index.params.dimension);
    this.upper = upper && new VamanaSearcher(upper, this.codes.sample(upper.n));
  }

  /** With every out-edge held (holdLinks): a searcher walking codes and edges without reading pages. */
  private linked: VamanaSearcher | undefined;

  /** Whether the out-edges are held: a query then reads pages once, to re-rank its list. */
  get holdsLinks(): boolean {
    return this.linked !== undefined;
  }

  /**
   * Read every page once (whole GraphPage objects, each checked by its address) and hold the out-edges,
   * 4·R bytes a node. From then on a query walks codes and edges in memory and reads the pages of its
   * list in one round, to re-rank them (spec 0013 §3.2): one round trip a cold query instead of
   * list / beam.
   */
  async holdLinks(fetchObject: (object: Multihash) => Promise<Uint8Array>): Promise<void> {
    const { index } = this;
    const { degree, dimension } = index.params;
    const neighbors = new Int32Array(index.count * degree).fill(-1);
    const counts = new Uint16Array(index.count);
    const into = { neighbors, counts, setRow: () => {} };
    await forEachPage(
      index,
      fetchObject,
      (page, bytes, what) => readPage(index, page, bytes, into, what),
      () => this.closed,
    );
    if (this.closed) return;
    const upper = upperGraph(index.upper, dimension);
    const graph = { n: index.count, dim: dimension, degree, neighbors, counts, medoid: index.medoid };
    this.linked = new VamanaSearcher(upper ? { ...graph, upper } : graph, this.codes);
  }

  /** Drop every page held: the next queries start cold (benches and tests). */
  forget(): void {
    this.cache.clear();
  }

  private closed = false;

  /** No longer in use (dropped from its session's cache): a holdLinks under way stops at its next object. */
  close(): void {
    this.closed = true;
    this.cache.clear();
  }

  /**
   * The exact distance (spec 0013 §1) of unit `query` to `node`, from the full-precision vector in its
   * page's verified `bytes`; `unit` is scratch of the dimension.
   */
  private exact(query: Float32Array, bytes: Uint8Array, node: number, unit: Float32Array): number {
    const { perPage, recordBytes } = this.index.layout;
    const at = bytes.byteOffset + (node % perPage) * recordBytes;
    scaleToUnit(new Float32Array(bytes.buffer, at, unit.length), 0, unit);
    return 1 - orderedDot(query, 0, unit, 0, unit.length);
  }

  /** Page `page`'s verified bytes (4-byte aligned), from the cache or one ranged read. */
  private page(page: number): Uint8Array | Promise<Uint8Array> {
    const hit = this.cache.get(page);
    if (hit) {
      this.cache.delete(page);
      this.cache.set(page, hit);
      return hit;
    }
    let wait = this.pending.get(page);
    if (!wait) {
      wait = this.fetch(page).finally(() => this.pending.delete(page));
      this.pending.set(page, wait);
    }
    return wait;
  }

  /**
   * Pages first..last not held yet, read with one ranged GET per GraphPage object they span (a time
   * window is a run of pages: node ids are tick order). Returns how many pages were read.
   */
  private async readRun(first: number, last: number): Promise<number> {
    let from = first;
    while (from <= last && this.cache.has(from)) from++;
    let to = last;
    while (to >= from && this.cache.has(to)) to--;
    if (to < from) return 0;
    const { index } = this;
    const { pageBytes, perPage } = index.layout;
    const reads: Promise<void>[] = [];
    for (let p = from; p <= to; ) {
      const { object, offset } = pageOf(index, p * perPage);
      const end = Math.min(to, (object + 1) * index.layout.perObject - 1);
      const start = index.pageOffsets[object]! + offset;
      const firstPage = p;
      reads.push(
        this.read(index.pages[object]!, start, start + (end - p + 1) * pageBytes).then((bytes) => {
          for (let q = firstPage; q <= end; q++) {
            const at = (q - firstPage) * pageBytes;
            this.keepPage(q, bytes.slice(at, at + pageBytes));
          }
        }),
      );
      p = end + 1;
    }
    await Promise.all(reads);
    return to - from + 1;
  }

  /** Verify a page read from the store and hold it. */
  private keepPage(page: number, bytes: Uint8Array): Uint8Array {
    checkPage(this.index, page, bytes, `graph page ${page}`);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.cache.set(page, aligned);
    if (this.cache.size > this.cachePages) this.cache.delete(this.cache.keys().next().value!);
    return aligned;
  }

  private async fetch(page: number): Promise<Uint8Array> {
    const { index } = this;
    const { object, offset } = pageOf(index, page * index.layout.perPage);
    const start = index.pageOffsets[object]! + offset;
    return this.keepPage(page, await this.read(index.pages[object]!, start, start + index.layout.pageBytes));
  }

  /**
   * The k nearest nodes to unit `query` with a list of `list` (>= k), `keep` filtering inside the walk;
   * `beam` nodes expanded per round.
   */
  async search(
    query: Float32Array,
    k: number,
    list: number,
    keep?: (i: number) => boolean,
    beam = BEAM_WIDTH,
  ): Promise<PagedHits> {
    if (this.linked) return this.searchLinked(this.linked, query, k, list, keep);
    const visits = this.visitsPool.pop() ?? new Visits(this.index.count);
    try {
      return await this.walk(query, k, list, keep, beam, visits);
    } finally {
      this.visitsPool.push(visits);
    }
  }

  /**
   * With the out-edges held: the walk over codes and edges in memory (synchronous, so no other search
   * interleaves), its list's kept candidates re-ranked exactly from their pages, read in one round.
   */
  private async searchLinked(
    linked: VamanaSearcher,
    query: Float32Array,
    k: number,
    list: number,
    keep: ((i: number) => boolean) | undefined,
  ): Promise<PagedHits> {
    const { perPage } = this.index.layout;
    const size = Math.max(k, list);
    // The walk overwrites the codes' table: a paged walk awaiting its pages must compute its own again.
    this.tableOwner = undefined;
    const walk = linked.search(query, size, size, keep);
    const pages = Array.from(walk.ids, (node) => this.page(Math.floor(node / perPage)));
    const missing = new Set(pages.filter((p) => p instanceof Promise)).size;
    const loaded = missing > 0 ? await Promise.all(pages) : (pages as Uint8Array[]);
    const best = new CandidateList(k);
    const unit = new Float32Array(this.index.params.dimension);
    for (const [j, node] of walk.ids.entries()) best.insert(node, this.exact(query, loaded[j]!, node, unit));
    return {
      ids: best.ids.slice(0, best.length),
      distances: best.distances.slice(0, best.length),
      expanded: walk.expanded,
      pagesRead: missing,
      rounds: missing > 0 ? 1 : 0,
    };
  }

  private async walk(
    query: Float32Array,
    k: number,
    list: number,
    keep: ((i: number) => boolean) | undefined,
    beam: number,
    visits: Visits,
  ): Promise<PagedHits> {
    const { index, codes } = this;
    const { dimension, degree } = index.params;
    const { perPage, recordBytes } = index.layout;
    // The table first: the layers' kernels copy it. Other searches may set theirs while this one
    // awaits pages, so it keeps a copy and puts it back when it resumes.
    codes.setQuery(query);
    const owner = {};
    this.tableOwner = owner;
    const table = codes.table.slice();
    const starts = this.upper ? this.upper.startsOf(query) : [index.medoid];
    const unit = new Float32Array(dimension);
    const candidates = new CandidateList(Math.max(k, list));
    const best = new CandidateList(k);
    visits.next();
    let m = 0;
    for (let j = 0; j < starts.length; j++) if (visits.mark(starts[j]!)) codes.ids[m++] = starts[j]!;
    codes.dots(m);
    for (let j = 0; j < m; j++) candidates.insert(codes.ids[j]!, 1 - codes.out[j]!);
    const frontier: number[] = [];
    let expanded = 0;
    let pagesRead = 0;
    let rounds = 0;
    for (;;) {
      frontier.length = 0;
      while (frontier.length < beam) {
        const node = candidates.next();
        if (node < 0) break;
        frontier.push(node);
      }
      if (frontier.length === 0) break;
      const pages = frontier.map((node) => this.page(Math.floor(node / perPage)));
      const missing = pages.filter((p) => p instanceof Promise);
      if (missing.length > 0) {
        rounds++;
        pagesRead += new Set(missing).size;
      }
      const loaded = missing.length > 0 ? await Promise.all(pages) : (pages as Uint8Array[]);
      if (this.tableOwner !== owner) {
        codes.table.set(table);
        this.tableOwner = owner;
      }
      for (const [j, node] of frontier.entries()) {
        expanded++;
        const bytes = loaded[j]!;
        const at = bytes.byteOffset + (node % perPage) * recordBytes;
        if (!keep || keep(node)) best.insert(node, this.exact(query, bytes, node, unit));
        const links = new Uint32Array(bytes.buffer, at + 4 * dimension, 1 + degree);
        const c = links[0]!;
        if (c > degree)
          fieldError(
            `graph page ${Math.floor(node / perPage)}`,
            `node ${node} has ${c} neighbours, over the degree ${degree}`,
          );
        let n = 0;
        for (let s = 1; s <= c; s++) {
          const nb = links[s]!;
          if (nb >= index.count)
            fieldError(
              `graph page ${Math.floor(node / perPage)}`,
              `node ${node} links to ${nb}, outside the segment`,
            );
          if (visits.mark(nb)) codes.ids[n++] = nb;
        }
        codes.dots(n);
        for (let s = 0; s < n; s++) candidates.insert(codes.ids[s]!, 1 - codes.out[s]!);
      }
    }
    return {
      ids: best.ids.slice(0, best.length),
      distances: best.distances.slice(0, best.length),
      expanded,
      pagesRead,
      rounds,
    };
  }

  /** The exact k nearest nodes of ids [from, to) that `keep` accepts: their pages (contiguous) read at once and scanned. */
  async scan(
    query: Float32Array,
    k: number,
    from: number,
    to: number,
    keep?: (i: number) => boolean,
  ): Promise<PagedHits> {
    const { perPage } = this.index.layout;
    const first = Math.floor(from / perPage);
    const last = Math.floor((to - 1) / perPage);
    const missing = await this.readRun(first, last);
    const pages = await Promise.all(Array.from({ length: last - first + 1 }, (_, j) => this.page(first + j)));
    const best = new CandidateList(k);
    const unit = new Float32Array(this.index.params.dimension);
    for (let node = from; node < to; node++)
      if (!keep || keep(node))
        best.insert(node, this.exact(query, pages[Math.floor(node / perPage) - first]!, node, unit));
    return {
      ids: best.ids.slice(0, best.length),
      distances: best.distances.slice(0, best.length),
      expanded: 0,
      pagesRead: missing,
      rounds: missing > 0 ? 1 : 0,
    };
  }
}
