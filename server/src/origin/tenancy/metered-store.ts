import { EngineError, joinParts } from '@dreamdb/engine';
import type { Quotas, UsageCounts } from '@dreamdb/engine/access';
import {
  type ByteRange,
  type ListOptions,
  type ObjectStore,
  type PutOptions,
  parseObjectKey,
} from '@dreamdb/engine/store';

/** What the metered store asks of the rest of tenancy. */
export interface MeterPolicy {
  /** The tenant owning a space; undefined: nobody claimed it, and its writes are not metered. */
  tenantOf(space: string): Promise<string | undefined>;
  /** The quotas a write to the space must keep: the tenant's and the space's own. */
  limits(tenant: string, space: string): Promise<{ readonly tenant: Quotas; readonly space: Quotas }>;
  /** The usage ledger (usage-ledger.ts): what is stored, and where writes are counted. */
  readonly ledger: {
    current(tenant: string, space?: string): Promise<UsageCounts>;
    add(tenant: string, space: string, delta: Partial<UsageCounts>): void;
  };
}

type Reserved = { bytes: number; objects: number };

const isCode = (error: unknown, code: string) => error instanceof EngineError && error.code === code;

/**
 * An ObjectStore that charges content objects to the tenant owning their space: a new object under
 * spaces/<space>/objects/ adds its bytes and one object to the tenant's usage, a delete takes them off,
 * and a write that would pass the tenant's or the space's bytes/objects quota is refused (E_QUOTA) before
 * anything is written. So a publish over quota fails at its first object over the line, before its
 * manifest and its ref: no ref moves, and the objects it wrote already are unreferenced ones that collect
 * reclaims. Other keys (refs, tenants/, access/) pass through uncounted. A metered write costs one HEAD
 * (is the object new?); two origins writing one new object at the same moment may both count it.
 */
export class MeteredStore implements ObjectStore {
  /** Writes in flight, per tenant and per tenant/space: counted against quotas until they are in the ledger. */
  private readonly reserved = new Map<string, Reserved>();
  /** New objects being written, by key. */
  private readonly writing = new Map<string, Promise<unknown>>();
  /** Deletes in flight: a key deleted twice at once is taken off once. */
  private readonly deleting = new Set<string>();

  constructor(
    readonly inner: ObjectStore,
    private readonly policy: MeterPolicy,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get(key: string, range?: ByteRange) {
    return this.inner.get(key, range);
  }

  head(key: string) {
    return this.inner.head(key);
  }

  list(prefix: string, options?: ListOptions) {
    return this.inner.list(prefix, options);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  put(key: string, body: Uint8Array, options?: PutOptions): Promise<{ etag: string }> {
    return this.write(key, body.length, () => this.inner.put(key, body, options));
  }

  putParts(key: string, parts: readonly Uint8Array[], options?: PutOptions): Promise<{ etag: string }> {
    const size = parts.reduce((n, p) => n + p.length, 0);
    return this.write(key, size, () =>
      this.inner.putParts
        ? this.inner.putParts(key, parts, options)
        : this.inner.put(key, joinParts(parts), options),
    );
  }

  private async write(
    key: string,
    size: number,
    put: () => Promise<{ etag: string }>,
  ): Promise<{ etag: string }> {
    const parsed = parseObjectKey(key);
    const tenant = parsed && (await this.policy.tenantOf(parsed.space));
    if (!parsed || !tenant) return put();
    // The same object written twice at once (two publishes sharing it) is counted by the first write.
    const earlier = this.writing.get(key);
    if (earlier) {
      const landed = await earlier.then(
        () => true,
        () => false,
      );
      return landed ? put() : this.write(key, size, put);
    }
    const work = this.writeNew(tenant, parsed.space, key, size, put);
    this.writing.set(key, work);
    try {
      return await work;
    } finally {
      this.writing.delete(key);
    }
  }

  private async writeNew(
    tenant: string,
    space: string,
    key: string,
    size: number,
    put: () => Promise<{ etag: string }>,
  ): Promise<{ etag: string }> {
    // New or not is asked first: a create-only PUT of content already stored is a success on the embedded
    // store (spec 0005 §4), so its answer cannot tell. Content keys are hashes: a present key holds these
    // very bytes, and writing them again adds nothing (the PUT still goes through: it refreshes the time
    // collect's grace period reads).
    if (await this.exists(key)) return put();
    const release = await this.reserve(tenant, space, size);
    let result: { etag: string };
    try {
      result = await put();
    } catch (error) {
      release();
      throw error; // nothing was stored (a 412: another writer stored it first, and counts it)
    }
    release();
    this.policy.ledger.add(tenant, space, { bytes: size, objects: 1 });
    return result;
  }

  /**
   * Check the quotas against usage + writes in flight + this one, and hold this one in flight; E_QUOTA when
   * over, before anything is written.
   */
  private async reserve(tenant: string, space: string, size: number): Promise<() => void> {
    const limits = await this.policy.limits(tenant, space);
    const checks = [
      { scope: `tenant ${tenant}`, id: tenant, quotas: limits.tenant, of: undefined },
      {
        scope: `space ${space} of tenant ${tenant}`,
        id: `${tenant}/${space}`,
        quotas: limits.space,
        of: space,
      },
    ].filter((c) => c.quotas.bytes !== undefined || c.quotas.objects !== undefined);
    const usage = await Promise.all(checks.map((c) => this.policy.ledger.current(tenant, c.of)));
    // From here to the reservation nothing awaits: concurrent writes see each other's reservations.
    let refusal: string | undefined;
    checks.forEach((c, i) => {
      const held = this.reserved.get(c.id) ?? { bytes: 0, objects: 0 };
      const used = { bytes: usage[i]!.bytes + held.bytes, objects: usage[i]!.objects + held.objects };
      if (!refusal && c.quotas.bytes !== undefined && used.bytes + size > c.quotas.bytes)
        refusal = `${c.scope} is over its bytes quota: ${used.bytes} of ${c.quotas.bytes} bytes used, an object of ${size} bytes would make ${used.bytes + size}`;
      if (!refusal && c.quotas.objects !== undefined && used.objects + 1 > c.quotas.objects)
        refusal = `${c.scope} is over its objects quota: ${used.objects} of ${c.quotas.objects} objects stored`;
    });
    if (refusal) throw new EngineError('E_QUOTA', `${refusal}; nothing was written`);
    const ids = [tenant, `${tenant}/${space}`];
    for (const id of ids) {
      const held = this.reserved.get(id) ?? { bytes: 0, objects: 0 };
      held.bytes += size;
      held.objects += 1;
      this.reserved.set(id, held);
    }
    return () => {
      for (const id of ids) {
        const held = this.reserved.get(id)!;
        held.bytes -= size;
        held.objects -= 1;
        if (held.objects === 0) this.reserved.delete(id);
      }
    };
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.inner.head(key);
      return true;
    } catch (error) {
      if (isCode(error, 'E_NOT_FOUND')) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const parsed = parseObjectKey(key);
    const tenant = parsed && (await this.policy.tenantOf(parsed.space));
    if (!parsed || !tenant || this.deleting.has(key)) return this.inner.delete(key);
    this.deleting.add(key);
    try {
      // Its size first: the delete answers nothing, and a key already gone takes nothing off.
      let size: number;
      try {
        size = (await this.inner.head(key)).size;
      } catch (error) {
        if (isCode(error, 'E_NOT_FOUND')) return await this.inner.delete(key);
        throw error;
      }
      await this.inner.delete(key);
      this.policy.ledger.add(tenant, parsed.space, { bytes: -size, objects: -1 });
    } finally {
      this.deleting.delete(key);
    }
  }
}
