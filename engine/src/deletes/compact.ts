import { type Multihash, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { MANIFEST_VERSION, type Manifest, sealManifest } from '../model/manifest.js';
import type { Track } from '../model/track.js';
import { readBucketHeader, trackRoot } from '../queries/read.js';
import type { Session } from '../session/session.js';
import { normalizeRef } from '../store/keys.js';
import { isTag, type RefState } from '../store/space-store.js';
import { MAX_TICK } from '../time/ticks.js';
import { entryAt } from '../timeindex/columns.js';
import { editTree, type IndexEdit } from '../timeindex/edit.js';
import type { IndexEntry } from '../timeindex/page.js';
import { memoAncestry } from '../versions/dag.js';
import { packBuckets } from '../writes/buckets.js';
import { inlineSmallIndexes, manifestCreated, treePages, withIndex } from '../writes/manifest-build.js';
import { StagedColumns } from '../writes/staged.js';
import { Uploader } from '../writes/uploader.js';
import { readRegistry } from './registry.js';
import { END, walkEnd } from './selector.js';
import { openTombstoneList } from './tombstone-list.js';

/** What a compaction did (spec 0020 §6). */
export interface CompactReport {
  /** The version published (none when nothing needed rewriting). */
  readonly manifest?: Multihash;
  readonly ref: string;
  /** Buckets rewritten without their deleted items, and the items moved into the new ones. */
  readonly buckets: number;
  readonly items: number;
  /** Bytes of those buckets before and of their rewrites after: the difference no longer read by the head. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/**
 * compact: rewrite the buckets of a branch's head that still hold the bytes of deleted items (spec 0020
 * §6) with only the items the head keeps, point the head's time index at the new buckets (the items,
 * their ticks and their search indexes are unchanged), and publish that as a new version. The old buckets
 * stay for the versions that name them; `collect` reclaims them once none does (after erasure, say).
 * Buckets holding items stored as parts are left as they are.
 */
export async function compact(
  session: Session,
  options: { ref: string; message?: string },
): Promise<CompactReport> {
  const ref = normalizeRef(options.ref);
  if (isTag(ref))
    throw new EngineError('E_FORBIDDEN', `ref ${ref} is a tag: tags never change; compact a branch`);
  const head = await session.resolve(ref);
  if (!head) throw new EngineError('E_NOT_FOUND', `space ${session.store.space} has no ref ${ref}`);
  // The deletes the head contains, from the registry: each names the buckets its items were in.
  const ancestry = await memoAncestry(session)(head.hash);
  const candidates = new Map<string, Set<string>>(); // track key -> bucket hexes
  for (const hex of (await readRegistry(session.store.store, session.store.space)).deletes) {
    if (!ancestry.has(hex)) continue;
    const manifest = await session.manifest(multihashFromHex(hex));
    const list = openTombstoneList(await session.store.getObject(manifest.tombstones!));
    for (const t of list.tombstones) {
      if (!t.root || t.track === undefined) continue;
      const key = `${t.timeline}/${t.track}`;
      const set = candidates.get(key) ?? new Set<string>();
      candidates.set(key, set);
      // Only the page is known: the walk is bounded by the tombstone's range.
      const root = { page: t.root, height: 0, count: 0, first: 0n, last: MAX_TICK };
      for await (const e of session.pages.range(root, t.from ?? 0n, walkEnd(t.to ?? END)))
        set.add(multihashToHex(e.object));
    }
  }
  const uploader = new Uploader(session.store, 8);
  const tracks: Track[] = [];
  const built = new Map<Track, (Uint8Array | undefined)[]>();
  let buckets = 0;
  let items = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  try {
    for (const track of head.manifest.tracks) {
      const set = candidates.get(`${track.timeline}/${track.name}`);
      const root = trackRoot(track);
      if (!set || !root) {
        tracks.push(track);
        continue;
      }
      const edits: IndexEdit[] = [];
      for (const hex of set) {
        const object = multihashFromHex(hex);
        const header = await readBucketHeader(session, object);
        if (header.parts && header.parts.length > 0) continue;
        const first = header.items[0]?.tick;
        const last = header.items[header.items.length - 1]?.tick;
        if (first === undefined || last === undefined) continue;
        const live: IndexEntry[] = [];
        for await (const e of session.pages.range(root, first, walkEnd(last + 1n)))
          if (multihashToHex(e.object) === hex) live.push(e);
        // Nothing deleted here any more (compacted before), or nothing of it left in the head.
        if (live.length === 0 || live.length === header.items.length) continue;
        // The bucket is read once (verified), its live items copied out of it.
        const bytes = await session.store.getObject(object);
        const staged = new StagedColumns();
        for (const e of live) staged.push(e.tick, e.duration, bytes.subarray(e.start, e.end));
        const entries = await packBuckets(track, staged, uploader);
        for (let i = 0; i < entries.count; i++)
          edits.push({ tick: entries.ticks[i]!, entry: entryAt(entries, i) });
        buckets++;
        items += live.length;
        bytesBefore += header.items[header.items.length - 1]!.end;
        let after = 0;
        for (let i = 0; i < entries.count; i++)
          after = Math.max(after, entries.starts[i]! + entries.lengths[i]!);
        bytesAfter += after;
      }
      if (edits.length === 0) {
        tracks.push(track);
        continue;
      }
      edits.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
      const tree = (await editTree(session.pages, track.name, root, edits))!;
      for (const [hex, bytes] of tree.pages) await uploader.put(bytes, multihashFromHex(hex));
      const rebuilt = withIndex(track, tree.root);
      tracks.push(rebuilt);
      built.set(rebuilt, treePages(tree.root, tree.pages, track.index?.pages));
    }
    if (buckets === 0) {
      await uploader.drain();
      return { ref, buckets, items, bytesBefore, bytesAfter };
    }
    inlineSmallIndexes(tracks, built);
    await uploader.drain();
  } catch (error) {
    await uploader.settle();
    throw error;
  }
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    space: session.store.space,
    parents: [head.hash],
    created: await manifestCreated(session, [head.hash]),
    timelines: head.manifest.timelines,
    tracks,
    message: options.message ?? 'compact',
  };
  const hash = await session.store.putObject(sealManifest(manifest));
  // A publish that moved the ref meanwhile wins: compaction changes no item, so it is simply run again.
  const state: RefState = await session.store.casRef(ref, hash, head.ref?.state);
  session.remember(ref, { hash, manifest, ref: { name: ref, state } });
  return { manifest: hash, ref, buckets, items, bytesBefore, bytesAfter };
}
