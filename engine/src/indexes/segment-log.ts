import type { SegmentRef } from '../model/segments.js';

/** Segments of one tier merge once there are this many (spec 0004 §6.2, 0015 §5). */
export const SEGMENT_FANOUT = 8;
/** Segments below this many items are tier 0; tier n+1 holds up to FANOUT times more than tier n. */
const TIER_BASE = 1024;

const tierOf = (count: number) =>
  count < TIER_BASE ? 0 : Math.floor(Math.log(count / TIER_BASE) / Math.log(SEGMENT_FANOUT)) + 1;

const byFirst = (a: SegmentRef, b: SegmentRef) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0);

/**
 * A track's search-index segments after an append (log-structured, as Lucene's tiered merges): the new
 * segments join the list, then while some tier holds SEGMENT_FANOUT segments, they are merged into one
 * (lowest tier first). A segment past half the capacity is never merged again. Each item is so rewritten
 * O(log n) times over the track's life, and a publish touches only new and merged segments. Returns the
 * segments ordered by first tick.
 */
export async function appendSegments(
  segments: readonly SegmentRef[],
  added: readonly SegmentRef[],
  capacity: number,
  merge: (group: readonly SegmentRef[]) => Promise<SegmentRef[]>,
): Promise<SegmentRef[]> {
  let list = [...segments, ...added];
  for (;;) {
    const tiers = new Map<number, SegmentRef[]>();
    for (const s of list) {
      if (s.count * 2 > capacity) continue;
      const tier = tierOf(s.count);
      tiers.set(tier, [...(tiers.get(tier) ?? []), s]);
    }
    const full = [...tiers]
      .filter(([, group]) => group.length >= SEGMENT_FANOUT)
      .sort((a, b) => a[0] - b[0])[0];
    if (!full) break;
    const merging = new Set(full[1].sort(byFirst));
    const merged = await merge([...merging]);
    list = [...list.filter((s) => !merging.has(s)), ...merged];
  }
  return list.sort(byFirst);
}
