import type { AccessDoc, RightDoc } from '@dreamdb/engine/api';

/**
 * What a token allows, as the UI asks it (spec 0018): the player hides what the token does not allow
 * instead of offering controls the origin will refuse. The origin decides; this only keeps the page honest.
 */

/** Every right, in the order the badge lists them. */
export const RIGHTS: readonly RightDoc[] = ['read', 'write', 'merge', 'ingest', 'admin'];

/** What an origin without tokens allows (open mode, or an older origin with no /v0/access route). */
export const OPEN_ACCESS: AccessDoc = { mode: 'open', rights: [...RIGHTS], spaces: ['*'], refs: ['*'] };

/**
 * An answer of /v0/access as the player uses it: one that is not an access document at all (an older or
 * foreign server answering 200 with something else) counts as open, as an absent route does.
 */
export function normalizeAccess(body: unknown): AccessDoc {
  const doc = body as Partial<AccessDoc> | null;
  if (!doc || (doc.mode !== 'open' && doc.mode !== 'token')) return OPEN_ACCESS;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
  return {
    ...doc,
    mode: doc.mode,
    rights: list(doc.rights).filter((r): r is RightDoc => (RIGHTS as string[]).includes(r)),
    spaces: list(doc.spaces),
    refs: list(doc.refs),
  };
}

/** Whether a name matches a pattern: the name itself, a prefix ending in `*`, or `*` for any. */
export function matches(pattern: string, name: string): boolean {
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * Whether the token grants `right` on `ref` (and `space`, when given). A ref or space left out is not
 * checked: "may this token write at all?".
 */
export function allows(access: AccessDoc, right: RightDoc, ref?: string, space?: string): boolean {
  if (!access.rights.includes(right)) return false;
  if (ref !== undefined && !access.refs.some((p) => matches(p, ref))) return false;
  if (space !== undefined && !access.spaces.some((p) => matches(p, space))) return false;
  return true;
}

/** Whether a pattern can match some name that begins with `prefix` (and has more after it). */
function reachesUnder(pattern: string, prefix: string): boolean {
  if (!pattern.endsWith('*')) return pattern.startsWith(prefix) && pattern.length > prefix.length;
  const stem = pattern.slice(0, -1);
  return stem.startsWith(prefix) || prefix.startsWith(stem);
}

/** Where annotations are saved: each user's branch (see the annotation controller). */
export const BRANCH_PREFIX = 'heads/';

/** Whether the token lets the player write some user's branch (else annotating is hidden). */
export const mayWriteBranch = (access: AccessDoc, space?: string): boolean =>
  allows(access, 'write', undefined, space) && access.refs.some((p) => reachesUnder(p, BRANCH_PREFIX));

/**
 * The one branch a token allows, when its ref patterns name exactly one branch and no wildcard reaches
 * any other (a link made for one person's annotations): the user name is then fixed to it.
 */
export function soleBranch(access: AccessDoc): string | undefined {
  const reaching = access.refs.filter((p) => reachesUnder(p, BRANCH_PREFIX));
  const [only] = reaching;
  return reaching.length === 1 && only && !only.endsWith('*') ? only.slice(BRANCH_PREFIX.length) : undefined;
}

/** The stretch of a timeline a token grants, as ticks: [from, to). */
export interface TickWindow {
  readonly from: bigint;
  readonly to: bigint;
}

/** The token's window on `timeline`; undefined when it has none or names another timeline. */
export function windowOn(access: AccessDoc, timeline: string): TickWindow | undefined {
  const w = access.window;
  if (!w || w.timeline !== timeline || !/^[0-9]+$/.test(w.from) || !/^[0-9]+$/.test(w.to)) return undefined;
  const from = BigInt(w.from);
  const to = BigInt(w.to);
  return to > from ? { from, to } : undefined;
}

/** A tick moved into a window (the last nanosecond before `to` at most: the window is half-open). */
export function clampTick(tick: bigint, window: TickWindow | undefined): bigint {
  if (!window) return tick;
  if (tick < window.from) return window.from;
  return tick >= window.to ? window.to - 1n : tick;
}
