import { EngineError } from '@dreamdb/engine';
import {
  checkTime,
  DEFAULT_TENANT,
  ownerOf,
  readRevocations,
  type VerifiedToken,
  verifyToken,
} from '@dreamdb/engine/access';
import type { ObjectStore } from '@dreamdb/engine/store';

/** How stale an origin's view of revocations and space owners may be, in ms (spec 0018 §2.6). */
export const ACCESS_STALENESS_MS = 10_000;
/** Verified tokens kept (signature checks are ~1-2 ms each; a player sends the same token per segment). */
const VERIFIED_MAX = 10_000;

interface Timed<T> {
  pending: Promise<T>;
  /** The value once read: a fresh hit is answered without a promise (this runs on every request). */
  value?: T;
  at: number;
}

/** A value now, or one to wait for. */
export type Maybe<T> = T | Promise<T>;

/**
 * What an origin knows to check tokens: the issuer keys it trusts, verified tokens (by their text), and
 * each tenant's revocations and each space's owner as read from the store at most ACCESS_STALENESS_MS ago.
 * No database: every origin reading the same store reaches the same answers within that bound.
 */
export class AccessControl {
  readonly #verified = new Map<string, VerifiedToken>();
  readonly #revoked = new Map<string, Timed<ReadonlySet<string>>>();
  readonly #owners = new Map<string, Timed<string>>();

  constructor(
    readonly store: ObjectStore,
    /** Trusted issuer public keys by key id. */
    readonly issuers: ReadonlyMap<string, Uint8Array>,
    readonly stalenessMs = ACCESS_STALENESS_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token checked: signatures (cached), validity times, revocation. Failures are E_UNAUTHORIZED. */
  authenticate(text: string): Maybe<VerifiedToken> {
    let token = this.#verified.get(text);
    if (!token) {
      token = verifyToken(text, this.issuers);
      if (this.#verified.size >= VERIFIED_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(text, token);
    }
    checkTime(token, this.now() / 1000);
    const revoked = this.revoked(token.tenant);
    const verified = token;
    return revoked instanceof Promise
      ? revoked.then((ids) => notRevoked(verified, ids))
      : notRevoked(verified, revoked);
  }

  /** The tenant owning a space (DEFAULT_TENANT when none claimed it). */
  owner(space: string): Maybe<string> {
    return this.#fresh(this.#owners, space, async () => (await ownerOf(this.store, space)) ?? DEFAULT_TENANT);
  }

  /** A tenant's revoked ids. */
  revoked(tenant: string): Maybe<ReadonlySet<string>> {
    return this.#fresh(this.#revoked, tenant, async () => (await readRevocations(this.store, tenant)).ids);
  }

  /** A value read at most stalenessMs ago; a failed read is not kept, so the next request tries again. */
  #fresh<T>(cache: Map<string, Timed<T>>, key: string, read: () => Promise<T>): Maybe<T> {
    const now = this.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < this.stalenessMs) return 'value' in hit ? (hit.value as T) : hit.pending;
    const pending = read();
    const entry: Timed<T> = { pending, at: now };
    // A bounded map: an attacker naming many spaces evicts old entries rather than growing it.
    if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
    pending.then(
      (value) => {
        entry.value = value;
      },
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return pending;
  }
}

function notRevoked(token: VerifiedToken, revoked: ReadonlySet<string>): VerifiedToken {
  if (revoked.size > 0 && token.revocationIds.some((id) => revoked.has(id)))
    throw new EngineError('E_UNAUTHORIZED', 'token revoked');
  return token;
}
