import { hashBytes } from '../address/multihash.js';
import { openDroppedTicks, sealDroppedTicks } from '../format/dropped-ticks.js';
import type { SegmentRef } from '../model/segments.js';
import type { Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';
import { floorIndex } from '../timeindex/tree.js';
import type { IndexContext } from './kind.js';

/* Deleted items in index segments (spec 0020 §2.1), whatever the kind: listed, then purged by a rewrite. */

/** Past this share of a segment's items dropped, a delete rewrites the segment instead of listing more. */
export const REWRITE_SHARE = 0.25;

/** The ticks every segment of `segments` has dropped. */
export async function droppedUnion(session: Session, segments: readonly SegmentRef[]): Promise<Set<Tick>> {
  const out = new Set<Tick>();
  for (const s of segments)
    if (s.dropped) for (const t of openDroppedTicks(await session.store.getObject(s.dropped))) out.add(t);
  return out;
}

/**
 * A delete's removed ticks taken out of the segments that may hold them: listed in each such segment's
 * DroppedTicks (a small object, whatever the segment's size), or, once REWRITE_SHARE of a segment is
 * dropped, the segment rebuilt by `rewrite` without them and without those it had dropped (undefined:
 * it held none; `{}`: nothing of it is left).
 */
export async function dropTicks(
  context: IndexContext,
  segments: readonly SegmentRef[],
  removed: ReadonlySet<Tick>,
  rewrite: (segment: SegmentRef, gone: ReadonlySet<Tick>) => Promise<{ ref?: SegmentRef } | undefined>,
): Promise<SegmentRef[]> {
  const sorted = [...removed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: SegmentRef[] = [];
  for (const segment of segments) {
    const i = floorIndex(sorted, (t) => t, segment.last);
    if (!(i >= 0 && sorted[i]! >= segment.first)) {
      out.push(segment);
      continue;
    }
    const gone = await droppedUnion(context.session, [segment]);
    for (const t of sorted) if (t >= segment.first && t <= segment.last) gone.add(t);
    if (gone.size > segment.count * REWRITE_SHARE) {
      const rewritten = await rewrite(segment, gone);
      if (rewritten === undefined) out.push(segment);
      else if (rewritten.ref) out.push(rewritten.ref);
      continue;
    }
    const bytes = sealDroppedTicks(gone);
    const dropped = hashBytes(bytes);
    await context.uploader.put(bytes, dropped);
    out.push({ ...segment, dropped });
  }
  return out;
}
