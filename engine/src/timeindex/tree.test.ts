import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { decodeBucket, encodeBucket } from '../format/bucket.js';
import { chunkEnds, LEAF_MAX, LEAF_TARGET, MAX_FANOUT, TARGET_FANOUT } from './chunking.js';
import { entryColumns } from './columns.js';
import { decodePage, type IndexEntry } from './page.js';
import { appendTree, buildTree, TreeReader } from './tree.js';

const objectA = hashBytes(Uint8Array.of(1));
const objectB = hashBytes(Uint8Array.of(2));

/** n entries at increasing, irregular ticks. */
function entries(n: number, seed = 1): IndexEntry[] {
  const out: IndexEntry[] = [];
  let tick = 1_000n;
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    tick += BigInt(1 + (x % 50_000_000));
    out.push({
      tick,
      duration: BigInt(x % 3) * 1000n,
      object: i % 3 === 0 ? objectA : objectB,
      start: i * 10,
      end: i * 10 + 7,
    });
  }
  return out;
}

function readerFor(pages: Map<string, Uint8Array>) {
  return new TreeReader(async (mh) => {
    const bytes = pages.get(multihashToHex(mh));
    if (!bytes) throw new Error('missing page');
    return bytes;
  });
}

test('pages are content-defined: leaves hold about 1024 entries (at most 4096), inner pages about 256 (at most 1024)', () => {
  const ticks = entries(400_000).map((e) => e.tick);
  for (const [level, target, max] of [
    [0, LEAF_TARGET, LEAF_MAX],
    [1, TARGET_FANOUT, MAX_FANOUT],
  ] as const) {
    const ends = chunkEnds(ticks, level);
    const sizes = ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]!));
    const mean = ticks.length / sizes.length;
    assert.ok(mean > target * 0.7 && mean < target * 1.3, `level ${level}: mean page size ${mean}`);
    assert.ok(Math.max(...sizes) <= max);
  }
});

test('appending to a tree rewrites its right edge only, and gives the tree a full build gives', async () => {
  const all = entries(60_000, 7);
  for (const split of [1, 1_000, 29_999, 59_999]) {
    const before = buildTree('cam', all.slice(0, split))!;
    const reader = readerFor(before.pages);
    const appended = await appendTree(reader, 'cam', before.root, entryColumns(all.slice(split)));
    const full = buildTree('cam', all)!;
    assert.deepEqual(appended.root, full.root, `split at ${split}`);
    for (const hex of appended.pages.keys()) assert.ok(full.pages.has(hex));
    // Every page of the full tree is either new or already stored.
    for (const hex of full.pages.keys()) assert.ok(appended.pages.has(hex) || before.pages.has(hex));
    assert.ok(reader.pagesLoaded <= before.root.height, `${reader.pagesLoaded} pages read`);
  }
  const built = buildTree('cam', all)!;
  await assert.rejects(
    appendTree(readerFor(built.pages), 'cam', built.root, entryColumns(all.slice(-1))),
    /must come after tick/,
  );
});

test('floor and range answer exactly what a scan of the entries answers', async () => {
  const all = entries(60_000);
  const built = buildTree('cam', all)!;
  assert.equal(built.root.count, all.length);
  assert.ok(built.root.height >= 2);
  const reader = readerFor(built.pages);
  for (let i = 0; i < 300; i++) {
    const t = all[0]!.tick - 5n + BigInt(i) * ((all.at(-1)!.tick - all[0]!.tick) / 290n);
    const expected = [...all].reverse().find((e) => e.tick <= t);
    const got = await reader.floor(built.root, t);
    assert.equal(got?.tick, expected?.tick, `floor(${t})`);
    const t1 = t + 400_000_000n;
    const window = [];
    for await (const e of reader.range(built.root, t, t1)) window.push(e.tick);
    assert.deepEqual(
      window,
      all.filter((e) => e.tick >= t && e.tick < t1).map((e) => e.tick),
    );
  }
  const exact = await reader.floor(built.root, all[777]!.tick);
  assert.deepEqual(
    { ...exact, object: multihashToHex(exact!.object) },
    { ...all[777]!, object: multihashToHex(all[777]!.object) },
  );
});

test('a cold lookup reads one page per level; a warm one reads none', async () => {
  const built = buildTree('cam', entries(400_000))!;
  assert.ok(built.root.height >= 2);
  const reader = readerFor(built.pages);
  await reader.floor(built.root, built.root.first + 123_456_789n);
  assert.equal(reader.pagesLoaded, built.root.height);
  await reader.floor(built.root, built.root.first + 123_456_789n);
  assert.equal(reader.pagesLoaded, built.root.height);
});

test('the same entries give the same root whatever was written before; an insert rewrites only its path', () => {
  const all = entries(50_000);
  const one = buildTree('cam', all)!;
  const again = buildTree('cam', [...all])!;
  assert.equal(multihashToHex(one.root.page), multihashToHex(again.root.page));
  const inserted = [...all];
  inserted.splice(25_000, 0, { ...all[25_000]!, tick: all[25_000]!.tick - 1n });
  const changed = buildTree('cam', inserted)!;
  const fresh = [...changed.pages.keys()].filter((hex) => !one.pages.has(hex));
  assert.ok(fresh.length <= changed.root.height + 2, `${fresh.length} new pages for one insert`);
  assert.equal(changed.root.count, all.length + 1);
});

test('index pages and buckets decode to what was encoded', () => {
  const all = entries(300);
  const built = buildTree('notes', all)!;
  for (const [hex, bytes] of built.pages) {
    const page = decodePage(bytes);
    assert.equal(page.track, 'notes');
    assert.deepEqual(hashBytes(bytes), multihashFromHex(hex));
  }
  const items = [
    { tick: 5n, bytes: Uint8Array.of(1, 2, 3) },
    { tick: 9n, duration: 4n, bytes: Uint8Array.of(4) },
    { tick: 2n ** 40n, bytes: new Uint8Array(0) },
  ];
  const { bytes, locators } = encodeBucket({ timeline: 's1', track: 'notes', kind: 'event', items });
  const decoded = decodeBucket(bytes);
  assert.deepEqual(
    decoded.items.map((i) => [i.tick, i.duration, i.start, i.end]),
    items.map((item, n) => [item.tick, item.duration ?? 0n, locators[n]!.start, locators[n]!.end]),
  );
  assert.deepEqual(bytes.subarray(locators[0]!.start, locators[0]!.end), Uint8Array.of(1, 2, 3));
  assert.throws(
    () => encodeBucket({ timeline: 's1', track: 'notes', kind: 'event', items: [items[1]!, items[0]!] }),
    /ticks must increase/,
  );
  assert.throws(() => decodePage(bytes), /is a bucket, not a indexPage/);
});
