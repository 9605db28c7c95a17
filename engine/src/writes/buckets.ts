import { hashBytes, hashParts, type Multihash } from '../address/multihash.js';
import { encodeBucketColumns, MAX_BUCKET_BYTES } from '../format/bucket.js';
import { encodeItemManifest, ITEM_PART_BYTES } from '../format/item-manifest.js';
import { bucketLineage } from '../indexes/track-indexes.js';
import type { Track } from '../model/track.js';
import type { EntryColumns } from '../timeindex/columns.js';
import type { StagedColumns } from './staged.js';
import type { Uploader } from './uploader.js';

/** The part objects of the items [from, to) stored as parts, in item order. */
function bucketParts(partsOf: ReadonlyMap<number, Multihash[]>, from: number, to: number): Multihash[] {
  const out: Multihash[] = [];
  for (const [i, parts] of [...partsOf].sort((a, b) => a[0] - b[0]))
    if (i >= from && i < to) out.push(...parts);
  return out;
}

/**
 * Pack a track's staged items into bucket objects (event items by time window, stream fragments back to
 * back up to the size limit), queue them for upload, and return their index entries.
 */
export async function packBuckets(
  track: Track,
  staged: StagedColumns,
  uploader: Uploader,
): Promise<EntryColumns> {
  const n = staged.count;
  const ticks = staged.ticks.subarray(0, n);
  let lengths = staged.lengths;
  // Items over ITEM_PART_BYTES go to the store as parts; an ItemManifest takes their place (0014 §4).
  const replace = new Map<number, Uint8Array>();
  const partsOf = new Map<number, Multihash[]>();
  for (let i = 0; i < n; i++) {
    if (lengths[i]! <= ITEM_PART_BYTES) continue;
    const bytes = staged.bytes(i);
    const parts: { object: Multihash; size: number }[] = [];
    for (let at = 0; at < bytes.length; at += ITEM_PART_BYTES) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + ITEM_PART_BYTES));
      const object = hashBytes(part);
      await uploader.put(part, object);
      parts.push({ object, size: part.length });
    }
    replace.set(i, encodeItemManifest({ size: bytes.length, parts }));
    partsOf.set(
      i,
      parts.map((p) => p.object),
    );
  }
  if (replace.size > 0) {
    lengths = lengths.slice();
    for (const [i, manifest] of replace) lengths[i] = manifest.length;
  }
  const refs = new Uint32Array(n);
  const starts = new Uint32Array(n);
  const objects: Multihash[] = [];
  const limit = MAX_BUCKET_BYTES - 1024 * 1024;
  const span = track.kind === 'event' ? track.bucketDuration! : undefined;
  // A vector track's buckets name its index's lineage, checked by readers of the header (0007 §6.1.1).
  const lineage = bucketLineage(track);
  let from = 0;
  while (from < n) {
    // This bucket ends at the end of the first tick's window, or before the size limit.
    const windowEnd = span === undefined ? undefined : (ticks[from]! / span + 1n) * span;
    let to = from;
    let bytes = 0;
    while (to < n && (windowEnd === undefined || ticks[to]! < windowEnd)) {
      if (to > from && bytes + lengths[to]! > limit) break;
      bytes += lengths[to++]!;
    }
    const { parts, payloadStart } = encodeBucketColumns({
      timeline: track.timeline,
      track: track.name,
      kind: track.kind,
      from,
      to,
      ticks,
      ...(staged.durations && { durations: staged.durations }),
      lengths,
      payload: staged.pieces(from, to, replace),
      ...(lineage && { spatialIndex: lineage }),
      ...(partsOf.size > 0 && { parts: bucketParts(partsOf, from, to) }),
    });
    const hash = await hashParts(parts);
    await uploader.put(parts, hash);
    let at = payloadStart;
    for (let i = from; i < to; i++) {
      refs[i] = objects.length;
      starts[i] = at;
      at += lengths[i]!;
    }
    objects.push(hash);
    from = to;
  }
  return {
    count: n,
    ticks,
    refs,
    starts,
    lengths,
    objects,
    ...(staged.durations && { durations: staged.durations.subarray(0, n) }),
  };
}
