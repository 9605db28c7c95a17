import { type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import '../indexes/builtin.js';
import { visitIndexObjects } from '../indexes/track-indexes.js';
import { readBucketHeader } from '../queries/read.js';
import type { Session } from '../session/session.js';
import { parseObjectKey, spacePrefix } from '../store/keys.js';
import { listAll } from '../store/object-store.js';
import { decodeRef } from '../store/space-store.js';
import { isLease, LEASE_MAX_MS } from './leases.js';

/** What a collection found and did. */
export interface CollectReport {
  readonly refs: number;
  readonly manifests: number;
  readonly reachable: number;
  readonly scanned: number;
  /** Unreachable objects removed (or, in a dry run, that would be), by multihash hex. */
  readonly deleted: string[];
  readonly bytesFreed: number;
  /** Unreachable objects kept because they are younger than the grace period (a publish may be in flight). */
  readonly keptYoung: number;
}

export interface CollectOptions {
  /** Keep unreachable objects younger than this (default one hour). */
  readonly graceMs?: number;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
  /** The time to measure ages against (default now). */
  readonly now?: number;
}

/**
 * collect: garbage collection of one space. Marks everything reachable from every ref — manifests and
 * their ancestors (time travel keeps history), index pages, buckets and the parts of their items stored
 * as parts (named in each bucket's header), every index's segments and what its kind follows from them —
 * then sweeps the objects nobody reaches that are older than the grace period. An index of a scheme this
 * engine does not know stops the collection (E_UNSUPPORTED) before anything is deleted. A publish uploads its objects before it moves its ref,
 * so the grace period keeps an in-flight publish's new objects; the refs are marked again just before
 * the sweep, so a publish that landed meanwhile keeps the old objects it reuses. LIST is used here.
 */
export async function collect(session: Session, options: CollectOptions = {}): Promise<CollectReport> {
  const space = session.store;
  const store = space.store;
  const now = options.now ?? Date.now();
  const grace = options.graceMs ?? 60 * 60 * 1000;
  const reachable = new Set<string>();
  const marked = await markFromRefs(session, reachable);
  const candidates: { key: string; multihash: string; size: number }[] = [];
  let keptYoung = 0;
  let scanned = 0;
  for await (const info of listAll(store, spacePrefix(space.space, 'objects'))) {
    scanned++;
    const content = parseObjectKey(info.key);
    if (!content || reachable.has(content.multihash)) continue;
    if (!info.modified) {
      throw new EngineError(
        'E_STORE',
        `${store.name} gives no modification time for ${info.key}; collect cannot honour the grace period`,
      );
    }
    if (now - info.modified.getTime() < grace) keptYoung++;
    else candidates.push({ key: info.key, multihash: content.multihash, size: info.size });
  }
  const again = await markFromRefs(session, reachable);
  const deleted: string[] = [];
  let bytesFreed = 0;
  for (const candidate of candidates) {
    if (reachable.has(candidate.multihash)) continue;
    if (!options.dryRun) await store.delete(candidate.key);
    deleted.push(candidate.multihash);
    bytesFreed += candidate.size;
  }
  return {
    refs: Math.max(marked.refs, again.refs),
    manifests: marked.manifests + again.manifests,
    reachable: reachable.size,
    scanned,
    deleted,
    bytesFreed,
    keptYoung,
  };
}

/** Mark everything reachable from the space's refs as they are now, skipping what is already marked. */
async function markFromRefs(
  session: Session,
  reachable: Set<string>,
): Promise<{ refs: number; manifests: number }> {
  const space = session.store;
  // An erased object is reached as what took its place (spec 0020 §7): that is what is kept.
  const erased = await space.erasures(0);
  const live = (hex: string): string => {
    const e = erased.size === 0 ? undefined : erased.get(hex);
    return e ? (e.replacement ? multihashToHex(e.replacement) : '') : hex;
  };
  const pending: Multihash[] = [];
  let refs = 0;
  const prefix = spacePrefix(space.space, 'refs');
  for await (const info of listAll(space.store, prefix)) {
    // A lease older than LEASE_MAX_MS is a crashed writer's: it protects nothing and goes.
    if (
      isLease(info.key.slice(prefix.length)) &&
      info.modified &&
      Date.now() - info.modified.getTime() > LEASE_MAX_MS
    ) {
      await space.store.delete(info.key);
      continue;
    }
    refs++;
    let body: Uint8Array;
    try {
      ({ body } = await space.store.get(info.key));
    } catch (error) {
      // A lease released between the listing and this read.
      if (error instanceof EngineError && error.code === 'E_NOT_FOUND') continue;
      throw error;
    }
    pending.push(decodeRef(body, info.key));
  }
  let manifests = 0;
  while (pending.length > 0) {
    const hash = pending.pop()!;
    const hex = multihashToHex(hash);
    if (reachable.has(hex)) continue;
    reachable.add(hex);
    manifests++;
    const manifest = await session.manifest(hash);
    pending.push(...manifest.parents);
    if (manifest.tombstones) reachable.add(multihashToHex(manifest.tombstones));
    // Pages and buckets share one set: a page already marked (shared with an older manifest) is skipped.
    for (const track of manifest.tracks) {
      if (track.init) reachable.add(multihashToHex(track.init));
      await visitIndexObjects(session, track, (object) => {
        const hex = live(multihashToHex(object));
        if (hex === '' || reachable.has(hex)) return false;
        reachable.add(hex);
        return true;
      });
      if (track.index) {
        const buckets: Multihash[] = [];
        await session.pages.visit(track.index.root, reachable, (e) => {
          const hex = live(multihashToHex(e.object));
          if (hex === '' || reachable.has(hex)) return;
          reachable.add(hex);
          buckets.push(e.object);
        });
        for (const bucket of buckets)
          for (const part of await bucketParts(session, bucket)) {
            const hex = live(multihashToHex(part));
            if (hex !== '') reachable.add(hex);
          }
      }
    }
  }
  return { refs, manifests };
}

/** The part objects a bucket's header names (0014 §4). */
async function bucketParts(session: Session, bucket: Multihash): Promise<readonly Multihash[]> {
  return (await readBucketHeader(session, bucket)).parts ?? [];
}
