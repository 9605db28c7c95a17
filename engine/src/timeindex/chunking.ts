import type { Tick } from '../time/ticks.js';

/**
 * Content-defined page boundaries (spec 0007 §7.1). A page ends after an entry whose key hashes below a
 * threshold or when it reaches four times its target: leaves hold 1024 entries on average (about 12 KiB,
 * since a leaf entry takes about 11 bytes), inner pages 256 children (about 16 KiB).
 * Because the boundaries depend on the keys and not on the order of insertion, the same set of entries
 * always gives the same pages: two writers converge on the same hashes, and a change rewrites only the
 * pages around it (spec 0008).
 */
export const TARGET_FANOUT = 256;
export const MAX_FANOUT = 4 * TARGET_FANOUT;
export const LEAF_TARGET = 1024;
export const LEAF_MAX = 4 * LEAF_TARGET;
const SAFE_TICK = BigInt(Number.MAX_SAFE_INTEGER);

/** A 32-bit mix of a tick and a tree level (murmur3's finalizer over both halves), integer only. */
export function tickHash(tick: Tick, level: number): number {
  let lo: number;
  let hi: number;
  if (tick <= SAFE_TICK) {
    // Below 2^53 a double holds the tick exactly: split it without bigint arithmetic (4x faster).
    const t = Number(tick);
    lo = (t % 0x100000000) | 0;
    hi = Math.floor(t / 0x100000000) | 0;
  } else {
    lo = Number(tick & 0xffffffffn) | 0;
    hi = Number((tick >> 32n) & 0xffffffffn) | 0;
  }
  let h =
    Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^
    Math.imul((hi + Math.imul(level + 1, 0x27d4eb2d)) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether an entry keyed by `tick` closes its page at `level`. */
export function isBoundary(tick: Tick, level: number): boolean {
  return tickHash(tick, level) % (level === 0 ? LEAF_TARGET : TARGET_FANOUT) === 0;
}

/** Cut keys (in order) into pages: returns the end index (exclusive) of each page. */
export function chunkEnds(ticks: ArrayLike<Tick>, level: number): number[] {
  const max = level === 0 ? LEAF_MAX : MAX_FANOUT;
  const ends: number[] = [];
  let start = 0;
  for (let i = 0; i < ticks.length; i++) {
    if (isBoundary(ticks[i]!, level) || i + 1 - start === max) {
      ends.push(i + 1);
      start = i + 1;
    }
  }
  if (start < ticks.length) ends.push(ticks.length);
  return ends;
}
