import type { Multihash } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { SpaceStore } from '../store/space-store.js';

/**
 * Uploads objects as they are built, at most `limit` at a time: building waits for a free slot, so the
 * bytes waiting in memory stay bounded and encoding overlaps the network. The first failure is kept and
 * thrown by the next `put` or by `drain`.
 */
export class Uploader {
  private readonly inFlight = new Set<Promise<void>>();
  private failed = false;
  private failure: unknown;
  objects = 0;
  bytes = 0;

  constructor(
    private readonly store: SpaceStore,
    private readonly limit: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new EngineError('E_BAD_REQUEST', `upload concurrency ${limit} must be a positive integer`);
  }

  async put(bytes: Uint8Array | readonly Uint8Array[], hash: Multihash): Promise<void> {
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failed) throw this.failure;
    const upload: Promise<void> = this.store.putObject(bytes, hash).then(
      () => {
        this.objects++;
        this.bytes += bytes instanceof Uint8Array ? bytes.length : bytes.reduce((n, p) => n + p.length, 0);
        this.inFlight.delete(upload);
      },
      (error: unknown) => {
        if (!this.failed) this.failure = error;
        this.failed = true;
        this.inFlight.delete(upload);
      },
    );
    this.inFlight.add(upload);
  }

  /** Wait for every upload to finish, failed or not. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight);
  }

  /** Wait for every upload; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failed) throw this.failure;
  }
}
