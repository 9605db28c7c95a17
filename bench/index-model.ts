/**
 * The index at scale, from real pages: builds a track's index over N event items (ticks ~30 ms apart,
 * items spread over 60-second buckets), measures pages and bytes per level, and extrapolates the same
 * page sizes to 1 billion items (the model written into spec 0007 §7.4).
 * Run: npm run bench -- index-model   (DREAMDB_BENCH_ITEMS=1000000 by default)
 */

import { hashBytes } from '@dreamdb/engine';
import { buildTree, decodePage, LEAF_TARGET, TARGET_FANOUT } from '@dreamdb/engine/format';
import type { IndexEntry } from '@dreamdb/engine/query';
import { timed } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 1_000_000);
const ITEMS_PER_BUCKET = 2000;
const buckets = Array.from({ length: Math.ceil(N / ITEMS_PER_BUCKET) }, (_, i) =>
  hashBytes(Uint8Array.of(i & 255, i >> 8, i >> 16)),
);
const entries: IndexEntry[] = [];
let tick = 0n;
let offset = 0;
for (let i = 0; i < N; i++) {
  tick += 30_000_000n + BigInt((i * 7919) % 5_000_000);
  if (i % ITEMS_PER_BUCKET === 0) offset = 64;
  entries.push({
    tick,
    duration: 0n,
    object: buckets[Math.floor(i / ITEMS_PER_BUCKET)]!,
    start: offset,
    end: offset + 48,
  });
  offset += 48;
}
let built: ReturnType<typeof buildTree>;
const seconds = await timed(() => {
  built = buildTree('detections', entries);
});
const levels = new Map<number, { pages: number; bytes: number }>();
for (const bytes of built!.pages.values()) {
  const level = decodePage(bytes).level;
  const row = levels.get(level) ?? { pages: 0, bytes: 0 };
  row.pages++;
  row.bytes += bytes.length;
  levels.set(level, row);
}
const total = [...levels.values()].reduce((s, r) => s + r.bytes, 0);
console.log(
  `\nIndex over ${N} items: height ${built!.root.height}, built in ${seconds.toFixed(2)} s (${(N / seconds / 1e6).toFixed(2)} M entries/s)`,
);
console.log('level  pages        bytes   bytes/page  entries/page');
for (const [level, row] of [...levels].sort((a, b) => a[0] - b[0])) {
  const under = level === 0 ? N : (levels.get(level - 1)?.pages ?? 0);
  console.log(
    `${String(level).padStart(5)}  ${String(row.pages).padStart(5)}  ${String(row.bytes).padStart(11)}  ${(row.bytes / row.pages).toFixed(0).padStart(11)}  ${(under / row.pages).toFixed(1).padStart(12)}`,
  );
}
console.log(`index bytes per item: ${(total / N).toFixed(2)}`);

// The same page sizes at 1 billion items.
const leafBytes = levels.get(0)!.bytes / levels.get(0)!.pages;
// Leaves are measured (thousands of them); inner pages are too few here to average, so they take the
// expected size of a content-defined page (T(1 - e^-4) children, the 4T limit cutting the tail) at the
// measured bytes per child.
const perLeaf = N / levels.get(0)!.pages;
const perNode = TARGET_FANOUT * (1 - Math.exp(-4));
const bytesPerChild = (levels.get(1)?.bytes ?? 0) / levels.get(0)!.pages || 60;
const nodeBytes = perNode * bytesPerChild;
let pages = Math.ceil(1e9 / perLeaf);
let bytes = pages * leafBytes;
let height = 1;
const rows = [`level 0: ${pages.toFixed(0)} pages, ${((pages * leafBytes) / 2 ** 30).toFixed(1)} GiB`];
while (pages > 1) {
  pages = Math.ceil(pages / perNode);
  bytes += pages * nodeBytes;
  rows.push(`level ${height}: ${pages} pages, ${((pages * nodeBytes) / 2 ** 20).toFixed(2)} MiB`);
  height++;
}
console.log(
  `\nModel at 1e9 items: height ${height}; ${rows.join('; ')}; total ${(bytes / 2 ** 30).toFixed(1)} GiB (${(bytes / 1e9).toFixed(1)} bytes/item)`,
);
console.log(
  `(targets: ${LEAF_TARGET} entries per leaf, ${TARGET_FANOUT} children per inner page; measured ${perLeaf.toFixed(0)} per leaf; inner pages modelled at ${perNode.toFixed(0)} children of ${bytesPerChild.toFixed(1)} bytes)`,
);
console.log(
  `a cold point lookup reads ${height} pages (~${(((height - 1) * nodeBytes + leafBytes) / 1024) | 0} KiB); warm: 0`,
);
