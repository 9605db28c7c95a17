import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Resolved, Session } from '../session/session.js';
import { refKey } from '../store/keys.js';
import { memoAncestry } from './dag.js';

/**
 * Leases (spec 0006 §2.8): a writer names the version it builds on in a ref under `leases/` for as long
 * as its publish is in flight, so `collect` marks that version's objects even if every other ref moves
 * off it meanwhile. A lease older than LEASE_MAX_MS is a crashed writer's: collect ignores and removes it.
 */

export const LEASE_PREFIX = 'leases/';
/** A lease is honoured this long (a writer that runs longer renews it by taking another). */
export const LEASE_MAX_MS = 24 * 60 * 60 * 1000;

/** Whether a ref is a lease (not a branch or a tag: listings leave them out). */
export const isLease = (ref: string): boolean => ref.startsWith(LEASE_PREFIX);

/** Leases this process holds, by space/manifest hex: how many. */
const held = new Map<string, number>();

/** A taken lease: `release` removes it (safe to call more than once). */
export interface Lease {
  readonly ref: string;
  release(): Promise<void>;
}

/**
 * Take a lease on `base` before building on it. When `base` came from a ref, that ref is read again once
 * the lease is stored: it must still reach `base`, or a collect that marked before the lease could have
 * swept base's objects, and the write is refused (E_CONFLICT) before anything is published.
 */
export async function takeLease(session: Session, base: Resolved): Promise<Lease> {
  const key = `${session.store.space}/${multihashToHex(base.hash)}`;
  // A base this process holds a lease on already was protected before this one: no need to look again.
  const covered = (held.get(key) ?? 0) > 0;
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const ref = `${LEASE_PREFIX}${id}`;
  await session.store.casRef(ref, base.hash, undefined);
  held.set(key, (held.get(key) ?? 0) + 1);
  let released = false;
  const lease: Lease = {
    ref,
    async release() {
      if (released) return;
      released = true;
      const n = (held.get(key) ?? 1) - 1;
      if (n > 0) held.set(key, n);
      else held.delete(key);
      // Only this writer holds this lease, so it is deleted without reading it first.
      await session.store.store.delete(refKey(session.store.space, ref));
    },
  };
  if (base.ref && !covered) {
    const now = await session.store.readRef(base.ref.name);
    const reached =
      now !== undefined &&
      (multihashToHex(now.manifest) === multihashToHex(base.hash) ||
        (await memoAncestry(session)(now.manifest)).has(multihashToHex(base.hash)));
    if (!reached) {
      await lease.release();
      throw new EngineError(
        'E_CONFLICT',
        `ref ${base.ref.name} no longer reaches ${multihashToHex(base.hash)}, the version this write builds on; write again on the ref as it is`,
      );
    }
  }
  return lease;
}

/** Run `fn` holding a lease on `base` (none when there is no base). */
export async function withLease<T>(
  session: Session,
  base: Resolved | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!base) return fn();
  const lease = await takeLease(session, base);
  try {
    return await fn();
  } finally {
    await lease.release();
  }
}
