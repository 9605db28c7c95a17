import {
  addUsage,
  compactUsage,
  isZeroUsage,
  sumUsage,
  type TenantUsageBatch,
  USAGE_FIELDS,
  type UsageCounts,
  type UsageSum,
  writeUsageBatch,
  zeroUsage,
} from '@dreamdb/engine/access';
import type { ObjectStore } from '@dreamdb/engine/store';

export interface UsageLedgerOptions {
  /** The store the batches go to (the plain one: usage keys are not metered). */
  readonly store: ObjectStore;
  /** This origin's id (a name), unique among the origins sharing the store: its batches go under it. */
  readonly originId: string;
  readonly now?: () => number;
  /** How old the stored sum may get before it is read again (ms; default 10 s). */
  readonly refreshMs?: number;
  /** How often local counts are written as a batch (ms; default 10 s; 0: only by flush() and close()). */
  readonly flushMs?: number;
  /**
   * When a read finds this many batches of this origin for a tenant, it folds them into one
   * (compactUsage; default 64), so a tenant's sum stays a short LIST and a few GETs.
   */
  readonly compactAfter?: number;
  /** A background flush or refresh that failed (it is retried on the next turn). */
  readonly onError?: (error: unknown) => void;
}

interface TenantState {
  /** The tenant's usage as last summed from the store, and when that read began. */
  stored?: UsageSum;
  readAt: number;
  /** Counts this origin wrote as batches after that read began (the next read includes them). */
  readonly flushed: Map<string, UsageCounts>;
  /** Counts not yet written; a flush subtracts only what it wrote, so adds during a flush stay here. */
  readonly pending: Map<string, UsageCounts>;
  /** When the oldest pending count was added (the next batch's `from`). */
  pendingFrom: number;
  lastUsed: number;
  /** The tenant's store work (reads, flushes), one at a time: a read never overlaps a flush of its own. */
  chain: Promise<void>;
  refreshing?: Promise<void>;
}

/** A tenant's state is dropped after this long unused, when it holds nothing unwritten. */
const IDLE_MS = 5 * 60_000;

const addInto = (map: Map<string, UsageCounts>, space: string, delta: Partial<UsageCounts>) => {
  const counts = map.get(space) ?? zeroUsage();
  map.set(space, addUsage(counts, delta));
};

/**
 * One origin's view of every tenant's usage: the sum of the stored batches as last read, plus what this
 * origin counted since. Local counts are written as one TenantUsageBatch per tenant every `flushMs` and on
 * close().
 *
 * Staleness bound (spec 0018 §5.3): a count made here is in current() at once; a count made by another
 * origin shows here within flushMs (until it writes it) + refreshMs (until this origin reads again) + the
 * time of one read. With the defaults, 20 s and a read: a quota can be overshot by what the other origins
 * store in that window, never by what this one does.
 */
export class UsageLedger {
  private readonly store: ObjectStore;
  private readonly originId: string;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly compactAfter: number;
  private readonly onError: (error: unknown) => void;
  private readonly tenants = new Map<string, TenantState>();
  private readonly timer?: ReturnType<typeof setInterval>;
  /** The last batch time used: batch names of this origin only grow, even if the clock steps back. */
  private lastAt = 0;
  private closed = false;

  constructor(options: UsageLedgerOptions) {
    this.store = options.store;
    this.originId = options.originId;
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? 10_000;
    this.compactAfter = options.compactAfter ?? 64;
    this.onError = options.onError ?? (() => {});
    const flushMs = options.flushMs ?? 10_000;
    if (flushMs > 0) {
      this.timer = setInterval(() => {
        this.flush().catch(this.onError);
        this.evictIdle();
      }, flushMs);
      this.timer.unref(); // the ledger never keeps a process alive; close() writes what is left
    }
  }

  private state(tenant: string): TenantState {
    let state = this.tenants.get(tenant);
    if (!state) {
      state = {
        readAt: 0,
        flushed: new Map(),
        pending: new Map(),
        pendingFrom: 0,
        lastUsed: 0,
        chain: Promise.resolve(),
      };
      this.tenants.set(tenant, state);
    }
    state.lastUsed = this.now();
    return state;
  }

  /** Count `delta` against a tenant's space. */
  add(tenant: string, space: string, delta: Partial<UsageCounts>): void {
    if (isZeroUsage(delta)) return;
    const state = this.state(tenant);
    if (state.pending.size === 0) state.pendingFrom = this.now();
    addInto(state.pending, space, delta);
  }

  /**
   * The tenant's usage (of one space, or in total): the stored sum, plus this origin's counts since it was
   * read. The first call for a tenant reads the store; later ones answer at once and read again in the
   * background when the sum is older than refreshMs.
   */
  async current(tenant: string, space?: string): Promise<UsageCounts> {
    const state = this.state(tenant);
    if (!state.stored) await this.refresh(tenant, state);
    else if (this.now() - state.readAt >= this.refreshMs) this.refresh(tenant, state).catch(this.onError);
    const out = zeroUsage();
    const stored = state.stored!;
    addUsage(out, space === undefined ? stored.total : (stored.spaces[space] ?? {}));
    for (const map of [state.flushed, state.pending])
      for (const [s, counts] of map) if (space === undefined || s === space) addUsage(out, counts);
    return out;
  }

  /** Read the tenant's sum again now (one read at a time per tenant). */
  refresh(tenant: string, state: TenantState = this.state(tenant)): Promise<void> {
    state.refreshing ??= this.locked(state, async () => {
      const startedAt = this.now();
      const sum = await sumUsage(this.store, tenant);
      // Under the lock no flush of this tenant ran during the read: every batch counted in `flushed`
      // was written before the LIST began, so the sum includes it.
      state.stored = sum;
      state.readAt = startedAt;
      state.flushed.clear();
      // Compaction leaves the sum as it is (spec 0018 §5.3), so what was just read stays right.
      if ((sum.listed[this.originId] ?? 0) >= this.compactAfter)
        await compactUsage(this.store, tenant, this.originId).catch(this.onError);
    }).finally(() => {
      state.refreshing = undefined;
    });
    return state.refreshing;
  }

  /** Write every tenant's pending counts, one batch each. */
  async flush(): Promise<void> {
    const results = await Promise.allSettled(
      [...this.tenants]
        .filter(([, s]) => s.pending.size > 0)
        .map(([tenant, state]) => this.flushTenant(tenant, state)),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private flushTenant(tenant: string, state: TenantState): Promise<void> {
    return this.locked(state, async () => {
      if (state.pending.size === 0) return;
      const written = new Map([...state.pending].map(([s, c]) => [s, { ...c }]));
      const to = Math.max(this.now(), state.pendingFrom);
      const batch: TenantUsageBatch = {
        v: 1,
        tenant,
        origin: this.originId,
        from: state.pendingFrom,
        to,
        spaces: Object.fromEntries(written),
      };
      this.lastAt = Math.max(this.lastAt, to);
      await writeUsageBatch(this.store, batch, { at: this.lastAt });
      // Written: move exactly those counts from pending to flushed (what was added meanwhile stays).
      for (const [space, counts] of written) {
        const left = state.pending.get(space)!;
        for (const f of USAGE_FIELDS) left[f] -= counts[f];
        if (isZeroUsage(left)) state.pending.delete(space);
        addInto(state.flushed, space, counts);
      }
      state.pendingFrom = to;
    });
  }

  /** Run `fn` after the tenant's store work before it. */
  private locked(state: TenantState, fn: () => Promise<void>): Promise<void> {
    const run = state.chain.then(fn);
    state.chain = run.catch(() => {});
    return run;
  }

  private evictIdle(): void {
    const now = this.now();
    for (const [tenant, state] of this.tenants)
      if (now - state.lastUsed > IDLE_MS && state.pending.size === 0 && !state.refreshing)
        this.tenants.delete(tenant);
  }

  /** Stop the timer and write what is left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
