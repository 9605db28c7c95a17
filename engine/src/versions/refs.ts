import { type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Session } from '../session/session.js';
import { spacePrefix } from '../store/keys.js';
import { listAll } from '../store/object-store.js';
import { decodeRef, isTag, type RefState } from '../store/space-store.js';
import { isAncestor, refName, resolveVersion } from './dag.js';
import { isLease } from './leases.js';

/** A ref of a space and the manifest it points at. */
export interface RefInfo {
  readonly name: string;
  readonly manifest: Multihash;
  /** main, a branch (heads/...), a tag (tags/...), or any other ref. */
  readonly kind: 'main' | 'branch' | 'tag' | 'other';
}

const kindOf = (name: string): RefInfo['kind'] =>
  name === 'main' ? 'main' : name.startsWith('heads/') ? 'branch' : isTag(name) ? 'tag' : 'other';

/** A branch's ref: `team-a` is heads/team-a; main, heads/... and refs/heads/... stay as they are. */
export function branchRef(name: string): string {
  const ref = refName(name);
  return ref === 'main' || ref.startsWith('heads/') ? ref : refName(`heads/${ref}`);
}

/** A tag's ref: `v1` is tags/v1. */
export function tagRef(name: string): string {
  const ref = refName(name);
  return isTag(ref) ? ref : refName(`tags/${ref}`);
}

/** Every ref of the space, by name. */
export async function listRefs(session: Session): Promise<RefInfo[]> {
  const prefix = spacePrefix(session.store.space, 'refs');
  const out: RefInfo[] = [];
  for await (const info of listAll(session.store.store, prefix)) {
    const name = info.key.slice(prefix.length);
    if (isLease(name)) continue; // a writer's, for as long as its publish is in flight
    const { body } = await session.store.store.get(info.key);
    out.push({ name, manifest: decodeRef(body, name), kind: kindOf(name) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Create a ref (a branch or a tag) at a version; create-only (If-None-Match: *), so two creators never
 * overwrite each other: the second is refused with E_CONFLICT.
 */
export async function createRef(session: Session, ref: string, at: string | Multihash): Promise<RefState> {
  const target = await resolveVersion(session, at);
  return session.store.casRef(refName(ref), target.hash, undefined);
}

/**
 * Delete a branch. One whose manifest main does not contain is refused unless `force`: its history would
 * become garbage for `collect`. main and tags are never deleted.
 */
export async function deleteBranch(
  session: Session,
  ref: string,
  options: { force?: boolean } = {},
): Promise<void> {
  const name = isTag(refName(ref)) ? refName(ref) : branchRef(ref);
  if (name === 'main') throw new EngineError('E_FORBIDDEN', 'main cannot be deleted');
  const current = await resolveVersion(session, name);
  if (!options.force) {
    const main = await session.resolve('main');
    if (!main || !(await isAncestor(session, current.hash, main.hash))) {
      throw new EngineError(
        'E_PRECONDITION',
        `branch ${name} (${multihashToHex(current.hash)}) is not merged into main; merge it first, or force the delete`,
      );
    }
  }
  await session.store.deleteRef(name, current.hash);
}
