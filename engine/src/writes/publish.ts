import { hashBytes, type Multihash, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { updateRegistry } from '../deletes/registry.js';
import { type CheckedSelector, walkEnd } from '../deletes/selector.js';
import { sealTombstoneList, type Tombstone } from '../deletes/tombstone-list.js';
import '../indexes/builtin.js';
import { updateIndexes } from '../indexes/track-indexes.js';
import { MANIFEST_VERSION, type Manifest, sealManifest } from '../model/manifest.js';
import type { Track } from '../model/track.js';
import { storedLayer, trackRoot } from '../queries/read.js';
import type { Resolved, Session } from '../session/session.js';
import { assertRefName } from '../store/keys.js';
import { RefConflictError, type RefState } from '../store/space-store.js';
import { MAX_TICK, type Tick } from '../time/ticks.js';
import { concatColumns, entryAt } from '../timeindex/columns.js';
import { editTree, type IndexEdit } from '../timeindex/edit.js';
import { appendTree, type BuiltTree, buildTree } from '../timeindex/tree.js';
import { withLease } from '../versions/leases.js';
import { rebase } from '../versions/merge.js';
import { packBuckets } from './buckets.js';
import { inlineSmallIndexes, manifestCreated, treePages, withIndex } from './manifest-build.js';
import { backgroundUploads } from './spill.js';
import { StagedColumns } from './staged.js';
import { Uploader } from './uploader.js';
import type { Writer } from './writer.js';

/** What a manifest records beyond the writer's contents. */
export interface ManifestOptions {
  /** Parents of the new manifest; default: the writer's base manifest, if any. */
  readonly parents?: readonly Multihash[];
  readonly author?: string;
  readonly message?: string;
  /** Unix ns for the manifest's display timestamp; default: now. */
  readonly created?: bigint;
  /** Concurrent object uploads (default 16). */
  readonly concurrency?: number;
  /** The deletes ask for erasure (spec 0020 §7): recorded in the TombstoneList. */
  readonly erase?: boolean;
}

/** What publish needs beyond the writer. */
export interface PublishOptions extends ManifestOptions {
  /** The ref to move (e.g. main, heads/team-a). */
  readonly ref: string;
  /**
   * When another publish moved the ref first: merge this one's changes onto it and move the ref there
   * (no conflicts allowed), instead of failing with RefConflictError.
   */
  readonly rebase?: boolean;
}

/** A manifest stored with everything it points to, and what storing it wrote. */
export interface WrittenManifest {
  readonly hash: Multihash;
  readonly manifest: Manifest;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
}

/** What a publish wrote. */
export interface Published extends Resolved {
  readonly objectsWritten: number;
  readonly bytesWritten: number;
}

/** The ticks of a track's items inside the deleted ranges, ascending, with the tombstone of each range. */
async function deletedTicks(
  session: Session,
  track: Track,
  ranges: readonly CheckedSelector[],
): Promise<{ ticks: Tick[]; tombstones: Tombstone[] }> {
  const old = trackRoot(track);
  const ticks = new Set<Tick>();
  const tombstones: Tombstone[] = [];
  for (const r of ranges) {
    let count = 0;
    // Ranges end past the last tick at most; the tree's range() takes an inclusive-exclusive pair.
    const to = walkEnd(r.to);
    if (old) {
      for await (const entry of session.pages.range(old, r.from, to)) {
        if (!ticks.has(entry.tick)) count++;
        ticks.add(entry.tick);
      }
      if (r.to > MAX_TICK && old.last === MAX_TICK && !ticks.has(MAX_TICK)) {
        ticks.add(MAX_TICK);
        count++;
      }
    }
    if (count > 0)
      tombstones.push({
        timeline: track.timeline,
        track: track.name,
        from: r.from,
        to: r.to,
        count,
        root: old!.page,
      });
  }
  return { ticks: [...ticks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), tombstones };
}

/**
 * Pack, index and upload every track with staged items or deleted ranges; the tracks as the new manifest
 * lists them, and the tombstones of the ranges deleted.
 */
async function uploadTracks(
  session: Session,
  writer: Writer,
  uploader: Uploader,
): Promise<{ tracks: Track[]; tombstones: Tombstone[] }> {
  const tracks: Track[] = [];
  const tombstones: Tombstone[] = [];
  const builtPages = new Map<Track, (Uint8Array | undefined)[]>();
  for (const track of writer.allTracks()) {
    const staged = writer.stagedItems(track.timeline, track.name);
    const spilled = writer.spilledEntries(track.timeline, track.name);
    const ranges = writer.deletedRanges(track.timeline, track.name);
    const deleted = ranges ? await deletedTicks(session, track, ranges) : undefined;
    tombstones.push(...(deleted?.tombstones ?? []));
    const removals = deleted?.ticks ?? [];
    const hasNew = (staged !== undefined && staged.count > 0) || spilled !== undefined;
    if (!hasNew && removals.length === 0) {
      tracks.push(track);
      continue;
    }
    const packed = staged && staged.count > 0 ? await packBuckets(track, staged, uploader) : undefined;
    const fresh = spilled && packed ? concatColumns(spilled, packed) : (packed ?? spilled);
    const old = trackRoot(track);
    let built: BuiltTree | undefined;
    if (!old) built = buildTree(track.name, fresh!)!;
    else if (removals.length === 0 && fresh!.ticks[0]! > old.last) {
      // Appending (the common case): only the right edge of the old tree is read and rewritten.
      built = await appendTree(session.pages, track.name, old, fresh!);
    } else {
      // Items among or over the old ones, or deleted: only the pages around them are read and
      // rewritten (editTree). Deletes come first; the batch's own items are written over them.
      const edits = new Map<Tick, IndexEdit>();
      for (const tick of removals) edits.set(tick, { tick });
      const spilledCount = spilled?.count ?? 0;
      for (let i = 0; i < (fresh?.count ?? 0); i++) {
        const tick = fresh!.ticks[i]!;
        const layer = i < spilledCount ? '' : (staged?.layers?.[i - spilledCount] ?? '');
        if (track.kind === 'constant' && !edits.has(tick)) {
          // Constant tracks: the lexicographically greatest correction layer wins (0008 §6.3).
          const previous = await session.pages.floor(old, tick);
          if (previous?.tick === tick && (await storedLayer(session, track, previous)).layer > layer)
            continue;
        }
        edits.set(tick, { tick, entry: entryAt(fresh!, i) });
      }
      const sorted = [...edits.values()].sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
      built = await editTree(session.pages, track.name, old, sorted);
    }
    for (const [hex, bytes] of built?.pages ?? []) await uploader.put(bytes, multihashFromHex(hex));
    const rewritten = new Set<Tick>(fresh ? fresh.ticks.subarray(0, fresh.count) : []);
    const removed = new Set(removals.filter((t) => !rewritten.has(t)));
    const indexes =
      (staged && staged.count > 0) || removed.size > 0
        ? await updateIndexes({ session, uploader }, track, {
            staged: staged ?? new StagedColumns(),
            append: removed.size === 0 && (!old || fresh!.ticks[0]! > old.last),
            removed,
          })
        : track.indexes;
    const rebuilt: Track = { ...withIndex(track, built?.root), ...(indexes && { indexes }) };
    tracks.push(rebuilt);
    if (built) builtPages.set(rebuilt, treePages(built.root, built.pages, track.index?.pages));
  }
  inlineSmallIndexes(tracks, builtPages);
  return { tracks, tombstones };
}

/**
 * Upload the writer's buckets and index pages, then the manifest (parents explicit), and move no ref: the
 * manifest is content-addressed, so any later publish (from any process) can point a ref at it. Until
 * one does, it is garbage that `collect` removes once older than its grace period.
 */
export async function writeManifest(
  session: Session,
  writer: Writer,
  options: ManifestOptions = {},
): Promise<WrittenManifest> {
  const store = session.store;
  const parents = options.parents ?? (writer.base ? [writer.base.hash] : []);
  const created = await manifestCreated(session, parents, options.created);
  const uploader = new Uploader(store, options.concurrency ?? 16);
  let tracks: Track[];
  let tombstones: Multihash | undefined;
  try {
    await backgroundUploads(writer)?.drain();
    const uploaded = await uploadTracks(session, writer, uploader);
    tracks = uploaded.tracks;
    const deleted = [...writer.droppedTombstones(), ...uploaded.tombstones];
    if (deleted.length > 0) {
      const list = sealTombstoneList({
        space: store.space,
        tombstones: deleted,
        erase: options.erase === true,
      });
      tombstones = hashBytes(list);
      await uploader.put(list, tombstones);
    }
    await uploader.drain();
  } catch (error) {
    await uploader.settle(); // nothing keeps writing after the write has failed
    throw error;
  }
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    space: store.space,
    parents,
    created,
    timelines: writer.allTimelines(),
    tracks,
    ...(options.author !== undefined && { author: options.author }),
    ...(options.message !== undefined && { message: options.message }),
    ...(tombstones && { tombstones }),
  };
  const manifestBytes = sealManifest(manifest);
  const hash = await store.putObject(manifestBytes);
  // Listed before any ref can point at it: a registry entry whose publish then fails names a manifest
  // no ref reaches, which compaction ignores; a delete the registry missed could never be compacted.
  if (tombstones) await updateRegistry(store.store, store.space, (d) => d.add(multihashToHex(hash)));
  return {
    hash,
    manifest,
    objectsWritten: uploader.objects + 1,
    bytesWritten: uploader.bytes + manifestBytes.length,
  };
}

/**
 * publish: writeManifest, then compare-and-swap the ref. The ref moves last, so a failure at any step
 * leaves it as it was (objects already uploaded are unreachable and `collect` removes them). A lost race
 * is a RefConflictError that carries the winner.
 */
export async function publish(session: Session, writer: Writer, options: PublishOptions): Promise<Published> {
  assertRefName(options.ref);
  // The base is leased while the publish is in flight: collect keeps what it reuses (spec 0006 §2.8).
  return withLease(session, writer.base, () => publishOnBase(session, writer, options));
}

async function publishOnBase(session: Session, writer: Writer, options: PublishOptions): Promise<Published> {
  const store = session.store;
  const written = await writeManifest(session, writer, options);
  const expected =
    writer.base?.ref?.name === options.ref
      ? writer.base.ref.state
      : writer.base
        ? await store.readRef(options.ref)
        : undefined;
  let state: RefState;
  try {
    state = await store.casRef(options.ref, written.hash, expected);
  } catch (error) {
    if (!(options.rebase && error instanceof RefConflictError)) throw error;
    const rebased = await rebase(
      session,
      options.ref,
      writer.base?.manifest,
      written.manifest,
      error,
      options,
    );
    return {
      ...rebased,
      objectsWritten: written.objectsWritten + rebased.objectsWritten,
      bytesWritten: written.bytesWritten,
    };
  }
  const resolved: Published = { ...written, ref: { name: options.ref, state } };
  session.remember(options.ref, resolved);
  return resolved;
}
