import { RateLimitedError } from './rate.js';

export interface FairSchedulerOptions {
  /** Heavy tasks running at once, over all tenants. */
  readonly concurrency?: number;
  /** Tasks one tenant may have waiting; one more is refused (E_RATE_LIMITED) rather than queued. */
  readonly maxQueuedPerTenant?: number;
  readonly now?: () => number;
}

interface Task {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A FIFO of one tenant's waiting tasks (an array with a moving head: shift() would copy a long queue). */
class TaskQueue {
  private items: Task[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(task: Task): void {
    this.items.push(task);
  }

  shift(): Task {
    const task = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return task;
  }
}

/**
 * Runs heavy work (search, ingest, merge) with at most `concurrency` tasks at once; waiting tasks start
 * round-robin across tenants, one per tenant per turn. So a tenant that queued a thousand tasks delays
 * another tenant's next task by at most about one task per tenant with work waiting, not by its thousand;
 * a tenant's own tasks still run in the order it gave them. Work is never preempted: a new tenant's task
 * waits for the first slot to free.
 */
export class FairScheduler {
  readonly concurrency: number;
  readonly maxQueuedPerTenant: number;
  private readonly now: () => number;
  // The tenants with tasks waiting, in turn order (Map order): a tenant served goes to the back.
  private readonly queues = new Map<string, TaskQueue>();
  private active = 0;
  /** When each tenant last had a task started (a count): the one served longest ago goes next. */
  private readonly served = new Map<string, number>();
  private starts = 0;
  /** Mean task duration (ms), smoothed: what a refusal's Retry-After is estimated from. */
  private meanMs = 50;

  constructor(options: FairSchedulerOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxQueuedPerTenant = Math.max(0, options.maxQueuedPerTenant ?? 1000);
    this.now = options.now ?? performance.now.bind(performance);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting: of one tenant, or of all. */
  queued(tenant?: string): number {
    if (tenant !== undefined) return this.queues.get(tenant)?.length ?? 0;
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  /** Run `fn` for `tenant` when its turn comes; settles as `fn` does. */
  run<T>(tenant: string, fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = { fn, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.queues.get(tenant);
      // Tasks wait only while every slot is taken, so no queue of this tenant and a free slot: run now.
      if (!queue && this.active < this.concurrency) return this.start(tenant, task);
      if ((queue?.length ?? 0) >= this.maxQueuedPerTenant) {
        // Its queue drains at about concurrency / (tenants waiting) tasks per mean task time.
        const seconds =
          ((queue?.length ?? 0) * this.meanMs * Math.max(1, this.queues.size)) / this.concurrency / 1000;
        return reject(
          new RateLimitedError(
            `tenant ${tenant} has ${this.maxQueuedPerTenant} heavy tasks waiting, the most it may`,
            Math.max(1, Math.ceil(seconds)),
          ),
        );
      }
      if (queue) queue.push(task);
      else {
        const created = new TaskQueue();
        created.push(task);
        this.queues.set(tenant, created);
      }
    });
  }

  private start(tenant: string, task: Task): void {
    this.active++;
    // Most recently served last; the map stays bounded by forgetting the longest-served-ago tenants,
    // which then count as never served (first in line): no worse than fair.
    this.served.delete(tenant);
    this.served.set(tenant, ++this.starts);
    if (this.served.size > 100_000) this.served.delete(this.served.keys().next().value!);
    const started = this.now();
    // The slot is freed (and the next task started) before the caller hears the result.
    const done = () => {
      this.active--;
      this.meanMs += (this.now() - started - this.meanMs) / 16;
      this.dispatch();
    };
    Promise.resolve()
      .then(task.fn)
      .then(
        (value) => {
          done();
          task.resolve(value);
        },
        (error) => {
          done();
          task.reject(error);
        },
      );
  }

  /**
   * Fill free slots, one task per tenant in turn: the waiting tenant served longest ago goes first, so a
   * tenant that just arrived runs next, not after one more task of the tenant that was running.
   */
  private dispatch(): void {
    while (this.active < this.concurrency && this.queues.size > 0) {
      let next: string | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const tenant of this.queues.keys()) {
        const last = this.served.get(tenant) ?? 0;
        if (last < at) {
          at = last;
          next = tenant;
        }
      }
      const queue = this.queues.get(next!)!;
      const task = queue.shift();
      if (queue.length === 0) this.queues.delete(next!);
      this.start(next!, task);
    }
  }
}
