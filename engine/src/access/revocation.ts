import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { assertName } from '../model/names.js';
import { updateByCas } from '../store/cas-update.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * A tenant's revoked token ids (spec 0018 §2.6): one object per tenant at `tenants/<tenant>/revoked`,
 * deterministic CBOR {v: 1, tenant, ids: [hex, sorted]}, replaced by compare-and-swap. Origins poll it.
 */

export const revocationKey = (tenant: string) => `tenants/${assertName(tenant, 'tenant')}/revoked`;
const ID = /^[0-9a-f]{32}$/;

/** The revoked ids of a tenant and the ETag of the object they came from (undefined: none yet). */
export interface Revocations {
  readonly ids: ReadonlySet<string>;
  readonly etag?: string;
}

/** Decode a RevocationList, refusing anything but the exact form. */
export function decodeRevocations(bytes: Uint8Array, tenant: string): Set<string> {
  const value = decodeCanonical(bytes) as Record<string, unknown>;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.v !== 1 ||
    value.tenant !== tenant ||
    !Array.isArray(value.ids)
  )
    throw new EngineError('E_FIELD', `${revocationKey(tenant)}: not a RevocationList {v: 1, tenant, ids}`);
  for (const id of value.ids)
    if (typeof id !== 'string' || !ID.test(id))
      throw new EngineError(
        'E_FIELD',
        `${revocationKey(tenant)}: ids: ${JSON.stringify(id)} is not a revocation id`,
      );
  return new Set(value.ids as string[]);
}

export const encodeRevocations = (tenant: string, ids: Iterable<string>): Uint8Array =>
  encodeCanonical({ v: 1, tenant, ids: [...new Set(ids)].sort() });

/** The tenant's revoked ids as stored now. */
export async function readRevocations(store: ObjectStore, tenant: string): Promise<Revocations> {
  try {
    const { body, etag } = await store.get(revocationKey(tenant));
    return { ids: decodeRevocations(body, tenant), etag };
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND') return { ids: new Set() };
    throw error;
  }
}

/** Add ids to the tenant's list (compare-and-swap, retried when another writer moved it first). */
export async function revoke(store: ObjectStore, tenant: string, ids: readonly string[]): Promise<number> {
  for (const id of ids)
    if (!ID.test(id))
      throw new EngineError('E_FIELD', `${JSON.stringify(id)} is not a revocation id (32 hex digits)`);
  let size = 0;
  await updateByCas(store, revocationKey(tenant), (body) => {
    const next = new Set([...(body ? decodeRevocations(body, tenant) : []), ...ids]);
    size = next.size;
    return encodeRevocations(tenant, next);
  });
  return size;
}
