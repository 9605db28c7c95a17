import { type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { decodeItemManifest, isItemManifest } from '../format/item-manifest.js';
import { findIndexKind } from '../indexes/registry.js';
import { paramsOf, trackIndexes } from '../indexes/track-indexes.js';
import type { Manifest } from '../model/manifest.js';
import type { SegmentRef } from '../model/segments.js';
import type { Track } from '../model/track.js';
import { trackRoot } from '../queries/read.js';
import type { Session } from '../session/session.js';
import { objectKey, spacePrefix } from '../store/keys.js';
import { type ByteRange, listAll } from '../store/object-store.js';
import { decodeRef } from '../store/space-store.js';
import type { Tick } from '../time/ticks.js';
import { Uploader } from '../writes/uploader.js';
import { type Erasure, updateRegistry } from './registry.js';
import { END, walkEnd } from './selector.js';
import { openTombstoneList } from './tombstone-list.js';

/** What an erasure did (spec 0020 §7). */
export interface ErasureReport {
  /** Versions walked: every manifest any ref reaches. */
  readonly manifests: number;
  /** Item locations erased (an item kept by several versions in one place counts once). */
  readonly items: number;
  /** Bucket objects replaced by a copy with the erased items' bytes zeroed. */
  readonly buckets: number;
  /** Objects of items stored as parts, removed whole. */
  readonly parts: number;
  /** Index segments rebuilt without the erased items, or removed. */
  readonly segments: number;
  /** Bytes of erased items (zeroed or removed). */
  readonly bytes: number;
}

/** Every manifest reachable from the space's refs and from `also`. */
async function* allVersions(session: Session, also: Multihash): AsyncGenerator<Manifest> {
  const pending: Multihash[] = [also];
  for await (const info of listAll(session.store.store, spacePrefix(session.store.space, 'refs')))
    pending.push(decodeRef((await session.store.store.get(info.key)).body, info.key));
  const seen = new Set<string>();
  while (pending.length > 0) {
    const hash = pending.pop()!;
    const hex = multihashToHex(hash);
    if (seen.has(hex)) continue;
    seen.add(hex);
    const manifest = await session.manifest(hash);
    pending.push(...manifest.parents);
    yield manifest;
  }
}

/** Ranges sorted and joined where they touch or overlap. */
function joined(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push({ ...r });
  }
  return out;
}

/**
 * erase: make the items a delete removed unreadable in every version of the space (spec 0020 §7). Each
 * bucket holding one is replaced by a copy with those bytes zeroed (every other item keeps its offsets),
 * items stored as parts lose their parts, each index segment holding one is rebuilt without it; the
 * registry lists each erased object with what takes its place, and only then are the erased objects
 * deleted. Readers of any version then read the replacements, and an erased item is E_ERASED. Running
 * it again is harmless (a crash part-way is finished by running it again).
 */
export async function erase(session: Session, deleteManifest: Multihash): Promise<ErasureReport> {
  const space = session.store;
  const manifest = await session.manifest(deleteManifest);
  if (!manifest.tombstones)
    throw new EngineError(
      'E_BAD_REQUEST',
      `manifest ${multihashToHex(deleteManifest)} deleted nothing to erase`,
    );
  const list = openTombstoneList(await space.getObject(manifest.tombstones));
  const scope = (track: Track) =>
    list.tombstones
      .filter((t) => t.timeline === track.timeline && (t.track === undefined || t.track === track.name))
      .map((t) => ({ from: t.from ?? 0n, to: t.to }));
  const buckets = new Map<string, { object: Multihash; ranges: ByteRange[] }>();
  const segments = new Map<
    string,
    { track: Track; scheme: string; segment: SegmentRef; erased: (tick: Tick) => boolean }
  >();
  const walked = new Set<string>();
  let manifests = 0;
  for await (const version of allVersions(session, deleteManifest)) {
    manifests++;
    for (const track of version.tracks) {
      const ranges = scope(track);
      if (ranges.length === 0) continue;
      const erased = (tick: Tick) =>
        ranges.some((r) => tick >= r.from && (r.to === undefined || tick < r.to));
      for (const [scheme, record] of trackIndexes(track)) {
        if (!findIndexKind(scheme))
          throw new EngineError(
            'E_UNSUPPORTED',
            `index ${scheme} of ${track.timeline}/${track.name} is of a kind this engine does not know: it cannot be erased`,
          );
        for (const segment of record.segments) {
          const hex = multihashToHex(segment.object);
          const holds = ranges.some(
            (r) => segment.last >= r.from && (r.to === undefined || segment.first < r.to),
          );
          if (holds && !segments.has(hex)) segments.set(hex, { track, scheme, segment, erased });
        }
      }
      const root = trackRoot(track);
      if (!root) continue;
      const key = `${multihashToHex(root.page)}|${ranges.map((r) => `${r.from}-${r.to}`).join(',')}`;
      if (walked.has(key)) continue;
      walked.add(key);
      for (const r of ranges) {
        for await (const entry of session.pages.range(root, r.from, walkEnd(r.to ?? END))) {
          const hex = multihashToHex(entry.object);
          const bucket = buckets.get(hex) ?? { object: entry.object, ranges: [] };
          bucket.ranges.push({ start: entry.start, end: entry.end });
          buckets.set(hex, bucket);
        }
      }
    }
  }
  const known = await space.erasures(0);
  const uploader = new Uploader(space, 8);
  const erasures: Erasure[] = [];
  const gone: Multihash[] = [];
  let items = 0;
  let bytes = 0;
  let parts = 0;
  let rewritten = 0;
  try {
    for (const [hex, bucket] of buckets) {
      const before = known.get(hex);
      const fresh = joined(bucket.ranges);
      const all = joined([...(before?.ranges ?? []), ...fresh]);
      const added = fresh.filter((r) => !before?.ranges.some((b) => b.start <= r.start && r.end <= b.end));
      items += fresh.length;
      if (added.length === 0) continue; // erased already
      // The bytes as readers see them now: the object, or what an earlier erasure put in its place.
      const copy = Uint8Array.from(await space.getObject(before?.replacement ?? bucket.object));
      for (const r of added) {
        const stored = copy.subarray(r.start, r.end);
        if (isItemManifest(stored))
          for (const part of decodeItemManifest(stored).parts) {
            erasures.push({ object: part.object, ranges: [] });
            gone.push(part.object);
            parts++;
            bytes += part.size;
          }
        else bytes += r.end - r.start;
        copy.fill(0, r.start, r.end);
      }
      const replacement = await space.putObject(copy);
      erasures.push({ object: bucket.object, replacement, ranges: all });
      gone.push(bucket.object);
      rewritten++;
    }
    let segmentsDone = 0;
    for (const { track, scheme, segment, erased } of segments.values()) {
      const kind = findIndexKind(scheme)!;
      if (!kind.erase) continue; // the kind holds nothing of an item's bytes
      const record = track.indexes![scheme]!;
      // A segment erased before is read as what took its place (readers check an object by its hash).
      const earlier = known.get(multihashToHex(segment.object));
      if (earlier && !earlier.replacement) continue;
      const current = earlier ? { ...segment, object: earlier.replacement! } : segment;
      const done = await kind.erase({ session, uploader }, paramsOf(kind, record), current, erased);
      if (!done) continue;
      erasures.push({ object: segment.object, ranges: [], ...(done.object && { replacement: done.object }) });
      gone.push(segment.object);
      segmentsDone++;
    }
    await uploader.drain();
    // Listed before anything is deleted: from then on a reader that misses an object finds why.
    if (erasures.length > 0)
      await updateRegistry(space.store, space.space, (_deletes, erased) => {
        for (const e of erasures) erased.set(multihashToHex(e.object), e);
      });
    for (const object of gone) {
      try {
        await space.store.delete(objectKey(space.space, object));
      } catch (error) {
        if (!(error instanceof EngineError && error.code === 'E_NOT_FOUND')) throw error;
      }
    }
    space.forgetErased(gone);
    return { manifests, items, buckets: rewritten, parts, segments: segmentsDone, bytes };
  } catch (error) {
    await uploader.settle();
    throw error;
  }
}
