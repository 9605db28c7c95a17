import { EngineError } from '../errors.js';
import type { Track } from '../model/track.js';
import { trackRoot } from '../queries/read.js';
import type { Session } from '../session/session.js';
import { normalizeRef } from '../store/keys.js';
import { isTag } from '../store/space-store.js';
import { MAX_TICK } from '../time/ticks.js';
import { type Published, publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { type ErasureReport, erase } from './erase.js';
import { type DeleteSelector, walkEnd } from './selector.js';
import { openTombstoneList, type Tombstone } from './tombstone-list.js';

/** What the delete verb takes (spec 0020 §2). */
export interface DeleteOptions {
  /** The branch to delete on; tags are refused (they never move). */
  readonly ref: string;
  readonly selectors: readonly DeleteSelector[];
  /** Ask for the bytes to go from history too (spec 0020 §7). */
  readonly erase?: boolean;
  readonly author?: string;
  readonly message?: string;
  /** When another publish moved the ref first, merge this delete onto it (default true). */
  readonly rebase?: boolean;
}

/** What a delete did: the version it published (none when nothing matched) and its tombstones. */
export interface Deleted {
  /** Items deleted (a timeline's or track's items included). */
  readonly deleted: number;
  readonly tombstones: readonly Tombstone[];
  /** Undefined when nothing matched: no version is published for an empty delete. */
  readonly published?: Published;
  /** With `erase`: what erasure did in every version. */
  readonly erasure?: ErasureReport;
}

/** Whether any deleted range of the writer holds an item of the version it was built on. */
async function anyInRanges(session: Session, writer: Writer, tracks: readonly Track[]): Promise<boolean> {
  for (const track of tracks) {
    const root = trackRoot(track);
    if (!root) continue;
    for (const r of writer.deletedRanges(track.timeline, track.name) ?? []) {
      const to = walkEnd(r.to);
      for await (const _ of session.pages.range(root, r.from, to)) return true;
      if (r.to > MAX_TICK && root.last === MAX_TICK) return true;
    }
  }
  return false;
}

/**
 * delete: remove timelines, tracks or a track's items from a branch, published as a new version whose
 * TombstoneList says what went (spec 0020 §2). Earlier versions keep the items until erasure. A race
 * with another publish is merged like any publish: a delete of an item the other side changed is a
 * conflict (MergeConflictError) and nothing moves.
 */
export async function deleteItems(session: Session, options: DeleteOptions): Promise<Deleted> {
  const ref = normalizeRef(options.ref);
  if (isTag(ref))
    throw new EngineError('E_FORBIDDEN', `ref ${ref} is a tag: tags never change; delete on a branch`);
  if (options.selectors.length === 0)
    throw new EngineError('E_BAD_REQUEST', 'delete needs at least one timeline, track or tick range');
  const base = await session.resolve(ref);
  if (!base) throw new EngineError('E_NOT_FOUND', `space ${session.store.space} has no ref ${ref}`);
  const writer = new Writer(base);
  for (const [i, s] of options.selectors.entries()) writer.delete(s, `selectors[${i}]`);
  // A range that holds no item deletes nothing: no version is published for that (an empty answer).
  if (writer.droppedTombstones().length === 0 && !(await anyInRanges(session, writer, base.manifest.tracks)))
    return { deleted: 0, tombstones: [] };
  const published = await publish(session, writer, {
    ref,
    rebase: options.rebase !== false,
    erase: options.erase === true,
    ...(options.author !== undefined && { author: options.author }),
    message: options.message ?? 'delete',
  });
  if (!published.manifest.tombstones) return { deleted: 0, tombstones: [] };
  const list = openTombstoneList(await session.store.getObject(published.manifest.tombstones));
  // Erasure runs once the delete is published: a failure part-way is finished by `erase` run again.
  const erasure = options.erase ? await erase(session, published.hash) : undefined;
  return {
    deleted: list.tombstones.reduce((n, t) => n + t.count, 0),
    tombstones: list.tombstones,
    published,
    ...(erasure && { erasure }),
  };
}
