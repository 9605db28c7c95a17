import { hashBytes, type Multihash, multihashToHex } from '../address/multihash.js';
import { decodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { encodeBucket, MAX_BUCKET_BYTES } from '../format/bucket.js';
import type { IndexEntry } from '../index/page.js';
import { buildTree } from '../index/tree.js';
import { MANIFEST_VERSION, type Manifest, sealManifest } from '../model/manifest.js';
import type { Track } from '../model/track.js';
import { assertRefName } from '../store/keys.js';
import type { Resolved, Session } from './session.js';
import type { StagedItem, Writer } from './writer.js';

/** What publish needs beyond the writer. */
export interface PublishOptions {
  /** The ref to move (e.g. main, heads/team-a). */
  readonly ref: string;
  /** Parents of the new manifest; default: the writer's base manifest, if any. */
  readonly parents?: readonly Multihash[];
  readonly author?: string;
  readonly message?: string;
  /** Unix ns for the manifest's display timestamp; default: now. */
  readonly created?: bigint;
  /** Concurrent object uploads (default 16). */
  readonly concurrency?: number;
}

/** What a publish wrote. */
export interface Published extends Resolved {
  readonly objectsWritten: number;
  readonly bytesWritten: number;
}

/** Run `tasks` with at most `limit` in flight. */
async function inParallel(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/** Group a track's new items into buckets: event items by time window, stream fragments by size. */
function bucketsOf(track: Track, items: readonly StagedItem[]): StagedItem[][] {
  const groups: StagedItem[][] = [];
  let current: StagedItem[] = [];
  let bytes = 0;
  let window: bigint | undefined;
  for (const item of items) {
    const itemWindow = track.kind === 'event' ? item.tick / track.bucketDuration! : 0n;
    const full = bytes + item.bytes.length > MAX_BUCKET_BYTES - 1024 * 1024;
    if (current.length > 0 && (itemWindow !== window || full)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes.length;
    window = itemWindow;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * publish: upload the writer's buckets and index pages, then the manifest (parents explicit), then
 * compare-and-swap the ref. The ref moves last, so a failure at any step leaves it as it was (objects
 * already uploaded are unreachable and `collect` removes them). A lost race is a RefConflictError that
 * carries the winner.
 */
export async function publish(session: Session, writer: Writer, options: PublishOptions): Promise<Published> {
  const store = session.store;
  assertRefName(options.ref);
  const parents = options.parents ?? (writer.base ? [writer.base.hash] : []);
  for (const parent of parents) {
    try {
      await session.manifest(parent);
    } catch (error) {
      throw new EngineError(
        'E_NOT_FOUND',
        `parent manifest ${multihashToHex(parent)} cannot be read: ${(error as Error).message}`,
      );
    }
  }
  const uploads: { bytes: Uint8Array; hash: Multihash }[] = [];
  const tracks: Track[] = [];
  const builtPages = new Map<Track, Uint8Array[]>();
  for (const track of writer.allTracks()) {
    const items = writer.stagedItems(track.timeline, track.name);
    if (items.length === 0) {
      tracks.push(track);
      continue;
    }
    const fresh: IndexEntry[] = [];
    for (const group of bucketsOf(track, items)) {
      const { bytes, locators } = encodeBucket({
        timeline: track.timeline,
        track: track.name,
        kind: track.kind,
        items: group,
      });
      const hash = hashBytes(bytes);
      uploads.push({ bytes, hash });
      group.forEach((item, i) => {
        fresh.push({ tick: item.tick, duration: item.duration, object: hash, ...locators[i]! });
      });
    }
    // Old entries and the pages that already exist (those are not uploaded again).
    const oldPages = new Set<string>();
    let entries = fresh; // staged items come sorted, one per tick
    if (track.index) {
      const merged = new Map<bigint, IndexEntry>();
      await session.pages.visit(track.index.root, oldPages, (entry) => merged.set(entry.tick, entry));
      for (const entry of fresh) {
        const old = merged.get(entry.tick);
        // Constant tracks: the lexicographically greatest correction layer wins (0008 §6.3).
        if (
          old &&
          track.kind === 'constant' &&
          (await layerOf(session, old)) > (await layerOf(session, entry, items))
        ) {
          continue;
        }
        merged.set(entry.tick, entry);
      }
      entries = [...merged.values()].sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
    }
    const built = buildTree(track.name, entries)!;
    for (const [hex, bytes] of built.pages)
      if (!oldPages.has(hex)) uploads.push({ bytes, hash: hashBytes(bytes) });
    const { page: root, height, count, first, last } = built.root;
    const rebuilt: Track = { ...track, index: { root, height, count, first, last } };
    tracks.push(rebuilt);
    builtPages.set(rebuilt, [...built.pages.values()]);
  }
  const base = writer.base?.manifest;
  inlineSmallIndexes(tracks, builtPages);
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    space: store.space,
    parents,
    created: options.created ?? BigInt(Date.now()) * 1_000_000n,
    timelines: writer.allTimelines(),
    tracks,
    ...(options.author !== undefined && { author: options.author }),
    ...(options.message !== undefined && { message: options.message }),
  };
  const manifestBytes = sealManifest(manifest);
  let bytesWritten = 0;
  await inParallel(
    uploads.map((u) => async () => {
      await store.putObject(u.bytes);
      bytesWritten += u.bytes.length;
    }),
    options.concurrency ?? 16,
  );
  const hash = await store.putObject(manifestBytes);
  bytesWritten += manifestBytes.length;
  const expected =
    writer.base?.ref?.name === options.ref
      ? writer.base.ref.state
      : base
        ? await store.readRef(options.ref)
        : undefined;
  const state = await store.casRef(options.ref, hash, expected);
  const resolved: Published = {
    hash,
    manifest,
    ref: { name: options.ref, state },
    objectsWritten: uploads.length + 1,
    bytesWritten,
  };
  session.remember(options.ref, resolved);
  return resolved;
}

/** Manifests stay under this size; indexes that fit inside it travel inline (spec 0007 §7.5). */
export const INLINE_INDEX_BUDGET = 1024 * 1024;

/** Put each rebuilt track's pages inline while the manifest stays under its budget, smallest first. */
function inlineSmallIndexes(tracks: Track[], built: Map<Track, Uint8Array[]>): void {
  // Room for the rest of the manifest, and for the inline pages unchanged tracks already carry.
  let budget = INLINE_INDEX_BUDGET - 64 * 1024;
  for (const track of tracks)
    if (!built.has(track)) budget -= (track.index?.pages ?? []).reduce((s, p) => s + p.length, 0);
  const bySize = [...built].map(([track, pages]) => ({
    track,
    pages,
    bytes: pages.reduce((s, p) => s + p.length, 0),
  }));
  bySize.sort((a, b) => a.bytes - b.bytes);
  for (const { track, pages, bytes } of bySize) {
    if (bytes > budget) break;
    budget -= bytes;
    const i = tracks.indexOf(track);
    tracks[i] = { ...track, index: { ...track.index!, pages } };
  }
}

/** The correction layer of a constant item: from the staged items, or read from its bucket. */
async function layerOf(session: Session, entry: IndexEntry, staged?: readonly StagedItem[]): Promise<string> {
  const local = staged?.find((s) => s.tick === entry.tick);
  if (local) return local.layer ?? '';
  const bytes = await session.store.getRange(entry.object, entry);
  return String((decodeCanonical(bytes) as { layer?: unknown }).layer ?? '');
}
