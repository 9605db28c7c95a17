import { EngineError, quote } from '../errors.js';
import { isName } from '../model/names.js';

/**
 * The caveats of a capability token's block (spec 0018 §2.3) and what a chain of them allows together.
 * Every block can only narrow: a request is allowed when every block allows it.
 */

/** What a token can grant. */
export const RIGHTS = ['read', 'write', 'merge', 'ingest', 'admin'] as const;
export type Right = (typeof RIGHTS)[number];

/** One stretch [from, to) of one timeline, in ticks. */
export interface Window {
  readonly timeline: string;
  readonly from: bigint;
  readonly to: bigint;
}

/** The caveats of one block: the first (authority) block names the tenant and must bound the rest. */
export interface Caveats {
  /** The tenant whose spaces the token reaches (first block only). */
  readonly tenant?: string;
  readonly rights?: readonly Right[];
  /** Space patterns: a name, a prefix ending in `*`, or `*`. */
  readonly spaces?: readonly string[];
  /** Ref patterns: a ref name (main, heads/team-a), a prefix ending in `*`, or `*`. */
  readonly refs?: readonly string[];
  /** Seconds since the Unix epoch. */
  readonly nbf?: number;
  readonly exp?: number;
  readonly window?: Window;
  /** Free text for people (who, why): not a caveat. */
  readonly note?: string;
}

const KEYS = new Set(['tenant', 'rights', 'spaces', 'refs', 'nbf', 'exp', 'window', 'note']);
const PATTERN = /^(\*|[a-z0-9][a-z0-9._\-/]{0,254}\*?)$/;
const MAX_PATTERNS = 64;
const MAX_U64 = (1n << 64n) - 1n;

const bad = (message: string) => new EngineError('E_UNAUTHORIZED', `malformed token: ${message}`);

/** Whether `name` matches `pattern`: `*` any, `prefix*` any name starting with prefix, else equal. */
export function matches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** The pattern matching exactly the names both match, if any (two prefixes meet in the longer one). */
function meet(x: string, y: string): string | undefined {
  if (x === '*') return y;
  if (y === '*') return x;
  const xPrefix = x.endsWith('*');
  const yPrefix = y.endsWith('*');
  if (!xPrefix && !yPrefix) return x === y ? x : undefined;
  if (xPrefix && !yPrefix) return matches(x, y) ? y : undefined;
  if (!xPrefix && yPrefix) return matches(y, x) ? x : undefined;
  return matches(x, y.slice(0, -1)) ? y : matches(y, x.slice(0, -1)) ? x : undefined;
}

/** The patterns matching exactly the names both lists match. */
export function intersectPatterns(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a)
    for (const y of b) {
      const m = meet(x, y);
      if (m !== undefined) out.add(m);
    }
  return [...out].sort();
}

function patterns(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PATTERNS)
    throw bad(`${field} must be a list of 1-${MAX_PATTERNS} patterns`);
  for (const p of value)
    if (typeof p !== 'string' || !PATTERN.test(p) || p.includes('..'))
      throw bad(`${field}: ${quote(p)} is not a name, a prefix ending in *, or *`);
  return value as string[];
}

function seconds(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw bad(`${field} must be seconds since the Unix epoch (an unsigned integer)`);
  return value;
}

function tick(value: unknown, field: string): bigint {
  const t = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof t !== 'bigint' || t < 0n || t > MAX_U64) throw bad(`${field} must be a tick (u64)`);
  return t;
}

/** Caveats read from a block's decoded payload; unknown keys are refused, so a caveat is never ignored. */
export function readCaveats(value: unknown, first: boolean): Caveats {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    throw bad('a block payload must be a map');
  const map = value as Record<string, unknown>;
  for (const key of Object.keys(map))
    if (!KEYS.has(key))
      throw bad(`unknown caveat ${quote(key)} (a verifier must refuse what it cannot check)`);
  const out: { -readonly [K in keyof Caveats]: Caveats[K] } = {};
  if (map.tenant !== undefined) {
    if (!first) throw bad('only the first block names the tenant');
    if (!isName(map.tenant)) throw bad(`tenant ${quote(map.tenant)} is not a name`);
    out.tenant = map.tenant;
  } else if (first) throw bad('the first block must name the tenant');
  if (map.rights !== undefined) {
    if (!Array.isArray(map.rights) || map.rights.length > RIGHTS.length)
      throw bad(`rights must be a list of ${RIGHTS.join(', ')}`);
    for (const r of map.rights)
      if (!RIGHTS.includes(r as Right)) throw bad(`rights: ${quote(r)} is not one of ${RIGHTS.join(', ')}`);
    out.rights = map.rights as Right[];
  } else if (first) throw bad('the first block must list its rights');
  if (map.spaces !== undefined) out.spaces = patterns(map.spaces, 'spaces');
  else if (first) throw bad('the first block must list its spaces');
  if (map.refs !== undefined) out.refs = patterns(map.refs, 'refs');
  if (map.nbf !== undefined) out.nbf = seconds(map.nbf, 'nbf');
  if (map.exp !== undefined) out.exp = seconds(map.exp, 'exp');
  else if (first) throw bad('the first block must say when it expires (exp)');
  if (map.window !== undefined) {
    const w = map.window as Record<string, unknown>;
    if (
      w === null ||
      typeof w !== 'object' ||
      Object.keys(w).some((k) => !['timeline', 'from', 'to'].includes(k))
    )
      throw bad('window must be a map of timeline, from, to');
    if (!isName(w.timeline)) throw bad(`window.timeline ${quote(w.timeline)} is not a name`);
    const from = tick(w.from, 'window.from');
    const to = tick(w.to, 'window.to');
    if (to <= from) throw bad('window.to must be after window.from');
    out.window = { timeline: w.timeline, from, to };
  }
  if (map.note !== undefined) {
    if (typeof map.note !== 'string' || map.note.length > 256)
      throw bad('note must be text of at most 256 characters');
    out.note = map.note;
  }
  if (!first && Object.keys(out).filter((k) => k !== 'note').length === 0)
    throw bad('an attenuation block must add at least one caveat');
  return out;
}

/** Caveats as the CBOR map a block signs (deterministic encoding sorts the keys). */
export function caveatsToCbor(caveats: Caveats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (caveats.tenant !== undefined) out.tenant = caveats.tenant;
  if (caveats.rights !== undefined)
    out.rights = [...caveats.rights].sort((a, b) => RIGHTS.indexOf(a) - RIGHTS.indexOf(b));
  if (caveats.spaces !== undefined) out.spaces = [...caveats.spaces];
  if (caveats.refs !== undefined) out.refs = [...caveats.refs];
  if (caveats.nbf !== undefined) out.nbf = caveats.nbf;
  if (caveats.exp !== undefined) out.exp = caveats.exp;
  if (caveats.window !== undefined)
    out.window = { timeline: caveats.window.timeline, from: caveats.window.from, to: caveats.window.to };
  if (caveats.note !== undefined) out.note = caveats.note;
  return out;
}

/** What a chain of blocks allows together: rights and patterns intersected, the tightest times and window. */
export interface Effective {
  readonly tenant: string;
  readonly rights: readonly Right[];
  readonly spaces: readonly string[];
  readonly refs: readonly string[];
  readonly nbf?: number;
  readonly exp: number;
  /** undefined: the whole of every timeline; `null`: blocks name different timelines, so nothing. */
  readonly window?: Window | null;
}

// Ticks are bigints, which Math.max and Math.min do not take.
const later = (a: bigint, b: bigint) => (a > b ? a : b);
const earlier = (a: bigint, b: bigint) => (a < b ? a : b);

/** Fold the blocks' caveats, first block first. */
export function combine(blocks: readonly Caveats[]): Effective {
  const first = blocks[0]!;
  let rights = [...first.rights!];
  let spaces = [...first.spaces!];
  let refs = [...(first.refs ?? ['*'])];
  let nbf = first.nbf;
  let exp = first.exp!;
  let window: Window | null | undefined = first.window;
  for (const b of blocks.slice(1)) {
    if (b.rights) rights = rights.filter((r) => b.rights!.includes(r));
    if (b.spaces) spaces = intersectPatterns(spaces, b.spaces);
    if (b.refs) refs = intersectPatterns(refs, b.refs);
    if (b.nbf !== undefined) nbf = nbf === undefined ? b.nbf : Math.max(nbf, b.nbf);
    if (b.exp !== undefined) exp = Math.min(exp, b.exp);
    if (b.window) {
      if (window === undefined) window = b.window;
      else if (window !== null)
        window =
          window.timeline === b.window.timeline
            ? {
                timeline: window.timeline,
                from: later(window.from, b.window.from),
                to: earlier(window.to, b.window.to),
              }
            : null;
    }
  }
  return {
    tenant: first.tenant!,
    rights,
    spaces,
    refs,
    ...(nbf !== undefined && { nbf }),
    exp,
    ...(window !== undefined && { window }),
  };
}
