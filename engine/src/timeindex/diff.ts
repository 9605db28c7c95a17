import { equalBytes } from '../address/multihash.js';
import type { Tick } from '../time/ticks.js';
import type { ChildRef, IndexEntry, IndexPage } from './page.js';
import type { TreeReader, TreeRoot } from './tree.js';

/** A tick whose entry differs between two trees: absent before (added), absent after (removed), or both. */
export interface EntryChange {
  readonly tick: Tick;
  readonly before?: IndexEntry;
  readonly after?: IndexEntry;
}

/** Still to compare on one side: a whole page (with the level it is at), or one entry. */
type Pending = { readonly ref: ChildRef; readonly level: number } | { readonly entry: IndexEntry };

const keyOf = (p: Pending): Tick => ('entry' in p ? p.entry.tick : p.ref.first);

/** Two entries locate the same bytes with the same duration. */
export function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  return (
    a.tick === b.tick &&
    a.duration === b.duration &&
    a.start === b.start &&
    a.end === b.end &&
    equalBytes(a.object, b.object)
  );
}

function rootPending(root: TreeRoot | undefined): Pending[] {
  if (!root) return [];
  const { page, first, last, count } = root;
  return [{ ref: { page, first, last, count }, level: root.height - 1 }];
}

/** Replace a page at the top of a stack (its end) by what it holds, first item on top. */
async function expand(reader: TreeReader, stack: Pending[]): Promise<void> {
  const top = stack.pop() as { ref: ChildRef; level: number };
  const page: IndexPage = await reader.page(top.ref.page);
  if (page.level === 0) {
    const entries = (page as { entries: readonly IndexEntry[] }).entries;
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ entry: entries[i]! });
  } else {
    const children = (page as { children: readonly ChildRef[] }).children;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ ref: children[i]!, level: page.level - 1 });
  }
}

/**
 * The entries that differ between two indexes, in tick order. Subtrees with the same page hash are
 * skipped whole, and content-defined pages line up around a change, so the pages read grow with the
 * change, not with the track.
 */
export async function* diffTrees(
  reader: TreeReader,
  before: TreeRoot | undefined,
  after: TreeRoot | undefined,
): AsyncGenerator<EntryChange> {
  const a = rootPending(before);
  const b = rootPending(after);
  while (a.length > 0 || b.length > 0) {
    const x = a[a.length - 1];
    const y = b[b.length - 1];
    if (!y || (x && keyOf(x) < keyOf(y))) {
      if ('entry' in x!) {
        a.pop();
        yield { tick: x.entry.tick, before: x.entry };
      } else await expand(reader, a);
      continue;
    }
    if (!x || keyOf(y) < keyOf(x)) {
      if ('entry' in y) {
        b.pop();
        yield { tick: y.entry.tick, after: y.entry };
      } else await expand(reader, b);
      continue;
    }
    // Same key on both sides.
    if ('entry' in x && 'entry' in y) {
      a.pop();
      b.pop();
      if (!sameEntry(x.entry, y.entry)) yield { tick: x.entry.tick, before: x.entry, after: y.entry };
    } else if ('ref' in x && 'ref' in y && equalBytes(x.ref.page, y.ref.page)) {
      a.pop();
      b.pop();
    } else if ('ref' in x && (!('ref' in y) || x.level >= y.level)) await expand(reader, a);
    else await expand(reader, b);
  }
}
