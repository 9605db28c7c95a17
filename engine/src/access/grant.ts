import { EngineError } from '../errors.js';
import { type Effective, matches, type Right } from './caveats.js';

/** What a request does, as the access check sees it (spec 0018 §4). */
export interface AccessRequest {
  readonly right: Right;
  /** The space it reaches; undefined for origin-wide routes (metrics), which need admin. */
  readonly space?: string;
  /** The tenant owning that space. */
  readonly owner?: string;
  /** The ref it reads or moves: a ref name, or a manifest hash (hex). */
  readonly ref?: string;
  /** The timeline and ticks it reads, when the route says (a windowed token needs it to). */
  readonly timeline?: string;
  readonly from?: bigint;
  readonly to?: bigint;
}

const forbidden = (message: string) => new EngineError('E_FORBIDDEN', message);
const HASH = /^1e20[0-9a-f]{64}$/;

/** Refuse (E_FORBIDDEN, naming what is missing) a request the token's combined caveats do not allow. */
export function checkAccess(token: Effective, request: AccessRequest): void {
  if (!token.rights.includes(request.right))
    throw forbidden(
      `token does not grant ${request.right} (it grants ${token.rights.join(', ') || 'nothing'})`,
    );
  if (request.space === undefined) {
    if (!token.rights.includes('admin')) throw forbidden('origin-wide routes need an admin token');
    return;
  }
  if (request.owner !== token.tenant)
    throw forbidden(`space ${request.space} belongs to another tenant than ${token.tenant}`);
  if (!token.spaces.some((p) => matches(p, request.space!)))
    throw forbidden(
      `token does not grant space ${request.space} (it grants ${token.spaces.join(', ') || 'none'})`,
    );
  if (request.ref !== undefined && !token.refs.includes('*')) {
    // A manifest hash names a version no pattern can place: a ref-limited token reads through refs only.
    if (HASH.test(request.ref)) throw forbidden('this token grants named refs only, not versions by hash');
    const ref = request.ref.startsWith('refs/') ? request.ref.slice(5) : request.ref;
    if (!token.refs.some((p) => matches(p, ref)))
      throw forbidden(`token does not grant ref ${ref} (it grants ${token.refs.join(', ')})`);
  }
  if (token.window === null) throw forbidden('token grants no timeline: its blocks name different timelines');
  if (token.window) {
    const w = token.window;
    const where = `timeline ${w.timeline} ticks ${w.from}-${w.to}`;
    if (request.timeline !== w.timeline) throw forbidden(`token grants only ${where}`);
    if (request.from === undefined || request.to === undefined || request.from < w.from || request.to > w.to)
      throw forbidden(`token grants only ${where}`);
  }
}
