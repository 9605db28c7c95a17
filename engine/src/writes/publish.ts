import { type Multihash, multihashFromHex } from '../address/multihash.js';
import '../indexes/builtin.js';
import { updateIndexes } from '../indexes/track-indexes.js';
import { MANIFEST_VERSION, type Manifest, sealManifest } from '../model/manifest.js';
import type { Track } from '../model/track.js';
import { storedLayer, trackRoot } from '../queries/read.js';
import type { Resolved, Session } from '../session/session.js';
import { assertRefName } from '../store/keys.js';
import { RefConflictError, type RefState } from '../store/space-store.js';
import { concatColumns, entryAt } from '../timeindex/columns.js';
import { editTree, type IndexEdit } from '../timeindex/edit.js';
import type { IndexEntry } from '../timeindex/page.js';
import { appendTree, type BuiltTree, buildTree } from '../timeindex/tree.js';
import { rebase } from '../versions/merge.js';
import { packBuckets } from './buckets.js';
import { inlineSmallIndexes, manifestCreated, treePages } from './manifest-build.js';
import { backgroundUploads } from './spill.js';
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

/** Pack, index and upload every track with staged items; the tracks as the new manifest lists them. */
async function uploadTracks(session: Session, writer: Writer, uploader: Uploader): Promise<Track[]> {
  const tracks: Track[] = [];
  const builtPages = new Map<Track, (Uint8Array | undefined)[]>();
  for (const track of writer.allTracks()) {
    const staged = writer.stagedItems(track.timeline, track.name);
    const spilled = writer.spilledEntries(track.timeline, track.name);
    if ((!staged || staged.count === 0) && !spilled) {
      tracks.push(track);
      continue;
    }
    const packed = staged && staged.count > 0 ? await packBuckets(track, staged, uploader) : undefined;
    const fresh = spilled && packed ? concatColumns(spilled, packed) : (packed ?? spilled!);
    const old = trackRoot(track);
    let built: BuiltTree;
    if (!old) built = buildTree(track.name, fresh)!;
    else if (fresh.ticks[0]! > old.last) {
      // Appending (the common case): only the right edge of the old tree is read and rewritten.
      built = await appendTree(session.pages, track.name, old, fresh);
    } else {
      // Items among or over the old ones: only the pages around them are read and rewritten (editTree).
      const fresher = new Map<bigint, { entry: IndexEntry; layer: string }>();
      const spilledCount = spilled?.count ?? 0;
      for (let i = 0; i < fresh.count; i++) {
        const layer = i < spilledCount ? '' : (staged?.layers?.[i - spilledCount] ?? '');
        fresher.set(fresh.ticks[i]!, { entry: entryAt(fresh, i), layer });
      }
      const edits: IndexEdit[] = [];
      for (const [tick, { entry, layer }] of [...fresher].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        if (track.kind === 'constant') {
          // Constant tracks: the lexicographically greatest correction layer wins (0008 §6.3).
          const previous = await session.pages.floor(old, tick);
          if (previous?.tick === tick && (await storedLayer(session, track, previous)).layer > layer)
            continue;
        }
        edits.push({ tick, entry });
      }
      built = (await editTree(session.pages, track.name, old, edits))!;
    }
    for (const [hex, bytes] of built.pages) await uploader.put(bytes, multihashFromHex(hex));
    const { page: root, height, count, first, last } = built.root;
    const indexes =
      staged && staged.count > 0
        ? await updateIndexes({ session, uploader }, track, {
            staged,
            append: !old || fresh.ticks[0]! > old.last,
          })
        : track.indexes;
    const rebuilt: Track = {
      ...track,
      index: { root, height, count, first, last },
      ...(indexes && { indexes }),
    };
    tracks.push(rebuilt);
    builtPages.set(rebuilt, treePages(built.root, built.pages, track.index?.pages));
  }
  inlineSmallIndexes(tracks, builtPages);
  return tracks;
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
  try {
    await backgroundUploads(writer)?.drain();
    tracks = await uploadTracks(session, writer, uploader);
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
  };
  const manifestBytes = sealManifest(manifest);
  const hash = await store.putObject(manifestBytes);
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
  const store = session.store;
  assertRefName(options.ref);
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
