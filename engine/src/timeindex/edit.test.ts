import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes, multihashToHex } from '../address/multihash.js';
import { random } from '../testing/random.js';
import { diffTrees, type EntryChange, sameEntry } from './diff.js';
import { editTree, type IndexEdit } from './edit.js';
import type { IndexEntry } from './page.js';
import { type BuiltTree, buildTree, TreeReader } from './tree.js';

const objects = [1, 2, 3].map((b) => hashBytes(Uint8Array.of(b)));

const entry = (tick: bigint, salt: number): IndexEntry => ({
  tick,
  duration: BigInt(salt % 2) * 1000n,
  object: objects[salt % 3]!,
  start: salt,
  end: salt + 5,
});

/** n entries at ticks 1000, 2000, ... (room to insert between them). */
const initial = (n: number) => Array.from({ length: n }, (_, i) => entry(BigInt((i + 1) * 1000), i));

/** A store of every page ever built, and a reader over it that counts the pages it loads. */
class Pages {
  readonly all = new Map<string, Uint8Array>();
  add(built: BuiltTree | undefined): BuiltTree | undefined {
    for (const [hex, bytes] of built?.pages ?? []) this.all.set(hex, bytes);
    return built;
  }
  reader(): TreeReader {
    return new TreeReader(async (mh) => {
      const bytes = this.all.get(multihashToHex(mh));
      if (!bytes) throw new Error(`missing page ${multihashToHex(mh)}`);
      return bytes;
    });
  }
}

/** Random edits: inserts between ticks, replacements and removals, clustered in a few places. */
function randomEdits(rand: () => number, ticks: readonly bigint[], count: number, span: bigint): IndexEdit[] {
  const edits = new Map<bigint, IndexEdit>();
  const clusters = 1 + Math.floor(rand() * 4);
  for (let c = 0; c < clusters; c++) {
    const center = BigInt(Math.floor(rand() * Number(span)));
    for (let i = 0; i < count / clusters; i++) {
      const r = rand();
      if (r < 0.4 || ticks.length === 0) {
        const tick = center + BigInt(Math.floor((rand() - 0.3) * 400_000)) + 1n;
        if (tick > 0n) edits.set(tick, { tick, entry: entry(tick, Math.floor(rand() * 1e6)) });
      } else {
        const at = Math.min(
          ticks.length - 1,
          Math.max(0, Number(center / 1000n) + Math.floor((rand() - 0.5) * 300)),
        );
        const tick = ticks[at]!;
        edits.set(tick, r < 0.7 ? { tick, entry: entry(tick, Math.floor(rand() * 1e6)) } : { tick });
      }
    }
  }
  return [...edits.values()].sort((a, b) => (a.tick < b.tick ? -1 : 1));
}

function applyEdits(entries: readonly IndexEntry[], edits: readonly IndexEdit[]): IndexEntry[] {
  const map = new Map(entries.map((e) => [e.tick, e]));
  for (const e of edits) {
    if (e.entry) map.set(e.tick, e.entry);
    else map.delete(e.tick);
  }
  return [...map.values()].sort((a, b) => (a.tick < b.tick ? -1 : 1));
}

test('editTree gives the tree buildTree gives for the edited entries: inserts, replacements, removals at every height', async () => {
  const rand = random(11);
  for (const n of [0, 1, 5, 3_000, 40_000, 300_000]) {
    const pages = new Pages();
    let entries = initial(n);
    let tree = pages.add(buildTree('t', entries));
    for (let round = 0; round < (n >= 300_000 ? 3 : 8); round++) {
      const edits = randomEdits(
        rand,
        entries.map((e) => e.tick),
        1 + Math.floor(rand() * 2000),
        BigInt(n * 1000 + 1000),
      );
      const edited = pages.add(await editTree(pages.reader(), 't', tree?.root, edits));
      entries = applyEdits(entries, edits);
      const full = buildTree('t', entries);
      assert.deepEqual(edited?.root, full?.root, `n ${n}, round ${round}: ${edits.length} edits`);
      tree = edited;
    }
  }
});

test('removing almost everything collapses the tree to the height a build gives', async () => {
  const pages = new Pages();
  const entries = initial(300_000);
  const tree = pages.add(buildTree('t', entries))!;
  assert.equal(tree.root.height, 3);
  const keep = new Set([7_000n, 150_000_000n]);
  const edits = entries.filter((e) => !keep.has(e.tick)).map((e) => ({ tick: e.tick }));
  const edited = await editTree(pages.reader(), 't', tree.root, edits);
  assert.deepEqual(
    edited?.root,
    buildTree(
      't',
      entries.filter((e) => keep.has(e.tick)),
    )!.root,
  );
  assert.equal(edited?.root.height, 1);
  assert.equal(
    await editTree(
      pages.reader(),
      't',
      tree.root,
      entries.map((e) => ({ tick: e.tick })),
    ),
    undefined,
  );
});

test('an edit reads and writes a few pages per level, not the track', async () => {
  const pages = new Pages();
  const entries = initial(600_000);
  const tree = pages.add(buildTree('t', entries))!;
  assert.equal(tree.root.height, 3);
  const reader = pages.reader();
  const edits: IndexEdit[] = [100_500n, 100_600n, 400_000_001n].map((tick) => ({
    tick,
    entry: entry(tick, 1),
  }));
  const edited = (await editTree(reader, 't', tree.root, edits))!;
  assert.ok(reader.pagesLoaded <= 8, `${reader.pagesLoaded} pages read`);
  assert.ok(edited.pages.size <= 8, `${edited.pages.size} pages written`);
  assert.equal(edited.root.count, 600_003);
  // No change at all: the same root, nothing written.
  const same = await editTree(pages.reader(), 't', tree.root, [
    { tick: 5_000n, entry: entries[4]! },
    { tick: 5_001n },
  ]);
  assert.deepEqual(same!.root, tree.root);
  assert.equal(same!.pages.size, 0);
});

test('editTree refuses edits out of order, naming them', async () => {
  await assert.rejects(
    editTree(new Pages().reader(), 't', undefined, [{ tick: 5n }, { tick: 5n }]),
    /edits must have increasing ticks \(5 after 5\)/,
  );
});

async function collect(gen: AsyncGenerator<EntryChange>): Promise<EntryChange[]> {
  const out: EntryChange[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

test('diffTrees lists exactly the entries added, removed and changed, in tick order', async () => {
  const rand = random(5);
  for (const n of [0, 10, 5_000, 200_000]) {
    const pages = new Pages();
    const before = initial(n);
    const after = applyEdits(
      before,
      randomEdits(
        rand,
        before.map((e) => e.tick),
        1500,
        BigInt(n * 1000 + 1000),
      ),
    );
    const a = pages.add(buildTree('t', before));
    const b = pages.add(buildTree('t', after));
    const got = await collect(diffTrees(pages.reader(), a?.root, b?.root));
    const oldMap = new Map(before.map((e) => [e.tick, e]));
    const newMap = new Map(after.map((e) => [e.tick, e]));
    const want: EntryChange[] = [];
    for (const tick of [...new Set([...oldMap.keys(), ...newMap.keys()])].sort((x, y) => (x < y ? -1 : 1))) {
      const x = oldMap.get(tick);
      const y = newMap.get(tick);
      if (x && y && sameEntry(x, y)) continue;
      want.push({ tick, ...(x && { before: x }), ...(y && { after: y }) });
    }
    assert.deepEqual(got, want, `n ${n}`);
    assert.deepEqual(await collect(diffTrees(pages.reader(), b?.root, b?.root)), []);
  }
});

test('diffTrees reads pages in proportion to the change: shared subtrees are skipped by hash', async () => {
  const pages = new Pages();
  const before = initial(600_000);
  const after = applyEdits(before, [{ tick: 300_000_500n, entry: entry(300_000_500n, 9) }, { tick: 9_000n }]);
  const a = pages.add(buildTree('t', before))!;
  const b = pages.add(buildTree('t', after))!;
  const reader = pages.reader();
  const changes = await collect(diffTrees(reader, a.root, b.root));
  assert.deepEqual(
    changes.map((c) => [c.tick, Boolean(c.before), Boolean(c.after)]),
    [
      [9_000n, true, false],
      [300_000_500n, false, true],
    ],
  );
  assert.ok(reader.pagesLoaded <= 12, `${reader.pagesLoaded} pages read of ${a.pages.size}`);
});
