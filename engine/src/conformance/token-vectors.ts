import type { Caveats, Effective } from '../access/caveats.js';
import { type AccessRequest, checkAccess } from '../access/grant.js';
import { checkTime, verifyToken } from '../access/token.js';
import { fromHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import type { VectorOutcome } from './vectors.js';

/**
 * spec/vectors/access/tokens.json (spec 0018 §2): tokens of fixed issuer keys, each with the grant its
 * blocks combine to, its revocation ids, and requests it allows or refuses; and invalid tokens with the
 * reason a verifier gives. Ticks and times in JSON are decimal strings and numbers.
 */

/** A caveat block or a combined grant in JSON form (ticks as strings). */
export type CaveatsJson = Omit<Caveats, 'window'> & {
  window?: { timeline: string; from: string; to: string } | null;
};
export type RequestJson = Omit<AccessRequest, 'from' | 'to'> & { from?: string; to?: string };

export interface TokenVectorFile {
  readonly spec: '0018';
  readonly issuers: { readonly id: string; readonly public: string }[];
  /** The verifier's clock (seconds since the Unix epoch) for every vector. */
  readonly now: number;
  readonly valid: {
    readonly name: string;
    readonly token: string;
    readonly blocks: CaveatsJson[];
    readonly effective: CaveatsJson;
    readonly revocation_ids: string[];
    readonly sealed: boolean;
    readonly requests: { readonly request: RequestJson; readonly allowed: boolean }[];
  }[];
  readonly invalid: {
    readonly name: string;
    readonly token: string;
    readonly error: string;
    /** Words the refusal's message contains. */
    readonly reason: string;
  }[];
}

/** Caveats or a grant in the vectors' JSON form. */
export function caveatsJson(c: Caveats | Effective): CaveatsJson {
  const { window, ...rest } = c;
  return {
    ...rest,
    ...(window !== undefined && {
      window: window && { timeline: window.timeline, from: String(window.from), to: String(window.to) },
    }),
  } as CaveatsJson;
}

export function requestFromJson(r: RequestJson): AccessRequest {
  const { from, to, ...rest } = r;
  return {
    ...rest,
    ...(from !== undefined && { from: BigInt(from) }),
    ...(to !== undefined && { to: BigInt(to) }),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Run every token vector with this engine's verifier. */
export function runTokenVectors(file: TokenVectorFile): VectorOutcome[] {
  const trusted = new Map(file.issuers.map((i) => [i.id, fromHex(i.public)]));
  const out: VectorOutcome[] = [];
  for (const v of file.valid) {
    let detail = '';
    try {
      const verified = verifyToken(v.token, trusted);
      checkTime(verified, file.now);
      const { issuer, blocks, revocationIds, sealed, ...effective } = verified;
      if (!same(blocks.map(caveatsJson), v.blocks)) detail = 'blocks differ';
      else if (!same(caveatsJson(effective), v.effective))
        detail = `grant differs: ${JSON.stringify(caveatsJson(effective))}`;
      else if (!same(revocationIds, v.revocation_ids)) detail = 'revocation ids differ';
      else if (sealed !== v.sealed) detail = 'sealed differs';
      for (const { request, allowed } of v.requests) {
        let ok = true;
        try {
          checkAccess(effective, requestFromJson(request));
        } catch (error) {
          if (!(error instanceof EngineError && error.code === 'E_FORBIDDEN')) throw error;
          ok = false;
        }
        if (ok !== allowed) detail ||= `${JSON.stringify(request)}: ${ok ? 'allowed' : 'refused'}`;
      }
    } catch (error) {
      detail = (error as Error).message;
    }
    out.push({ name: v.name, ok: detail === '', detail });
  }
  for (const v of file.invalid) {
    let detail = 'verified';
    try {
      checkTime(verifyToken(v.token, trusted), file.now);
    } catch (error) {
      const e = error as EngineError;
      detail = e.code === v.error && e.message.includes(v.reason) ? '' : `${e.code}: ${e.message}`;
    }
    out.push({ name: v.name, ok: detail === '', detail });
  }
  return out;
}
