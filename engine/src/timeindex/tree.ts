import { hashBytes, type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Tick } from '../time/ticks.js';
import { chunkEnds } from './chunking.js';
import { concatColumns, type EntryColumns, entryColumns } from './columns.js';
import {
  type ChildRef,
  decodePage,
  encodeLeaf,
  encodeNode,
  type IndexEntry,
  type IndexPage,
} from './page.js';

/** The root of a track's index: its page, height (1 = a single leaf), entry count and tick span. */
export interface TreeRoot {
  readonly page: Multihash;
  readonly height: number;
  readonly count: number;
  readonly first: Tick;
  readonly last: Tick;
}

/** A built tree: its root and every page's bytes by multihash hex (to be stored). */
export interface BuiltTree {
  readonly root: TreeRoot;
  readonly pages: Map<string, Uint8Array>;
}

/** Pages being built: their bytes by multihash hex, to be stored. */
export class PageSink {
  readonly pages = new Map<string, Uint8Array>();
  put(bytes: Uint8Array): Multihash {
    const mh = hashBytes(bytes);
    this.pages.set(multihashToHex(mh), bytes);
    return mh;
  }
}

/** Cut entries (sorted, each tick once) into leaves. */
function leaves(track: string, columns: EntryColumns, sink: PageSink): ChildRef[] {
  for (let i = 1; i < columns.count; i++) {
    if (columns.ticks[i]! <= columns.ticks[i - 1]!) {
      throw new EngineError(
        'E_FIELD',
        `index of ${track}: ticks must increase (${columns.ticks[i]} after ${columns.ticks[i - 1]})`,
      );
    }
  }
  const out: ChildRef[] = [];
  let start = 0;
  for (const end of chunkEnds(columns.ticks.subarray(0, columns.count), 0)) {
    out.push({
      first: columns.ticks[start]!,
      last: columns.ticks[end - 1]!,
      page: sink.put(encodeLeaf(track, columns, start, end)),
      count: end - start,
    });
    start = end;
  }
  return out;
}

/** Cut the pages of one level (at `level` - 1) into the pages of `level` above them. */
function nodes(track: string, level: number, children: readonly ChildRef[], sink: PageSink): ChildRef[] {
  const out: ChildRef[] = [];
  let start = 0;
  for (const end of chunkEnds(
    children.map((c) => c.first),
    level,
  )) {
    const slice = children.slice(start, end);
    let count = 0;
    for (const c of slice) count += c.count;
    out.push({
      first: slice[0]!.first,
      last: slice[slice.length - 1]!.last,
      page: sink.put(encodeNode(track, level, slice)),
      count,
    });
    start = end;
  }
  return out;
}

/** Levels above `refs` (pages at height - 1) until one page remains. */
export function top(track: string, refs: ChildRef[], height: number, sink: PageSink): BuiltTree {
  let level = refs;
  let h = height;
  while (level.length > 1) {
    level = nodes(track, h, level, sink);
    h++;
  }
  const root = level[0]!;
  return {
    root: { page: root.page, height: h, count: root.count, first: root.first, last: root.last },
    pages: sink.pages,
  };
}

/**
 * Build a track's index from entries sorted by tick, each tick once (spec 0007 §7): leaves cut at
 * content-defined boundaries, then inner levels over their first ticks, until one page remains. The same
 * entries always give the same pages, whatever order they were written in.
 */
export function buildTree(
  track: string,
  entries: EntryColumns | readonly IndexEntry[],
): BuiltTree | undefined {
  const columns = 'ticks' in entries ? entries : entryColumns(entries);
  if (columns.count === 0) return undefined;
  const sink = new PageSink();
  return top(track, leaves(track, columns, sink), 1, sink);
}

/**
 * Add entries that all come after an existing tree's last tick, reading and rewriting only its right
 * edge: every page but the last one of each level ended at a content-defined boundary, so it stays as it
 * is; the last page of each level is cut again with what follows it. The result is the tree buildTree
 * would give for all the entries (spec 0007 §7.1), for the cost of one page per level.
 */
export async function appendTree(
  reader: TreeReader,
  track: string,
  root: TreeRoot,
  entries: EntryColumns,
): Promise<BuiltTree> {
  if (entries.count === 0 || entries.ticks[0]! <= root.last) {
    throw new EngineError('E_FIELD', `index of ${track}: appended entries must come after tick ${root.last}`);
  }
  // The right edge, root first.
  const edge: IndexPage[] = [];
  let page = await reader.page(root.page);
  edge.push(page);
  while (page.level > 0) {
    const children = (page as { children: readonly ChildRef[] }).children;
    page = await reader.page(children[children.length - 1]!.page);
    edge.push(page);
  }
  const sink = new PageSink();
  const leaf = (edge.pop() as { entries: readonly IndexEntry[] }).entries;
  let refs = leaves(track, concatColumns(entryColumns(leaf), entries), sink);
  for (let level = 1; edge.length > 0; level++) {
    const children = (edge.pop() as { children: readonly ChildRef[] }).children;
    refs = nodes(track, level, [...children.slice(0, -1), ...refs], sink);
  }
  return top(track, refs, root.height, sink);
}

/** Find the last index in a sorted list whose key is <= t, or -1. */
export function floorIndex<T>(list: readonly T[], key: (x: T) => Tick, t: Tick): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(list[mid]!) <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Reads a track's index: one page GET per level on a cold path, none once the pages are cached
 * (decoded pages are kept in a bounded cache).
 */
export class TreeReader {
  private readonly decoded = new Map<string, IndexPage>();
  /** Pages fetched through `load` (cache misses). */
  pagesLoaded = 0;

  /** @param maxPages decoded pages kept, least recently used out first (pages never change). */
  constructor(
    private readonly load: (page: Multihash) => Promise<Uint8Array>,
    private readonly maxPages = 8192,
  ) {}

  /** Add pages the caller already holds (inline in a manifest), checked against their hashes. */
  prime(pages: readonly Uint8Array[]): void {
    for (const bytes of pages) {
      const hex = multihashToHex(hashBytes(bytes));
      if (!this.decoded.has(hex)) this.decoded.set(hex, decodePage(bytes, `inline index page ${hex}`));
    }
  }

  /** A page, decoded, from the cache or the loader. */
  async page(mh: Multihash): Promise<IndexPage> {
    const hex = multihashToHex(mh);
    const hit = this.decoded.get(hex);
    if (hit) {
      this.decoded.delete(hex); // re-insert: Map order is recency order
      this.decoded.set(hex, hit);
      return hit;
    }
    const page = decodePage(await this.load(mh), `index page ${hex}`);
    this.pagesLoaded++;
    this.decoded.set(hex, page);
    if (this.decoded.size > this.maxPages) this.decoded.delete(this.decoded.keys().next().value!);
    return page;
  }

  /**
   * Walk every page under `root` not yet in `seen` (page hex), adding each to `seen`, and hand each
   * entry of the leaves walked to `onEntry`. Pages shared with a tree walked before are skipped whole.
   */
  async visit(root: Multihash, seen: Set<string>, onEntry: (entry: IndexEntry) => void): Promise<void> {
    const hex = multihashToHex(root);
    if (seen.has(hex)) return;
    seen.add(hex);
    const page = await this.page(root);
    if (page.level === 0) {
      for (const entry of (page as { entries: readonly IndexEntry[] }).entries) onEntry(entry);
      return;
    }
    for (const child of (page as { children: readonly ChildRef[] }).children)
      await this.visit(child.page, seen, onEntry);
  }

  /** The entry with the greatest tick <= t, or undefined. */
  async floor(root: TreeRoot, t: Tick): Promise<IndexEntry | undefined> {
    if (t < root.first) return undefined;
    let page = await this.page(root.page);
    while (page.level > 0) {
      const children = (page as { children: readonly ChildRef[] }).children;
      const i = floorIndex(children, (c) => c.first, t);
      if (i < 0) return undefined;
      page = await this.page(children[i]!.page);
    }
    const entries = (page as { entries: readonly IndexEntry[] }).entries;
    const i = floorIndex(entries, (e) => e.tick, t);
    return i < 0 ? undefined : entries[i];
  }

  /** Entries with t0 <= tick < t1, in tick order, streamed page by page. */
  async *range(root: TreeRoot, t0: Tick, t1: Tick): AsyncGenerator<IndexEntry> {
    if (t1 <= t0 || t0 > root.last || t1 <= root.first) return;
    yield* this.walk(root.page, t0, t1);
  }

  private async *walk(mh: Multihash, t0: Tick, t1: Tick): AsyncGenerator<IndexEntry> {
    const page = await this.page(mh);
    if (page.level === 0) {
      const entries = (page as { entries: readonly IndexEntry[] }).entries;
      for (
        let i = Math.max(
          0,
          floorIndex(entries, (e) => e.tick, t0),
        );
        i < entries.length;
        i++
      ) {
        const e = entries[i]!;
        if (e.tick >= t1) return;
        if (e.tick >= t0) yield e;
      }
      return;
    }
    const children = (page as { children: readonly ChildRef[] }).children;
    for (
      let i = Math.max(
        0,
        floorIndex(children, (c) => c.first, t0),
      );
      i < children.length;
      i++
    ) {
      const child = children[i]!;
      if (child.first >= t1) return;
      if (child.last >= t0) yield* this.walk(child.page, t0, t1);
    }
  }
}
