import { MULTIHASH_HEX, type Multihash, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { EngineError, quote } from '../errors.js';
import type { Manifest } from '../model/manifest.js';
import type { Resolved, Session } from '../session/session.js';
import { normalizeRef } from '../store/keys.js';

/** Ref names may be written as git writes them (refs/heads/team-a); the store keeps them without "refs/". */
export const refName = normalizeRef;

/**
 * A version by name: a manifest hash (1e20 + 64 hex digits) or a ref (main, heads/team-a,
 * refs/tags/v1). E_NOT_FOUND when the ref does not exist.
 */
export async function resolveVersion(session: Session, version: string | Multihash): Promise<Resolved> {
  if (typeof version !== 'string' || MULTIHASH_HEX.test(version)) {
    const hash = typeof version === 'string' ? multihashFromHex(version) : version;
    return { hash, manifest: await session.manifest(hash) };
  }
  const ref = refName(version);
  const resolved = await session.resolve(ref);
  if (!resolved) {
    throw new EngineError('E_NOT_FOUND', `space ${session.store.space} has no ref ${quote(ref)}`);
  }
  return resolved;
}

/**
 * Every manifest reachable from `heads` through parents, heads included, by hex; `until` stops the walk
 * as soon as it returns true for a manifest reached.
 */
export async function ancestry(
  session: Session,
  heads: readonly Multihash[],
  options: {
    read?: (hash: Multihash, hex: string) => Promise<Manifest>;
    until?: (hex: string) => boolean;
  } = {},
): Promise<Map<string, Manifest>> {
  const read = options.read ?? ((hash: Multihash) => session.manifest(hash));
  const seen = new Map<string, Manifest>();
  const pending = [...heads];
  while (pending.length > 0) {
    const hash = pending.pop()!;
    const hex = multihashToHex(hash);
    if (seen.has(hex)) continue;
    const manifest = await read(hash, hex);
    seen.set(hex, manifest);
    if (options.until?.(hex)) break;
    pending.push(...manifest.parents);
  }
  return seen;
}

/** The ancestry of a manifest (itself included), by hex: what mergeBases and merge ask for. */
export type AncestryOf = (hash: Multihash) => Promise<ReadonlyMap<string, Manifest>>;

/**
 * An AncestryOf that walks each manifest's history once: a merge asks about the same versions several
 * times (contained? fast-forward? bases?), and each walk reads the whole history behind a version.
 */
export function memoAncestry(session: Session): AncestryOf {
  const walked = new Map<string, Promise<Map<string, Manifest>>>();
  // Manifests read by any walk: the histories of the versions asked about mostly overlap.
  const read = new Map<string, Manifest>();
  const reader = async (hash: Multihash, hex: string) => {
    let manifest = read.get(hex);
    if (!manifest) {
      manifest = await session.manifest(hash);
      read.set(hex, manifest);
    }
    return manifest;
  };
  return (hash) => {
    const hex = multihashToHex(hash);
    let walk = walked.get(hex);
    if (!walk) {
      walk = ancestry(session, [hash], { read: reader });
      walked.set(hex, walk);
    }
    return walk;
  };
}

/** Whether `ancestor` is `descendant` or reachable from it through parents (the walk stops there). */
export async function isAncestor(
  session: Session,
  ancestor: Multihash,
  descendant: Multihash,
): Promise<boolean> {
  const target = multihashToHex(ancestor);
  return (await ancestry(session, [descendant], { until: (hex) => hex === target })).has(target);
}

/**
 * The best common ancestors of two manifests (spec 0008 §3): common ancestors that are not ancestors of
 * another common ancestor. One in a fork or a diamond, two or more after a criss-cross, none for
 * unrelated histories. Sorted by hex, so every replica finds them in the same order.
 */
export async function mergeBases(
  session: Session,
  a: Multihash,
  b: Multihash,
  ancestryOf: AncestryOf = memoAncestry(session),
): Promise<Multihash[]> {
  const ofA = await ancestryOf(a);
  const ofB = await ancestryOf(b);
  const common = [...ofA.keys()].filter((hex) => ofB.has(hex));
  // Ancestors of a common ancestor are common too: everything reachable from the parents of one is not best.
  const dominated = new Set<string>();
  const pending = common.flatMap((hex) => ofA.get(hex)!.parents.map(multihashToHex));
  while (pending.length > 0) {
    const hex = pending.pop()!;
    if (dominated.has(hex)) continue;
    dominated.add(hex);
    pending.push(...ofA.get(hex)!.parents.map(multihashToHex));
  }
  return common
    .filter((hex) => !dominated.has(hex))
    .sort()
    .map(multihashFromHex);
}

/** One manifest of a log. */
export interface LogEntry {
  readonly hash: Multihash;
  readonly manifest: Manifest;
}

/**
 * The history behind `heads`, newest first: each manifest once, ordered by its display timestamp, ties by
 * hash. Publish keeps timestamps above the parents' (§5), so a manifest comes before its parents.
 */
export async function* log(
  session: Session,
  heads: readonly Multihash[],
  options: { limit?: number } = {},
): AsyncGenerator<LogEntry> {
  // The frontier holds the manifests queued and not yet shown: as wide as the DAG, not as long.
  const frontier = new Map<string, LogEntry>();
  const queued = new Set<string>();
  const enqueue = async (hash: Multihash) => {
    const hex = multihashToHex(hash);
    if (queued.has(hex)) return;
    queued.add(hex);
    frontier.set(hex, { hash, manifest: await session.manifest(hash) });
  };
  for (const head of heads) await enqueue(head);
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0 && frontier.size > 0) {
    let best: [string, LogEntry] | undefined;
    for (const candidate of frontier) {
      const [hex, { manifest }] = candidate;
      if (
        !best ||
        manifest.created > best[1].manifest.created ||
        (manifest.created === best[1].manifest.created && hex > best[0])
      ) {
        best = candidate;
      }
    }
    frontier.delete(best![0]);
    left--;
    yield best![1];
    for (const parent of best![1].manifest.parents) await enqueue(parent);
  }
}
