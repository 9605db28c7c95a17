import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Tick } from '../time/ticks.js';
import { isBoundary, LEAF_MAX, MAX_FANOUT } from './chunking.js';
import { entryColumns } from './columns.js';
import {
  type ChildRef,
  decodePage,
  encodeLeaf,
  encodeNode,
  type IndexEntry,
  type IndexPage,
} from './page.js';
import {
  type BuiltTree,
  buildTree,
  floorIndex,
  PageSink,
  type TreeReader,
  type TreeRoot,
  top,
} from './tree.js';

/** One change to an index: the entry to hold at `tick` (replacing any), or none to remove the tick. */
export interface IndexEdit {
  readonly tick: Tick;
  readonly entry?: IndexEntry;
}

/** What a page holds: entries in a leaf, child references in an inner page. */
type Item = IndexEntry | ChildRef;
type NodePage = { readonly level: number; readonly children: readonly ChildRef[] };

const keyOf = (item: Item): Tick => ('tick' in item ? item.tick : item.first);
const itemsOf = (page: IndexPage): readonly Item[] =>
  page.level === 0 ? (page as { entries: readonly IndexEntry[] }).entries : (page as NodePage).children;

/** An edit to one level of the tree: the item to hold at `key`, or undefined to remove it. */
interface LevelEdit {
  readonly key: Tick;
  readonly item: Item | undefined;
}

/** A position on one level of a tree: the path of (inner page, child index) from the root down to it. */
class LevelCursor {
  private path: { node: NodePage; index: number }[] = [];
  page!: IndexPage;

  constructor(
    private readonly reader: TreeReader,
    private readonly root: TreeRoot,
    private readonly level: number,
  ) {}

  /** Move to the page of this level whose first key is the greatest <= key (the first page if none is). */
  async seek(key: Tick): Promise<void> {
    this.path = [];
    let page = await this.reader.page(this.root.page);
    while (page.level > this.level) {
      const node = page as NodePage;
      const index = Math.max(
        0,
        floorIndex(node.children, (c) => c.first, key),
      );
      this.path.push({ node, index });
      page = await this.reader.page(node.children[index]!.page);
    }
    this.page = page;
  }

  /** The reference to the current page in its parent (undefined for the root). */
  get ref(): ChildRef | undefined {
    const at = this.path[this.path.length - 1];
    return at?.node.children[at.index];
  }

  /** The first key of the next page on this level, read from the pages on the path alone. */
  nextFirst(): Tick | undefined {
    for (let i = this.path.length - 1; i >= 0; i--) {
      const { node, index } = this.path[i]!;
      if (index + 1 < node.children.length) return node.children[index + 1]!.first;
    }
    return undefined;
  }

  /** Move to the next page on this level; false at the end. */
  async next(): Promise<boolean> {
    let i = this.path.length - 1;
    while (i >= 0 && this.path[i]!.index + 1 >= this.path[i]!.node.children.length) i--;
    if (i < 0) return false;
    this.path.length = i + 1;
    this.path[i]!.index++;
    let page = await this.reader.page(this.path[i]!.node.children[this.path[i]!.index]!.page);
    while (page.level > this.level) {
      const node = page as NodePage;
      this.path.push({ node, index: 0 });
      page = await this.reader.page(node.children[0]!.page);
    }
    this.page = page;
    return true;
  }
}

/** Cuts the items of one level into pages as buildTree does, one item at a time. */
class LevelChunker {
  private items: Item[] = [];
  readonly out: ChildRef[] = [];
  private readonly max: number;

  constructor(
    private readonly track: string,
    private readonly level: number,
    private readonly sink: PageSink,
  ) {
    this.max = level === 0 ? LEAF_MAX : MAX_FANOUT;
  }

  push(item: Item): void {
    this.items.push(item);
    if (isBoundary(keyOf(item), this.level) || this.items.length === this.max) this.cut();
  }

  /** True when the last item pushed ended a page: what follows starts a page, as in the old tree. */
  get atCut(): boolean {
    return this.items.length === 0;
  }

  cut(): void {
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    if (this.level === 0) {
      const entries = items as IndexEntry[];
      this.out.push({
        first: entries[0]!.tick,
        last: entries[entries.length - 1]!.tick,
        page: this.sink.put(encodeLeaf(this.track, entryColumns(entries))),
        count: entries.length,
      });
      return;
    }
    const children = items as ChildRef[];
    let count = 0;
    for (const c of children) count += c.count;
    this.out.push({
      first: children[0]!.first,
      last: children[children.length - 1]!.last,
      page: this.sink.put(encodeNode(this.track, this.level, children)),
      count,
    });
  }
}

/**
 * Apply edits to one level. Each run of edits re-cuts the pages it touches, starting at a page start,
 * and stops at the first cut that falls on an old page's end once its edits are used: from there the
 * old pages follow unchanged (boundaries depend on the keys alone). Returns the pages that replace the
 * old ones, and the old pages replaced.
 */
async function editLevel(
  reader: TreeReader,
  track: string,
  root: TreeRoot,
  level: number,
  edits: readonly LevelEdit[],
  sink: PageSink,
): Promise<{ added: ChildRef[]; removed: ChildRef[] }> {
  const cursor = new LevelCursor(reader, root, level);
  const added: ChildRef[] = [];
  const removed: ChildRef[] = [];
  let e = 0;
  while (e < edits.length) {
    await cursor.seek(edits[e]!.key);
    const chunker = new LevelChunker(track, level, sink);
    for (;;) {
      if (cursor.ref) removed.push(cursor.ref);
      const nextFirst = cursor.nextFirst();
      const items = itemsOf(cursor.page);
      let i = 0;
      for (;;) {
        const edit =
          e < edits.length && (nextFirst === undefined || edits[e]!.key < nextFirst) ? edits[e] : undefined;
        const item = i < items.length ? items[i] : undefined;
        if (!edit && !item) break;
        if (edit && (!item || edit.key <= keyOf(item))) {
          if (item && edit.key === keyOf(item)) i++; // replaced or removed
          if (edit.item) chunker.push(edit.item);
          e++;
        } else {
          chunker.push(item!);
          i++;
        }
      }
      if (nextFirst === undefined) {
        chunker.cut();
        break;
      }
      if (chunker.atCut) break;
      await cursor.next();
    }
    added.push(...chunker.out);
  }
  return { added, removed };
}

/** The edits one level up: old pages out, new pages in; a page rebuilt byte for byte is no change. */
function nextLevelEdits(
  added: readonly ChildRef[],
  removed: readonly ChildRef[],
  sink: PageSink,
): LevelEdit[] {
  const byKey = new Map<Tick, LevelEdit>();
  const old = new Map<Tick, ChildRef>();
  for (const ref of removed) {
    old.set(ref.first, ref);
    byKey.set(ref.first, { key: ref.first, item: undefined });
  }
  for (const ref of added) {
    const was = old.get(ref.first);
    const hex = multihashToHex(ref.page);
    if (was && multihashToHex(was.page) === hex) {
      byKey.delete(ref.first);
      sink.pages.delete(hex); // already stored
    } else byKey.set(ref.first, { key: ref.first, item: ref });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Apply edits (ticks strictly increasing) to a track's index, reading and writing only the pages around
 * them: the result is the tree buildTree gives for the edited entries (spec 0007 §7.1), so a change costs
 * O(edited pages x height), not O(track). Undefined when no entry is left.
 */
export async function editTree(
  reader: TreeReader,
  track: string,
  root: TreeRoot | undefined,
  edits: readonly IndexEdit[],
): Promise<BuiltTree | undefined> {
  for (let i = 1; i < edits.length; i++) {
    if (edits[i]!.tick <= edits[i - 1]!.tick) {
      throw new EngineError(
        'E_FIELD',
        `index of ${track}: edits must have increasing ticks (${edits[i]!.tick} after ${edits[i - 1]!.tick})`,
      );
    }
  }
  if (!root)
    return buildTree(
      track,
      edits.flatMap((e) => (e.entry ? [e.entry] : [])),
    );
  const sink = new PageSink();
  let levelEdits: LevelEdit[] = edits.map((e) => ({ key: e.tick, item: e.entry }));
  for (let level = 0; ; level++) {
    if (levelEdits.length === 0) return { root, pages: sink.pages }; // nothing changed from here up
    const { added, removed } = await editLevel(reader, track, root, level, levelEdits, sink);
    if (level < root.height - 1) {
      levelEdits = nextLevelEdits(added, removed, sink);
      continue;
    }
    // The root's level was re-cut whole: `added` is every page of it.
    if (added.length === 0) return undefined;
    const built = top(track, added, level + 1, sink);
    return collapse(reader, built);
  }
}

/** Drop roots with a single child (left by removals): buildTree stops at the first level of one page. */
async function collapse(reader: TreeReader, built: BuiltTree): Promise<BuiltTree> {
  let root = built.root;
  while (root.height > 1) {
    const hex = multihashToHex(root.page);
    const bytes = built.pages.get(hex);
    const page = bytes ? decodePage(bytes) : await reader.page(root.page);
    const children = (page as NodePage).children;
    if (children.length > 1) break;
    built.pages.delete(hex);
    const only = children[0]!;
    root = {
      page: only.page,
      height: root.height - 1,
      count: only.count,
      first: only.first,
      last: only.last,
    };
  }
  return { root, pages: built.pages };
}
