import { type Multihash, multihashToHex } from '../address/multihash.js';
import { updateRegistry } from '../deletes/registry.js';
import { EngineError } from '../errors.js';
import { MANIFEST_VERSION, type Manifest, sealManifest } from '../model/manifest.js';
import type { Resolved, Session } from '../session/session.js';
import { RefConflictError, type RefState } from '../store/space-store.js';
import { manifestCreated } from '../writes/manifest-build.js';
import { Uploader } from '../writes/uploader.js';
import { type AncestryOf, memoAncestry, mergeBases, refName, resolveVersion } from './dag.js';
import { type MergedContent, mergeContent } from './merge-content.js';

/** What a merge records in the manifest it writes. */
export interface MergeOptions {
  /** The ref to merge into (created when missing). */
  readonly into: string;
  /** The versions to merge: refs or manifest hashes; several make one octopus merge. */
  readonly from: readonly (string | Multihash)[];
  readonly author?: string;
  readonly message?: string;
  /** Unix ns display timestamp; default now, kept above the parents'. */
  readonly created?: bigint;
  /** false: write a merge manifest even where the ref could simply move forward. */
  readonly fastForward?: boolean;
  /** Times to merge again onto a ref that moved during the merge (default 5). */
  readonly retries?: number;
}

/** What a merge did: nothing (already merged), moved the ref forward, or wrote a merge manifest. */
export interface Merged extends Resolved {
  readonly ref: { readonly name: string; readonly state: RefState };
  readonly outcome: 'up-to-date' | 'fast-forward' | 'merge';
  /** The merge bases found for each merged version (hex), in order. */
  readonly bases: readonly (readonly string[])[];
  readonly objectsWritten: number;
}

/** Store a manifest of merged content with explicit parents, once the objects it names are stored. */
async function storeMerged(
  session: Session,
  uploader: Uploader,
  content: MergedContent,
  parents: readonly Multihash[],
  options: { author?: string; message?: string; created?: bigint; tombstones?: Multihash },
): Promise<{ hash: Multihash; manifest: Manifest }> {
  await uploader.drain();
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    space: session.store.space,
    parents,
    created: await manifestCreated(session, parents, options.created),
    timelines: content.timelines,
    tracks: content.tracks,
    ...(options.author !== undefined && { author: options.author }),
    ...(options.message !== undefined && { message: options.message }),
    ...(options.tombstones !== undefined && { tombstones: options.tombstones }),
  };
  const hash = await session.store.putObject(sealManifest(manifest));
  // A rebased delete keeps its TombstoneList, and the registry lists the manifest that now carries it.
  if (options.tombstones)
    await updateRegistry(session.store.store, session.store.space, (d) => d.add(multihashToHex(hash)));
  return { hash, manifest };
}

/**
 * The base to merge two manifests against: their one best common ancestor; none for unrelated
 * histories; after a criss-cross (several), the merge of those bases, built the same way and stored as a
 * manifest no ref names (spec 0008 §3).
 */
export async function mergeBase(
  session: Session,
  a: Multihash,
  b: Multihash,
  uploader: Uploader,
  ancestryOf: AncestryOf = memoAncestry(session),
): Promise<{ manifest: Manifest | undefined; bases: Multihash[] }> {
  const bases = await mergeBases(session, a, b, ancestryOf);
  if (bases.length === 0) return { manifest: undefined, bases };
  let virtual = { hash: bases[0]!, manifest: await session.manifest(bases[0]!) };
  for (const next of bases.slice(1)) {
    const { manifest: inner } = await mergeBase(session, virtual.hash, next, uploader, ancestryOf);
    const content = await mergeContent(
      session,
      inner,
      virtual.manifest,
      await session.manifest(next),
      uploader,
    );
    virtual = await storeMerged(session, uploader, content, [virtual.hash, next], {
      created: virtual.manifest.created,
      message: 'virtual merge base',
    });
  }
  return { manifest: virtual.manifest, bases };
}

/**
 * merge: bring other versions into a ref (spec 0008 §4). Versions the ref already contains are skipped;
 * one version that contains the ref moves it forward; otherwise a three-way merge per version against
 * its merge base, written as one manifest whose parents are the ref's manifest then the versions (an
 * octopus merge for several). A conflict throws MergeConflictError and moves nothing; a ref moved by
 * someone else meanwhile is merged onto again.
 */
export async function merge(session: Session, options: MergeOptions): Promise<Merged> {
  const into = refName(options.into);
  if (options.from.length === 0)
    throw new EngineError('E_BAD_REQUEST', 'merge needs at least one version to merge');
  const retries = options.retries ?? 5;
  // Each version's history is walked once for every question below, and across retries (a manifest's
  // ancestry never changes).
  const ancestryOf = memoAncestry(session);
  for (let attempt = 0; ; attempt++) {
    const ours = await session.resolve(into);
    const uploader = new Uploader(session.store, 16);
    const theirs: Resolved[] = [];
    const seen = new Set<string>();
    const contained = ours ? await ancestryOf(ours.hash) : new Map();
    for (const version of options.from) {
      const resolved = await resolveVersion(session, version);
      const hex = multihashToHex(resolved.hash);
      if (seen.has(hex) || contained.has(hex)) continue; // already in the ref
      seen.add(hex);
      theirs.push(resolved);
    }
    // A version that another one being merged already contains adds nothing.
    const needed: Resolved[] = [];
    for (const t of theirs) {
      let inOther = false;
      for (const other of theirs) {
        if (other !== t && (await ancestryOf(other.hash)).has(multihashToHex(t.hash))) inOther = true;
      }
      if (!inOther) needed.push(t);
    }
    try {
      if (needed.length === 0) {
        if (!ours) throw new EngineError('E_NOT_FOUND', `space ${session.store.space} has no ref ${into}`);
        return { ...ours, ref: ours.ref!, outcome: 'up-to-date', bases: [], objectsWritten: 0 };
      }
      if (needed.length === 1 && options.fastForward !== false) {
        const only = needed[0]!;
        if (!ours || (await ancestryOf(only.hash)).has(multihashToHex(ours.hash))) {
          const state = await session.store.casRef(into, only.hash, ours?.ref?.state);
          const moved: Merged = {
            hash: only.hash,
            manifest: only.manifest,
            ref: { name: into, state },
            outcome: 'fast-forward',
            bases: [ours ? [multihashToHex(ours.hash)] : []],
            objectsWritten: 0,
          };
          session.remember(into, moved);
          return moved;
        }
      }
      let current = ours ?? needed[0]!;
      const rest = ours ? needed : needed.slice(1);
      const bases: string[][] = ours ? [] : [[]];
      let content: MergedContent = {
        timelines: [...current.manifest.timelines],
        tracks: [...current.manifest.tracks],
      };
      for (const [i, t] of rest.entries()) {
        const base = await mergeBase(session, current.hash, t.hash, uploader, ancestryOf);
        bases.push(base.bases.map(multihashToHex));
        content = await mergeContent(session, base.manifest, current.manifest, t.manifest, uploader);
        if (i < rest.length - 1) {
          // An octopus merges one version at a time; the steps between are manifests no ref names.
          current = await storeMerged(session, uploader, content, [current.hash, t.hash], {
            created: options.created,
          });
        }
      }
      const parents = [...(ours ? [ours.hash] : []), ...needed.map((t) => t.hash)];
      const stored = await storeMerged(session, uploader, content, parents, options);
      const state = await session.store.casRef(into, stored.hash, ours?.ref?.state);
      const merged: Merged = {
        ...stored,
        ref: { name: into, state },
        outcome: 'merge',
        bases,
        objectsWritten: uploader.objects + 1,
      };
      session.remember(into, merged);
      return merged;
    } catch (error) {
      await uploader.settle(); // nothing keeps writing after a failed merge
      if (!(error instanceof RefConflictError) || attempt >= retries) throw error;
    }
  }
}

/**
 * Rebase a publish that lost its compare-and-swap: merge its changes since `base` onto the manifest the
 * ref moved to, write that as a manifest whose one parent is the ref's (a straight history), and move
 * the ref again; a conflict throws MergeConflictError and moves nothing (spec 0008 §6).
 */
export async function rebase(
  session: Session,
  ref: string,
  base: Manifest | undefined,
  mine: Manifest,
  lost: RefConflictError,
  options: { author?: string; message?: string; created?: bigint; retries?: number } = {},
): Promise<Resolved & { ref: { name: string; state: RefState }; objectsWritten: number }> {
  let winner = lost.current;
  for (let attempt = 0; ; attempt++) {
    if (!winner) throw lost; // the ref was deleted: nothing to rebase onto
    const onto = await session.manifest(winner.manifest);
    const uploader = new Uploader(session.store, 16);
    try {
      const content = await mergeContent(session, base, onto, mine, uploader);
      const stored = await storeMerged(session, uploader, content, [winner.manifest], {
        ...options,
        ...(mine.tombstones && { tombstones: mine.tombstones }),
      });
      const state = await session.store.casRef(ref, stored.hash, winner);
      const done = { ...stored, ref: { name: ref, state }, objectsWritten: uploader.objects + 1 };
      session.remember(ref, done);
      return done;
    } catch (error) {
      await uploader.settle();
      if (!(error instanceof RefConflictError) || attempt >= (options.retries ?? 5)) throw error;
      winner = error.current;
    }
  }
}
