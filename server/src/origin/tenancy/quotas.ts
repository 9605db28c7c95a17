import {
  DEFAULT_TENANT,
  ownerOf,
  type Quotas,
  readTenant,
  type TenantRecord,
  type UsageCounts,
} from '@dreamdb/engine/access';
import type { ObjectStore } from '@dreamdb/engine/store';
import { FairScheduler } from './fair.js';
import { MeteredStore } from './metered-store.js';
import { RateLimitedError, RateLimiter } from './rate.js';
import { UsageLedger } from './usage-ledger.js';

export interface TenantQuotasOptions {
  /** The plain store TenantRecords are read from. */
  readonly store: ObjectStore;
  /** How long a TenantRecord read is used before it is read again (ms; default 10 s). */
  readonly ttlMs?: number;
  readonly now?: () => number;
  readonly limiter?: RateLimiter;
  /** Retry-After of a refused ingest (s; default 10): ingests take long, so a guess, not a bucket. */
  readonly ingestRetrySeconds?: number;
}

/** TenantRecords read at most once per TTL (kept bounded). */
const MAX_CACHED = 10_000;

/**
 * The quotas of TenantRecords, applied: request rates (token buckets) and concurrent ingests. Records are
 * cached for `ttlMs`, so a changed quota takes effect within that; a tenant without a record has none.
 */
export class TenantQuotas {
  private readonly store: ObjectStore;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly limiter: RateLimiter;
  private readonly ingestRetrySeconds: number;
  private readonly records = new Map<string, { at: number; record: Promise<TenantRecord | undefined> }>();
  private readonly ingests = new Map<string, number>();

  constructor(options: TenantQuotasOptions) {
    this.store = options.store;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.limiter = options.limiter ?? new RateLimiter({ now: this.now });
    this.ingestRetrySeconds = options.ingestRetrySeconds ?? 10;
  }

  /** The tenant's record, from the cache while younger than the TTL; concurrent misses share one read. */
  record(tenant: string): Promise<TenantRecord | undefined> {
    const now = this.now();
    const cached = this.records.get(tenant);
    if (cached && now - cached.at < this.ttlMs) return cached.record;
    const record = readTenant(this.store, tenant).then((stored) => stored?.record);
    this.records.delete(tenant);
    if (this.records.size >= MAX_CACHED) this.records.delete(this.records.keys().next().value!);
    this.records.set(tenant, { at: now, record });
    // A failed read is not kept: the next call reads again.
    record.catch(() => {
      if (this.records.get(tenant)?.record === record) this.records.delete(tenant);
    });
    return record;
  }

  /** Forget a tenant's cached record (after this process changed it). */
  invalidate(tenant: string): void {
    this.records.delete(tenant);
  }

  /** The quotas a request on the space must keep: the tenant's, and the space's own. */
  async limits(tenant: string, space: string): Promise<{ tenant: Quotas; space: Quotas }> {
    const record = await this.record(tenant);
    return { tenant: record?.quotas ?? {}, space: record?.spaces[space] ?? {} };
  }

  /** Take one request of the tenant's and the space's rate; over either: RateLimitedError (429). */
  async checkRate(tenant: string, space: string): Promise<void> {
    const limits = await this.limits(tenant, space);
    const buckets = [
      { key: tenant, rate: limits.tenant.requestsPerSecond, what: `tenant ${tenant}` },
      {
        key: `${tenant}/${space}`,
        rate: limits.space.requestsPerSecond,
        what: `space ${space} of tenant ${tenant}`,
      },
    ];
    for (const { key, rate, what } of buckets) {
      if (rate === undefined) continue;
      const decision = this.limiter.take(key, rate);
      if (!decision.ok)
        throw new RateLimitedError(
          `${what} is over its rate of ${rate} requests/s`,
          decision.retryAfterSeconds,
        );
    }
  }

  /**
   * A slot for one ingest of the tenant (and of the space, when given: spaces may have their own
   * `ingests`); over the concurrent-ingests quota: RateLimitedError. Call the returned function once
   * the ingest ends, however it ends (later calls do nothing).
   */
  async ingestSlot(tenant: string, space?: string): Promise<() => void> {
    const limits = await this.limits(tenant, space ?? '');
    const slots = [{ key: tenant, max: limits.tenant.ingests, what: `tenant ${tenant}` }];
    if (space !== undefined)
      slots.push({
        key: `${tenant}/${space}`,
        max: limits.space.ingests,
        what: `space ${space} of tenant ${tenant}`,
      });
    // Checked and taken without an await between: two ingests cannot both take the last slot.
    for (const { key, max, what } of slots) {
      const running = this.ingests.get(key) ?? 0;
      if (max !== undefined && running >= max)
        throw new RateLimitedError(
          `${what} has ${running} ingests running, its quota of concurrent ingests is ${max}`,
          this.ingestRetrySeconds,
        );
    }
    for (const { key } of slots) this.ingests.set(key, (this.ingests.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const { key } of slots) {
        const left = (this.ingests.get(key) ?? 1) - 1;
        if (left > 0) this.ingests.set(key, left);
        else this.ingests.delete(key);
      }
    };
  }
}

export interface TenancyOptions {
  /** The plain store: tenant records, claims and usage batches are read and written here. */
  readonly store: ObjectStore;
  /** This origin's id (a name), unique among the origins sharing the store. */
  readonly originId: string;
  readonly now?: () => number;
  /** Staleness of the stored usage sum (ms; default 10 s) and of an unclaimed space's owner lookup. */
  readonly refreshMs?: number;
  /** How often this origin writes its usage (ms; default 10 s; 0: on close only). */
  readonly flushMs?: number;
  /** Heavy tasks at once over all tenants (default 4). */
  readonly concurrency?: number;
  /** Heavy tasks one tenant may have waiting (default 1000). */
  readonly maxQueuedPerTenant?: number;
  /** How long a TenantRecord read is used (ms; default refreshMs). */
  readonly recordTtlMs?: number;
  /**
   * The tenant of spaces nobody claimed (spec 0018 §3: `default`, so a lab that never names tenants is
   * metered as one); null: such spaces are not metered at all.
   */
  readonly defaultTenant?: string | null;
  /** Background usage writes and reads that failed (retried on the next turn). */
  readonly onError?: (error: unknown) => void;
}

/** Space owners looked up (bounded; an owner never changes once claimed, so owned spaces never go stale). */
const MAX_OWNERS = 100_000;

/**
 * Tenancy for one origin process (spec 0018 §5): who owns a space, request rates, fair scheduling of
 * heavy work, ingest slots, and the metered store to give the engine so stored bytes count and quotas hold.
 */
export class Tenancy {
  /** The store to give the engine: writes are charged to the tenant owning their space. */
  readonly store: MeteredStore;
  readonly ledger: UsageLedger;
  readonly quotas: TenantQuotas;
  readonly scheduler: FairScheduler;
  private readonly plain: ObjectStore;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly defaultTenant: string | undefined;
  private readonly owners = new Map<string, { at: number; owner: Promise<string | undefined> }>();

  constructor(options: TenancyOptions) {
    this.plain = options.store;
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? 10_000;
    this.defaultTenant =
      options.defaultTenant === null ? undefined : (options.defaultTenant ?? DEFAULT_TENANT);
    this.ledger = new UsageLedger({
      store: options.store,
      originId: options.originId,
      now: this.now,
      refreshMs: this.refreshMs,
      ...(options.flushMs !== undefined && { flushMs: options.flushMs }),
      ...(options.onError && { onError: options.onError }),
    });
    this.quotas = new TenantQuotas({
      store: options.store,
      ttlMs: options.recordTtlMs ?? this.refreshMs,
      now: this.now,
    });
    this.scheduler = new FairScheduler({
      ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
      ...(options.maxQueuedPerTenant !== undefined && { maxQueuedPerTenant: options.maxQueuedPerTenant }),
    });
    this.store = new MeteredStore(options.store, {
      tenantOf: (space) => this.tenantOf(space),
      limits: (tenant, space) => this.quotas.limits(tenant, space),
      ledger: this.ledger,
    });
  }

  /**
   * The tenant owning a space; for a space nobody claimed, the default tenant (undefined when that is
   * off). Owners are cached for good (a claim never moves); "unclaimed" for refreshMs, so a new claim is
   * seen within that.
   */
  tenantOf(space: string): Promise<string | undefined> {
    const cached = this.owners.get(space);
    const now = this.now();
    if (cached && (cached.at === Number.POSITIVE_INFINITY || now - cached.at < this.refreshMs))
      return cached.owner;
    const claimed = ownerOf(this.plain, space);
    const entry = { at: now, owner: claimed.then((owner) => owner ?? this.defaultTenant) };
    if (this.owners.size >= MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(space, entry);
    claimed.then(
      (owner) => {
        if (owner !== undefined) entry.at = Number.POSITIVE_INFINITY;
      },
      () => {
        if (this.owners.get(space) === entry) this.owners.delete(space);
      },
    );
    return entry.owner;
  }

  /** Admit one request of a tenant on a space: its rate (429 E_RATE_LIMITED when over), then count it. */
  async admit(tenant: string, space: string): Promise<void> {
    await this.quotas.checkRate(tenant, space);
    this.ledger.add(tenant, space, { requests: 1 });
  }

  /** Run heavy work (search, ingest, merge) in the tenant's turn; a full queue is E_RATE_LIMITED. */
  heavy<T>(tenant: string, fn: () => T | Promise<T>): Promise<T> {
    return this.scheduler.run(tenant, fn);
  }

  /** A slot for one ingest (counted in the space's usage when given); call the result when it ends. */
  async ingest(tenant: string, space?: string): Promise<() => void> {
    const release = await this.quotas.ingestSlot(tenant, space);
    if (space !== undefined) this.ledger.add(tenant, space, { ingests: 1 });
    return release;
  }

  /** Count other usage of a space (e.g. `{searches: 1}`). */
  count(tenant: string, space: string, delta: Partial<UsageCounts>): void {
    this.ledger.add(tenant, space, delta);
  }

  /** Write the usage counted and not yet written. The store given is not closed: its owner closes it. */
  async close(): Promise<void> {
    await this.ledger.close();
  }
}
