import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError, quote } from '../errors.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { assertName, isName } from '../model/names.js';
import type { ObjectStore } from '../store/object-store.js';

/**
 * Tenants (spec 0018 §5): a tenant owns spaces and has quotas. Two kinds of objects, outside spaces/:
 *   access/spaces/<space>      the owning tenant's name (UTF-8), written create-only: a space is claimed once
 *   tenants/<tenant>/tenant    the TenantRecord, deterministic CBOR, replaced by compare-and-swap
 */

/** Limits of a tenant or of one of its spaces; an absent field is unlimited. */
export interface Quotas {
  /** Bytes of content objects stored. */
  readonly bytes?: number;
  /** Content objects stored. */
  readonly objects?: number;
  /** Sustained requests per second; bursts of twice as many are let through. */
  readonly requestsPerSecond?: number;
  /** Ingests running at once. */
  readonly ingests?: number;
}

export const QUOTA_FIELDS = ['bytes', 'objects', 'requestsPerSecond', 'ingests'] as const;

/** A tenant's record: its quotas, and the quotas of each space it owns (`{}` for none). */
export interface TenantRecord {
  readonly v: 1;
  readonly tenant: string;
  readonly quotas: Quotas;
  readonly spaces: Readonly<Record<string, Quotas>>;
}

/** A TenantRecord as read, with the ETag to compare-and-swap against. */
export interface StoredTenant {
  readonly record: TenantRecord;
  readonly etag: string;
}

/** Spaces one TenantRecord may list (keeps the record, read on every cache miss, small). */
export const MAX_TENANT_SPACES = 10_000;

/** The tenant of every space no tenant claimed (spec 0018 §3): one lab never needs to name tenants. */
export const DEFAULT_TENANT = 'default';

export const tenantKey = (tenant: string) => `tenants/${assertName(tenant, 'tenant')}/tenant`;
export const spaceOwnerKey = (space: string) => `access/spaces/${assertName(space, 'space')}`;

/**
 * An unsigned integer field. Accepts bigint too: deterministic CBOR writes values of 2^32 and over in
 * 8 bytes, which decode as bigint; anything past 2^53 is refused rather than rounded.
 */
export function readCount(value: unknown, path: string, signed = false): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || (!signed && n < 0)) {
    fieldError(path, `expected ${signed ? 'an integer' : 'an unsigned integer'}, got ${quote(value)}`);
  }
  return n;
}

/** Read and validate Quotas from a decoded CBOR map. */
export function quotasFromCbor(value: unknown, path: string): Quotas {
  const r = new FieldReader(value, path, QUOTA_FIELDS);
  const out: Record<string, number> = {};
  for (const field of QUOTA_FIELDS) if (r.has(field)) out[field] = readCount(r.raw(field), r.at(field));
  return out;
}

/** Read and validate a TenantRecord from its decoded CBOR map. */
export function tenantFromCbor(value: unknown, path = 'TenantRecord'): TenantRecord {
  const r = new FieldReader(value, path, ['v', 'tenant', 'quotas', 'spaces']);
  if (r.raw('v') !== 1) fieldError(r.at('v'), `expected version 1, got ${quote(r.raw('v'))}`);
  const tenant = r.name('tenant');
  const quotas = quotasFromCbor(r.raw('quotas'), r.at('quotas'));
  const rawSpaces = r.map('spaces');
  const names = Object.keys(rawSpaces);
  if (names.length > MAX_TENANT_SPACES)
    fieldError(r.at('spaces'), `${names.length} spaces, more than the ${MAX_TENANT_SPACES} a record holds`);
  const spaces: Record<string, Quotas> = {};
  for (const space of names) {
    if (!isName(space)) fieldError(`${r.at('spaces')}.${space}`, `${quote(space)} is not a space name`);
    spaces[space] = quotasFromCbor(rawSpaces[space], `${r.at('spaces')}.${space}`);
  }
  return { v: 1, tenant, quotas, spaces };
}

/** Deterministic CBOR bytes of a TenantRecord, checked by the same rules its decoder applies. */
export function encodeTenant(record: TenantRecord): Uint8Array {
  const map = { v: 1, tenant: record.tenant, quotas: record.quotas, spaces: record.spaces };
  const checked = tenantFromCbor(map); // the encoder refuses what the decoder would refuse
  return encodeCanonical(checked);
}

/** Decode and validate a TenantRecord; errors name the bad field (E_FIELD, or E_CBOR_* for bad bytes). */
export function decodeTenant(bytes: Uint8Array): TenantRecord {
  return tenantFromCbor(decodeCanonical(bytes));
}

/** A new tenant's record. */
export function newTenant(tenant: string, quotas: Quotas = {}): TenantRecord {
  return tenantFromCbor({ v: 1, tenant, quotas, spaces: {} });
}

const isMissing = (error: unknown) => error instanceof EngineError && error.code === 'E_NOT_FOUND';
const isLostRace = (error: unknown) => error instanceof EngineError && error.code === 'E_PRECONDITION';

/** The tenant's record and its ETag, or undefined when the tenant does not exist. */
export async function readTenant(store: ObjectStore, tenant: string): Promise<StoredTenant | undefined> {
  const key = tenantKey(tenant);
  let got: { body: Uint8Array; etag: string };
  try {
    got = await store.get(key);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const record = decodeTenant(got.body);
  if (record.tenant !== tenant)
    throw new EngineError(
      'E_FIELD',
      `${key}: TenantRecord.tenant is ${quote(record.tenant)}, not ${quote(tenant)}`,
    );
  return { record, etag: got.etag };
}

/**
 * Write a tenant's record by compare-and-swap: over the ETag it was read at (`expected`), or create-only
 * when `expected` is undefined. A lost race is E_CONFLICT (read again, apply the change again); nothing
 * is overwritten. Returns the new ETag.
 */
export async function writeTenant(
  store: ObjectStore,
  record: TenantRecord,
  expected?: string,
): Promise<string> {
  const key = tenantKey(record.tenant);
  const bytes = encodeTenant(record);
  try {
    const { etag } = await store.put(
      key,
      bytes,
      expected === undefined ? { ifNoneMatch: '*' } : { ifMatch: expected },
    );
    return etag;
  } catch (error) {
    if (!isLostRace(error)) throw error;
    throw new EngineError(
      'E_CONFLICT',
      expected === undefined
        ? `tenant ${record.tenant} exists already`
        : `tenant ${record.tenant} changed since it was read (ETag ${expected}); read it again and retry`,
    );
  }
}

/**
 * Change a tenant's record: read, apply `change`, compare-and-swap; retried when another writer moved it
 * first (the change is applied to what they wrote). The tenant must exist.
 */
export async function updateTenant(
  store: ObjectStore,
  tenant: string,
  change: (record: TenantRecord) => TenantRecord,
): Promise<StoredTenant> {
  for (let attempt = 0; ; attempt++) {
    const current = await readTenant(store, tenant);
    if (!current) throw new EngineError('E_NOT_FOUND', `tenant ${tenant} does not exist`);
    const record = change(current.record);
    if (record === current.record) return current; // nothing to change: no write
    if (record.tenant !== tenant)
      throw new EngineError('E_FIELD', `a change may not rename tenant ${tenant}`);
    try {
      return { record, etag: await writeTenant(store, record, current.etag) };
    } catch (error) {
      if (!(error instanceof EngineError && error.code === 'E_CONFLICT') || attempt >= 16) throw error;
    }
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The tenant that owns a space, or undefined when no tenant claimed it. */
export async function ownerOf(store: ObjectStore, space: string): Promise<string | undefined> {
  const key = spaceOwnerKey(space);
  let body: Uint8Array;
  try {
    body = (await store.get(key)).body;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  let text: string;
  try {
    text = fromUtf8.decode(body);
  } catch {
    throw new EngineError('E_FIELD', `${key}: not UTF-8 text`);
  }
  if (!isName(text)) throw new EngineError('E_FIELD', `${key}: ${quote(text)} is not a tenant name`);
  return text;
}

/**
 * Claim a space for a tenant: `access/spaces/<space>` is written create-only, so of two tenants claiming
 * one space exactly one wins, and a claim never moves. Claiming a space the tenant already owns is a
 * success (so a claim interrupted before its second step can be repeated); a space another tenant owns
 * is E_CONFLICT naming the owner. Then the space is listed in the tenant's record (no quotas: `{}`),
 * unless it is there already. The tenant must exist.
 */
export async function claimSpace(store: ObjectStore, space: string, tenant: string): Promise<StoredTenant> {
  assertName(space, 'space');
  assertName(tenant, 'tenant');
  if (!(await readTenant(store, tenant)))
    throw new EngineError(
      'E_NOT_FOUND',
      `tenant ${tenant} does not exist: create it before it claims spaces`,
    );
  try {
    await store.put(spaceOwnerKey(space), utf8.encode(tenant), {
      ifNoneMatch: '*',
      contentType: 'text/plain',
    });
  } catch (error) {
    if (!isLostRace(error)) throw error;
    const owner = await ownerOf(store, space);
    if (owner !== tenant)
      throw new EngineError('E_CONFLICT', `space ${space} is owned by tenant ${owner ?? '(unreadable)'}`);
  }
  // The claim object is what says who owns the space; the record's list follows it (for quotas, show).
  return updateTenant(store, tenant, (record) => {
    if (record.spaces[space]) return record;
    if (Object.keys(record.spaces).length >= MAX_TENANT_SPACES)
      throw new EngineError(
        'E_QUOTA',
        `tenant ${tenant} has ${MAX_TENANT_SPACES} spaces, the most a record holds`,
      );
    return { ...record, spaces: { ...record.spaces, [space]: {} } };
  });
}
