import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError, quote } from '../errors.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { assertName, isName } from '../model/names.js';
import { listAll, type ObjectStore } from '../store/object-store.js';
import { readCount } from './tenant.js';

/**
 * A tenant's usage (spec 0018 §5.3): each origin writes what it saw as write-once batches,
 *   tenants/<tenant>/usage/<origin id>/<20-digit ms timestamp>-<seq>
 * and a tenant's usage is the sum of its batches. No object is ever updated in place, so origins never
 * contend; compaction folds an origin's batches into one so the sum stays a short LIST and a few GETs.
 */

/** What is counted per space. bytes and objects may go down (deletes); the others only grow. */
export interface UsageCounts {
  bytes: number;
  objects: number;
  requests: number;
  ingests: number;
  searches: number;
}

export const USAGE_FIELDS = ['bytes', 'objects', 'requests', 'ingests', 'searches'] as const;
const SIGNED_FIELDS: ReadonlySet<string> = new Set(['bytes', 'objects']);

/** One origin's usage of one tenant over [from, to] (ms since the epoch). */
export interface TenantUsageBatch {
  readonly v: 1;
  readonly tenant: string;
  readonly origin: string;
  readonly from: number;
  readonly to: number;
  readonly spaces: Readonly<Record<string, UsageCounts>>;
  /**
   * A compacted batch only: the names (under the same origin) of the batches it sums. Those are not
   * counted again, whether or not they are deleted yet: that is what makes compaction crash-safe.
   */
  readonly replaces?: readonly string[];
}

/** Batch names: `<20-digit ms>-<seq>`; a compacted batch's is `<the first replaced name's ms-seq>c<n>`. */
const BATCH_NAME = /^(\d{20})-(0|[1-9]\d{0,9})(?:c([1-9]\d{0,9}))?$/;
/** Names a compacted batch lists; more are compacted in a later run. */
export const MAX_REPLACES = 100_000;

export const zeroUsage = (): UsageCounts => ({ bytes: 0, objects: 0, requests: 0, ingests: 0, searches: 0 });

/** Add `delta` into `into` (in place) and return it. */
export function addUsage(into: UsageCounts, delta: Partial<UsageCounts>): UsageCounts {
  for (const f of USAGE_FIELDS) into[f] += delta[f] ?? 0;
  return into;
}

/** True when every count is zero. */
export const isZeroUsage = (u: Partial<UsageCounts>): boolean => USAGE_FIELDS.every((f) => !u[f]);

export const usagePrefix = (tenant: string) => `tenants/${assertName(tenant, 'tenant')}/usage/`;
export const originUsagePrefix = (tenant: string, origin: string) =>
  `${usagePrefix(tenant)}${assertName(origin, 'origin')}/`;

/** The name of an ordinary batch: its ms timestamp, zero-padded to 20 digits, and a sequence number. */
export function batchName(at: number, seq: number): string {
  if (!Number.isSafeInteger(at) || at < 0)
    throw new EngineError('E_FIELD', `batch time ${quote(at)} is not ms >= 0`);
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= 1e10)
    throw new EngineError('E_FIELD', `batch seq ${quote(seq)} is not 0-9999999999`);
  return `${String(at).padStart(20, '0')}-${seq}`;
}

/** The parts of a usage key, or undefined when it is not one. */
export function parseUsageKey(
  key: string,
): { tenant: string; origin: string; name: string; at: number; compacted: boolean } | undefined {
  const parts = key.split('/');
  if (parts.length !== 5 || parts[0] !== 'tenants' || parts[2] !== 'usage') return undefined;
  const [, tenant, , origin, name] = parts as [string, string, string, string, string];
  const match = BATCH_NAME.exec(name);
  if (!isName(tenant) || !isName(origin) || !match) return undefined;
  return { tenant, origin, name, at: Number(match[1]), compacted: match[3] !== undefined };
}

function countsFromCbor(value: unknown, path: string): UsageCounts {
  const r = new FieldReader(value, path, USAGE_FIELDS);
  const out = zeroUsage();
  for (const f of USAGE_FIELDS) out[f] = readCount(r.raw(f), r.at(f), SIGNED_FIELDS.has(f));
  return out;
}

/** Read and validate a TenantUsageBatch from its decoded CBOR map. */
export function usageBatchFromCbor(value: unknown, path = 'TenantUsageBatch'): TenantUsageBatch {
  const r = new FieldReader(value, path, ['v', 'tenant', 'origin', 'from', 'to', 'spaces', 'replaces']);
  if (r.raw('v') !== 1) fieldError(r.at('v'), `expected version 1, got ${quote(r.raw('v'))}`);
  const tenant = r.name('tenant');
  const origin = r.name('origin');
  const from = readCount(r.raw('from'), r.at('from'));
  const to = readCount(r.raw('to'), r.at('to'));
  if (to < from) fieldError(r.at('to'), `${to} is before from (${from})`);
  const raw = r.map('spaces');
  const spaces: Record<string, UsageCounts> = {};
  for (const space of Object.keys(raw)) {
    if (!isName(space)) fieldError(`${r.at('spaces')}.${space}`, `${quote(space)} is not a space name`);
    spaces[space] = countsFromCbor(raw[space], `${r.at('spaces')}.${space}`);
  }
  if (!r.has('replaces')) return { v: 1, tenant, origin, from, to, spaces };
  const replaces = r.array('replaces');
  if (replaces.length > MAX_REPLACES)
    fieldError(r.at('replaces'), `${replaces.length} names, more than ${MAX_REPLACES}`);
  replaces.forEach((name, i) => {
    if (typeof name !== 'string' || !BATCH_NAME.test(name))
      fieldError(`${r.at('replaces')}[${i}]`, `${quote(name)} is not a batch name (<20-digit ms>-<seq>)`);
  });
  return { v: 1, tenant, origin, from, to, spaces, replaces: replaces as string[] };
}

/** Deterministic CBOR bytes of a batch, checked by the same rules its decoder applies. */
export function encodeUsageBatch(batch: TenantUsageBatch): Uint8Array {
  const map: Record<string, unknown> = {
    v: 1,
    tenant: batch.tenant,
    origin: batch.origin,
    from: batch.from,
    to: batch.to,
    spaces: batch.spaces,
    ...(batch.replaces !== undefined && { replaces: batch.replaces }),
  };
  return encodeCanonical(usageBatchFromCbor(map));
}

/** Decode and validate a batch; errors name the bad field (E_FIELD, or E_CBOR_* for bad bytes). */
export function decodeUsageBatch(bytes: Uint8Array): TenantUsageBatch {
  return usageBatchFromCbor(decodeCanonical(bytes));
}

const isCode = (error: unknown, code: string) => error instanceof EngineError && error.code === code;

/**
 * Write a batch, create-only (batches are never overwritten). Its name is `<at>-<seq>` (at: the batch's
 * `to` unless given); a name already taken moves to the next seq. Returns the key written.
 */
export async function writeUsageBatch(
  store: ObjectStore,
  batch: TenantUsageBatch,
  options: { at?: number; seq?: number } = {},
): Promise<string> {
  const bytes = encodeUsageBatch(batch);
  const prefix = originUsagePrefix(batch.tenant, batch.origin);
  const at = options.at ?? batch.to;
  for (let seq = options.seq ?? 0, attempt = 0; ; seq++, attempt++) {
    const key = prefix + batchName(at, seq);
    try {
      await store.put(key, bytes, { ifNoneMatch: '*' });
      return key;
    } catch (error) {
      if (!isCode(error, 'E_PRECONDITION') || attempt >= 64) throw error;
    }
  }
}

/** A tenant's usage: per space, in total, and how many batches (and of which origins) it was summed from. */
export interface UsageSum {
  readonly tenant: string;
  readonly total: UsageCounts;
  readonly spaces: Record<string, UsageCounts>;
  /** Batches counted (compacted ones included; those they replace not). */
  readonly batches: number;
  /** Origins that wrote any of them. */
  readonly origins: string[];
  /** Batches listed per origin, replaced ones included: where compaction would pay. */
  readonly listed: Record<string, number>;
}

interface Listed {
  readonly key: string;
  readonly origin: string;
  readonly name: string;
  readonly batch: TenantUsageBatch;
}

/** GETs of batches in flight at once while summing. */
const FETCHES = 16;

/**
 * Every batch under `prefix`, fetched and checked against its key. Undefined when one vanished between the
 * LIST and its GET: a compaction deleted it, after writing the batch that replaces it (which this LIST may
 * have passed already), so the caller lists again.
 */
async function fetchBatches(
  store: ObjectStore,
  tenant: string,
  prefix: string,
): Promise<Listed[] | undefined> {
  const keys: { key: string; origin: string; name: string }[] = [];
  for await (const info of listAll(store, prefix)) {
    const parsed = parseUsageKey(info.key);
    // A stray key is refused, not skipped: usage that silently went missing would lift a quota.
    if (!parsed || parsed.tenant !== tenant)
      throw new EngineError('E_FIELD', `${info.key} is not a usage batch key (${prefix}<origin>/<ms>-<seq>)`);
    keys.push({ key: info.key, origin: parsed.origin, name: parsed.name });
  }
  const out: Listed[] = new Array(keys.length);
  let next = 0;
  let vanished = false;
  const worker = async () => {
    while (next < keys.length && !vanished) {
      const i = next++;
      const { key, origin, name } = keys[i]!;
      let body: Uint8Array;
      try {
        body = (await store.get(key)).body;
      } catch (error) {
        if (!isCode(error, 'E_NOT_FOUND')) throw error;
        vanished = true;
        return;
      }
      let batch: TenantUsageBatch;
      try {
        batch = decodeUsageBatch(body);
      } catch (error) {
        throw new EngineError(
          (error as EngineError).code ?? 'E_FIELD',
          `${key}: ${(error as Error).message}`,
        );
      }
      if (batch.tenant !== tenant || batch.origin !== origin)
        throw new EngineError(
          'E_FIELD',
          `${key}: TenantUsageBatch is of tenant ${batch.tenant}, origin ${batch.origin}, not where it is stored`,
        );
      out[i] = { key, origin, name, batch };
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCHES, keys.length) }, worker));
  return vanished ? undefined : out;
}

/** The batches that count: those no listed compacted batch names in its `replaces`. */
function effective(listed: readonly Listed[]): Listed[] {
  const replaced = new Set<string>();
  for (const { origin, batch } of listed)
    for (const name of batch.replaces ?? []) replaced.add(`${origin}/${name}`);
  return listed.filter((l) => !replaced.has(`${l.origin}/${l.name}`));
}

async function listBatches(store: ObjectStore, tenant: string, prefix: string): Promise<Listed[]> {
  for (let attempt = 0; ; attempt++) {
    const listed = await fetchBatches(store, tenant, prefix);
    if (listed) return listed;
    if (attempt >= 8)
      throw new EngineError(
        'E_STORE',
        `usage batches under ${prefix} kept vanishing while read (compactions?)`,
      );
  }
}

/** Sum batches per space and in total. */
function sum(tenant: string, counted: readonly Listed[], listed: readonly Listed[]): UsageSum {
  const spaces: Record<string, UsageCounts> = {};
  const total = zeroUsage();
  const origins = new Set<string>();
  for (const { origin, batch } of counted) {
    origins.add(origin);
    for (const [space, counts] of Object.entries(batch.spaces)) {
      spaces[space] = addUsage(spaces[space] ?? zeroUsage(), counts);
      addUsage(total, counts);
    }
  }
  const perOrigin: Record<string, number> = {};
  for (const { origin } of listed) perOrigin[origin] = (perOrigin[origin] ?? 0) + 1;
  return { tenant, total, spaces, batches: counted.length, origins: [...origins].sort(), listed: perOrigin };
}

/** A tenant's usage as stored now: every origin's batches, each counted once. */
export async function sumUsage(store: ObjectStore, tenant: string): Promise<UsageSum> {
  const listed = await listBatches(store, tenant, usagePrefix(tenant));
  return sum(tenant, effective(listed), listed);
}

/** What a compaction did. */
export interface Compaction {
  /** The compacted batch's key; undefined when there was nothing to compact (or another run won). */
  readonly key?: string;
  /** Batches it replaced. */
  readonly replaced: number;
  /** Of those, deleted (all, unless it was stopped or a delete failed: a later run deletes the rest). */
  readonly deleted: number;
}

/**
 * Fold one origin's batches into one. Two steps, in this order:
 *   1. write the compacted batch: the sum of the batches that count, naming in `replaces` every batch
 *      listed (those already replaced too, so a replaced batch whose replacement is itself replaced stays
 *      uncounted);
 *   2. delete the listed batches.
 * A crash before 1 changes nothing. A crash between 1 and 2 (or during 2) leaves batches the compacted one
 * names: sumUsage skips them, so nothing is counted twice, and the next run deletes them. Concurrent runs
 * on one origin are safe too: the compacted batch's name derives from the first name listed, so two runs
 * that listed the same batches race for one create-only key and the loser stops before deleting; a run that
 * lists after another deleted sees that one's compacted batch (written before any delete) and sums through it.
 * (Names are never reused: ordinary batches are create-only and a writer's names only grow; a name
 * deleted here could come back only from an origin whose clock went back to that very millisecond.)
 */
export async function compactUsage(
  store: ObjectStore,
  tenant: string,
  originId: string,
): Promise<Compaction> {
  const listed = (await listBatches(store, tenant, originUsagePrefix(tenant, originId))).slice(
    0,
    MAX_REPLACES,
  );
  if (listed.length < 2) return { replaced: 0, deleted: 0 };
  const counted = effective(listed);
  const summed = sum(tenant, counted, listed);
  // Named after the first batch that counts: runs that listed the same batches pick the same name.
  const match = BATCH_NAME.exec(counted[0]!.name)!;
  const name = `${match[1]}-${match[2]}c${Number(match[3] ?? 0) + 1}`;
  const batch: TenantUsageBatch = {
    v: 1,
    tenant,
    origin: originId,
    from: counted.reduce((m, l) => Math.min(m, l.batch.from), Number.MAX_SAFE_INTEGER),
    to: counted.reduce((m, l) => Math.max(m, l.batch.to), 0),
    spaces: summed.spaces,
    replaces: listed.map((l) => l.name),
  };
  const key = originUsagePrefix(tenant, originId) + name;
  try {
    await store.put(key, encodeUsageBatch(batch), { ifNoneMatch: '*' });
  } catch (error) {
    if (isCode(error, 'E_PRECONDITION')) return { replaced: 0, deleted: 0 }; // another run compacted these
    throw error;
  }
  let deleted = 0;
  for (const l of listed) {
    try {
      await store.delete(l.key);
      deleted++;
    } catch {
      // Left for the next run: the compacted batch names it, so it is not counted meanwhile.
    }
  }
  return { key, replaced: listed.length, deleted };
}
