import { hashBytes, type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Track } from '../model/track.js';
import type { Session } from '../session/session.js';
import { type ChildRef, decodePage } from '../timeindex/page.js';
import type { TreeRoot } from '../timeindex/tree.js';

/* What every writer of a manifest (publish, merge) does the same way: timestamps and inline indexes. */

/**
 * Check that every parent can be read, and give the new manifest's display timestamp: `created`, or now
 * kept above every parent's even when clocks disagree (spec 0008 §5).
 */
export async function manifestCreated(
  session: Session,
  parents: readonly Multihash[],
  created?: bigint,
): Promise<bigint> {
  let at = created ?? BigInt(Date.now()) * 1_000_000n;
  for (const parent of parents) {
    try {
      const before = (await session.manifest(parent)).created;
      if (created === undefined && at <= before) at = before + 1n;
    } catch (error) {
      throw new EngineError(
        'E_NOT_FOUND',
        `parent manifest ${multihashToHex(parent)} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  return at;
}

/** Manifests stay under this size; indexes that fit inside it travel inline (spec 0007 §7.5). */
export const INLINE_INDEX_BUDGET = 1024 * 1024;

/**
 * The pages of a rebuilt tree, root first, as far as they are at hand: the pages just built and, after
 * an append, the unchanged pages of the old inline index. Undefined members mean a page is not at hand
 * (the old index was paged), and then only the root can travel inline.
 */
export function treePages(
  root: TreeRoot,
  built: ReadonlyMap<string, Uint8Array>,
  oldInline: readonly Uint8Array[] | undefined,
): (Uint8Array | undefined)[] {
  const rootBytes = built.get(multihashToHex(root.page))!;
  let size = 0;
  for (const bytes of built.values()) size += bytes.length;
  if (size > INLINE_INDEX_BUDGET) return [rootBytes, undefined]; // too big to inline whole anyway
  const pool = new Map(built);
  for (const bytes of oldInline ?? []) pool.set(multihashToHex(hashBytes(bytes)), bytes);
  const out: (Uint8Array | undefined)[] = [];
  const walk = (mh: Multihash, level: number) => {
    const bytes = pool.get(multihashToHex(mh));
    out.push(bytes);
    if (!bytes || level === 0) return;
    for (const child of (decodePage(bytes) as { children: readonly ChildRef[] }).children)
      walk(child.page, level - 1);
  };
  walk(root.page, root.height - 1);
  return out;
}

/**
 * Put rebuilt tracks' indexes inline while the manifest stays under its budget, smallest first; a track
 * whose whole index does not fit carries its root page alone, which saves every cold query one GET.
 */
export function inlineSmallIndexes(tracks: Track[], built: Map<Track, (Uint8Array | undefined)[]>): void {
  // Room for the rest of the manifest, and for the inline pages unchanged tracks already carry.
  let budget = INLINE_INDEX_BUDGET - 64 * 1024;
  for (const track of tracks)
    if (!built.has(track)) budget -= (track.index?.pages ?? []).reduce((s, p) => s + p.length, 0);
  const bySize = [...built].map(([track, pages]) => ({
    track,
    pages,
    whole: pages.every((p) => p !== undefined),
    bytes: pages.reduce((s, p) => s + (p?.length ?? Number.POSITIVE_INFINITY), 0),
  }));
  bySize.sort((a, b) => a.bytes - b.bytes);
  const inline = (track: Track, pages: Uint8Array[]) => {
    const i = tracks.indexOf(track);
    tracks[i] = { ...track, index: { ...track.index!, pages } };
  };
  const rootOnly: typeof bySize = [];
  for (const entry of bySize) {
    if (entry.whole && entry.bytes <= budget) {
      budget -= entry.bytes;
      inline(entry.track, entry.pages as Uint8Array[]);
    } else rootOnly.push(entry);
  }
  for (const { track, pages } of rootOnly) {
    const root = pages[0]!;
    if (root.length > budget) continue;
    budget -= root.length;
    inline(track, [root]);
  }
}

/**
 * The track with its time index at `root` (none: the track is empty now); the index's inline pages are
 * dropped, inlineSmallIndexes puts them back. The inverse of trackRoot.
 */
export function withIndex(track: Track, root: TreeRoot | undefined): Track {
  const { index: _index, ...definition } = track;
  if (!root) return definition;
  const { page, height, count, first, last } = root;
  return { ...definition, index: { root: page, height, count, first, last } };
}
