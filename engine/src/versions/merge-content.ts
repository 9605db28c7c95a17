import { equalBytes, multihashFromHex } from '../address/multihash.js';
import { compareBytes } from '../bytes.js';
import { encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import '../indexes/builtin.js';
import { checkIndexLineage, IndexStager, updateIndexes } from '../indexes/track-indexes.js';
import type { Manifest } from '../model/manifest.js';
import { type Timeline, timelineToCbor } from '../model/timeline.js';
import { type Track, trackDefinition, trackToCbor } from '../model/track.js';
import { itemBytes, type ReadItem, storedLayer, toItem, trackRoot } from '../queries/read.js';
import type { Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';
import { diffTrees, sameEntry } from '../timeindex/diff.js';
import { editTree, type IndexEdit } from '../timeindex/edit.js';
import type { IndexEntry } from '../timeindex/page.js';
import { inlineSmallIndexes, treePages, withIndex } from '../writes/manifest-build.js';
import { StagedColumns } from '../writes/staged.js';
import type { Uploader } from '../writes/uploader.js';

/** One side of a conflict: the item (or the track, for a track-level conflict) as that version has it. */
export type ConflictSide =
  | Pick<ReadItem, 'tick' | 'duration' | 'address' | 'payload' | 'layer'>
  | { track: Track };

/** Something both sides changed differently (spec 0008 §4). A merge with conflicts publishes nothing. */
export interface MergeConflict {
  readonly timeline: string;
  readonly track?: string;
  /** Item conflicts: the tick both sides changed. */
  readonly tick?: Tick;
  readonly reason: string;
  readonly base?: ConflictSide;
  readonly ours?: ConflictSide;
  readonly theirs?: ConflictSide;
}

/** A merge refused because of conflicts, all of them listed; no ref moved. */
export class MergeConflictError extends EngineError {
  constructor(readonly conflicts: readonly MergeConflict[]) {
    const first = conflicts[0]!;
    const where = `${first.timeline}${first.track ? `/${first.track}` : ''}${first.tick !== undefined ? `@${first.tick}` : ''}`;
    super(
      'E_CONFLICT',
      `merge has ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'} (first: ${where}: ${first.reason}); nothing was published`,
    );
  }
}

/** The content of a merged manifest. */
export interface MergedContent {
  readonly timelines: Timeline[];
  readonly tracks: Track[];
}

const trackKey = (t: Track) => `${t.timeline}\u0000${t.name}`;
const bytesOf = (value: Record<string, unknown>) => encodeCanonical(value);

/** A track's record, encoded once per track object (tracks are immutable; a merge compares each often). */
const encodedTracks = new WeakMap<Track, Uint8Array>();
function trackBytes(t: Track): Uint8Array {
  let bytes = encodedTracks.get(t);
  if (!bytes) {
    bytes = bytesOf(trackToCbor(t));
    encodedTracks.set(t, bytes);
  }
  return bytes;
}

const sameRoot = (a: Track | undefined, b: Track | undefined) =>
  a?.index && b?.index ? equalBytes(a.index.root, b.index.root) : !a?.index && !b?.index;

/** Of two tracks with the same items, the one whose record sorts first: every replica picks the same. */
const canonical = (a: Track, b: Track) => (compareBytes(trackBytes(a), trackBytes(b)) <= 0 ? a : b);

/** Reads what a conflict reports of one side's item. */
async function sideOf(
  session: Session,
  track: Track,
  entry: IndexEntry | undefined,
): Promise<ConflictSide | undefined> {
  if (!entry) return undefined;
  const item = toItem(
    session.store.space,
    track,
    entry,
    await itemBytes(session, await session.store.getRange(entry.object, entry)),
  );
  const { tick, duration, address, payload, layer } = item;
  return {
    tick,
    duration,
    address,
    ...(payload !== undefined && { payload }),
    ...(layer !== undefined && { layer }),
  };
}

/** Whether two entries hold the same item: the same location, or the same duration and bytes. */
async function sameItem(
  session: Session,
  a: IndexEntry | undefined,
  b: IndexEntry | undefined,
): Promise<boolean> {
  if (!a || !b) return a === b;
  if (sameEntry(a, b)) return true;
  if (a.duration !== b.duration || a.end - a.start !== b.end - b.start) return false;
  return equalBytes(await session.store.getRange(a.object, a), await session.store.getRange(b.object, b));
}

/** The entry at exactly `tick` in a track, if any. */
async function entryAt(session: Session, track: Track, tick: Tick): Promise<IndexEntry | undefined> {
  const root = trackRoot(track);
  const entry = root && (await session.pages.floor(root, tick));
  return entry?.tick === tick ? entry : undefined;
}

/**
 * Three-way merge of an event or constant track's items: theirs' changes since the base (diffTrees,
 * shared pages skipped) applied to ours (editTree), each checked against ours at its tick. Reads and
 * writes grow with theirs' change, not with the track.
 */
async function mergeItems(
  session: Session,
  base: Track | undefined,
  ours: Track,
  theirs: Track,
  uploader: Uploader,
  conflicts: MergeConflict[],
  built: Map<Track, (Uint8Array | undefined)[]>,
): Promise<Track> {
  const edits: IndexEdit[] = [];
  const staged = new StagedColumns();
  const removed = new Set<Tick>();
  // The indexes re-read the items theirs added or changed; kinds that stage items see their payloads.
  const indexed = ours.indexes !== undefined;
  const stager = new IndexStager(ours);
  const before = conflicts.length;
  for await (const change of diffTrees(session.pages, base && trackRoot(base), trackRoot(theirs))) {
    const mine = await entryAt(session, ours, change.tick);
    if (await sameItem(session, mine, change.before)) {
      // Only theirs changed this tick: take their side.
    } else if (await sameItem(session, mine, change.after)) {
      continue; // both made the same change
    } else if (ours.kind === 'constant' && mine && change.after) {
      // Corrections: the lexicographically greatest layer wins, then the greatest bytes (0008 §4.3).
      const a = await storedLayer(session, ours, mine);
      const b = await storedLayer(session, theirs, change.after);
      if (a.layer > b.layer || (a.layer === b.layer && compareBytes(a.bytes, b.bytes) >= 0)) continue;
    } else {
      conflicts.push({
        timeline: ours.timeline,
        track: ours.name,
        tick: change.tick,
        reason:
          !mine || !change.after
            ? 'removed on one side and changed on the other'
            : change.before
              ? 'changed differently on both sides'
              : 'added differently on both sides',
        ...(change.before && { base: await sideOf(session, base!, change.before) }),
        ...(mine && { ours: await sideOf(session, ours, mine) }),
        ...(change.after && { theirs: await sideOf(session, theirs, change.after) }),
      });
      continue;
    }
    edits.push(change.after ? { tick: change.tick, entry: change.after } : { tick: change.tick });
    if (!change.after) removed.add(change.tick);
    else if (indexed) {
      const bytes = await itemBytes(session, await session.store.getRange(change.after.object, change.after));
      staged.push(change.tick, change.after.duration, bytes);
      if (stager.active)
        stager.stage(
          staged,
          staged.count - 1,
          toItem(session.store.space, ours, change.after, bytes).payload,
        );
    }
  }
  if (conflicts.length > before || edits.length === 0) return ours;
  const old = trackRoot(ours);
  const tree = await editTree(session.pages, ours.name, old, edits);
  for (const [hex, bytes] of tree?.pages ?? []) await uploader.put(bytes, multihashFromHex(hex));
  const append = removed.size === 0 && (!old || edits[0]!.tick > old.last);
  const indexes =
    indexed && (staged.count > 0 || removed.size > 0)
      ? await updateIndexes({ session, uploader }, ours, { staged, append, removed })
      : ours.indexes;
  const merged: Track = { ...withIndex(ours, tree?.root), ...(indexes && { indexes }) };
  if (tree) built.set(merged, treePages(tree.root, tree.pages, ours.index?.pages));
  return merged;
}

/** Merge one track of three versions (any may lack it); undefined when the merge drops it. */
async function mergeTrack(
  session: Session,
  base: Track | undefined,
  ours: Track | undefined,
  theirs: Track | undefined,
  uploader: Uploader,
  conflicts: MergeConflict[],
  built: Map<Track, (Uint8Array | undefined)[]>,
): Promise<Track | undefined> {
  if (ours && theirs) checkIndexLineage(ours, theirs);
  const same = (a: Track | undefined, b: Track | undefined) =>
    a === b || (a !== undefined && b !== undefined && equalBytes(trackBytes(a), trackBytes(b)));
  if (same(ours, theirs) || same(base, theirs)) return ours;
  if (same(base, ours)) return theirs;
  const any = (ours ?? theirs)!;
  const conflict = (reason: string) => {
    conflicts.push({
      timeline: any.timeline,
      track: any.name,
      reason,
      ...(base && { base: { track: base } }),
      ...(ours && { ours: { track: ours } }),
      ...(theirs && { theirs: { track: theirs } }),
    });
    return ours;
  };
  if (!ours || !theirs) return conflict('track removed on one side and changed on the other');
  if (!equalBytes(trackDefinition(ours), trackDefinition(theirs)))
    return conflict('track definition changed differently on both sides');
  if (sameRoot(ours, theirs)) return canonical(ours, theirs); // the same items; derived segments may differ
  if (ours.kind === 'stream') return conflict('stream track changed on both sides');
  return mergeItems(session, base, ours, theirs, uploader, conflicts, built);
}

/** Merge the timelines: a timeline changed on one side takes that side; changed on both, a conflict. */
function mergeTimelines(
  base: Manifest | undefined,
  ours: Manifest,
  theirs: Manifest,
  conflicts: MergeConflict[],
): Timeline[] {
  const names = new Set([...ours.timelines, ...theirs.timelines].map((t) => t.name));
  const find = (m: Manifest | undefined, name: string) => m?.timelines.find((t) => t.name === name);
  const bytes = (t: Timeline | undefined) => (t ? bytesOf(timelineToCbor(t)) : undefined);
  const same = (a: Timeline | undefined, b: Timeline | undefined) => {
    const x = bytes(a);
    const y = bytes(b);
    return x === y || (x !== undefined && y !== undefined && equalBytes(x, y));
  };
  const out: Timeline[] = [];
  for (const name of [...names].sort()) {
    const [b, o, t] = [find(base, name), find(ours, name), find(theirs, name)];
    const pick = same(o, t) || same(b, t) ? o : same(b, o) ? t : undefined;
    if (pick) out.push(pick);
    else if (o && t) {
      conflicts.push({ timeline: name, reason: 'timeline changed differently on both sides' });
      out.push(o);
    } else if (o ?? t) {
      // Removed on one side while the other changed it: keep it, so no track is orphaned.
      out.push((o ?? t)!);
    }
  }
  return out;
}

/**
 * The three-way merge of two versions' content against their merge base (undefined: unrelated
 * histories, merged as if from nothing). Throws MergeConflictError listing every conflict, or
 * E_LINEAGE when a track's indexes differ; uploads the pages and segments the merged tracks need.
 */
export async function mergeContent(
  session: Session,
  base: Manifest | undefined,
  ours: Manifest,
  theirs: Manifest,
  uploader: Uploader,
): Promise<MergedContent> {
  const conflicts: MergeConflict[] = [];
  const timelines = mergeTimelines(base, ours, theirs, conflicts);
  const index = (m: Manifest | undefined) => new Map((m?.tracks ?? []).map((t) => [trackKey(t), t]));
  const [b, o, t] = [index(base), index(ours), index(theirs)];
  const keys = [...new Set([...o.keys(), ...t.keys()])].sort();
  const tracks: Track[] = [];
  const built = new Map<Track, (Uint8Array | undefined)[]>();
  for (const key of keys) {
    const merged = await mergeTrack(session, b.get(key), o.get(key), t.get(key), uploader, conflicts, built);
    if (merged) tracks.push(merged);
  }
  if (conflicts.length > 0) throw new MergeConflictError(conflicts);
  inlineSmallIndexes(tracks, built);
  return { timelines, tracks };
}
