import { EngineError } from '@dreamdb/engine';

/**
 * A refusal to run now (spec 0018 §5): over a request rate, a concurrent-ingest quota or a full queue of
 * heavy work. HTTP 429; the origin sends `retryAfterSeconds` as the Retry-After header.
 */
export class RateLimitedError extends EngineError {
  constructor(
    detail: string,
    /** Whole seconds, at least 1. */
    readonly retryAfterSeconds: number,
  ) {
    super('E_RATE_LIMITED', `${detail}; retry after ${retryAfterSeconds} s`);
  }
}

/** What one take answers. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** Retry-After for a rate of 0 (the key may make no requests at all): ask again in a minute. */
const BLOCKED_RETRY_SECONDS = 60;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
  rate: number;
}

export interface RateLimiterOptions {
  /** Burst as a multiple of the rate (spec 0018 §5.1: 2). */
  readonly burstFactor?: number;
  /** Keys kept at most; past it the least recently used are dropped (they start again with a full burst). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

/**
 * Token buckets keyed by string (a tenant, or tenant/space): each refills at `rate` per second up to a
 * burst of burstFactor x rate, and a request takes one token. Memory is bounded: a bucket that has
 * refilled to full is the same as no bucket, so idle keys are dropped, and at most `maxKeys` are kept.
 */
export class RateLimiter {
  // Map order is recency order: a take moves its key to the end, so the front holds the idlest keys.
  private readonly buckets = new Map<string, Bucket>();
  private readonly burstFactor: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.burstFactor = options.burstFactor ?? 2;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Keys held now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Take one token of `key`'s bucket, which refills at `rate` per second. */
  take(key: string, rate: number, now: number = this.now()): RateDecision {
    this.sweep(now);
    if (!(rate > 0)) return { ok: false, retryAfterSeconds: BLOCKED_RETRY_SECONDS };
    const burst = this.burst(rate);
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      // A changed quota applies from now on; tokens above the new burst are dropped.
      bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * rate) / 1000);
      bucket.at = now;
      bucket.rate = rate;
    } else {
      bucket = { tokens: burst, at: now, rate };
      while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  private burst(rate: number): number {
    return Math.max(1, rate * this.burstFactor);
  }

  /** Drop buckets that have refilled to full, from the idlest on; at most once a second. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) {
      const full = bucket.tokens + ((now - bucket.at) * bucket.rate) / 1000 >= this.burst(bucket.rate);
      if (full) this.buckets.delete(key);
      // Keys behind this one were used more recently; a busy one stops the sweep (the rest wait a second).
      else if (now - bucket.at < 1000) break;
    }
  }
}
