import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, encodeCanonical } from '../faces/core.js';
import { MemoryStore } from '../store/memory-store.js';
import type { ObjectStore } from '../store/object-store.js';
import {
  compactUsage,
  decodeUsageBatch,
  encodeUsageBatch,
  parseUsageKey,
  sumUsage,
  type TenantUsageBatch,
  type UsageCounts,
  writeUsageBatch,
  zeroUsage,
} from './usage.js';

const counts = (c: Partial<UsageCounts>): UsageCounts => ({ ...zeroUsage(), ...c });

function batch(origin: string, at: number, spaces: Record<string, Partial<UsageCounts>>): TenantUsageBatch {
  return {
    v: 1,
    tenant: 'acme',
    origin,
    from: at - 10,
    to: at,
    spaces: Object.fromEntries(Object.entries(spaces).map(([s, c]) => [s, counts(c)])),
  };
}

test('a TenantUsageBatch round-trips; negative bytes and 2^32+ counts included', () => {
  const b = { ...batch('o1', 1_700_000_000_000, { lab: { bytes: -5 * 2 ** 32, objects: -2, requests: 9 } }) };
  assert.deepEqual(decodeUsageBatch(encodeUsageBatch(b)), b);
  const compacted = { ...b, replaces: ['00000001700000000000-0', '00000001700000000000-1c2'] };
  assert.deepEqual(decodeUsageBatch(encodeUsageBatch(compacted)), compacted);
});

test('bad TenantUsageBatch bytes are refused with errors naming the field', () => {
  const good = { v: 1, tenant: 'acme', origin: 'o1', from: 1, to: 2, spaces: {} };
  const c = { bytes: 1, objects: 1, requests: 1, ingests: 0, searches: 0 };
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: 0 }, /TenantUsageBatch\.v: expected version 1/],
    [{ ...good, origin: 'O 1' }, /TenantUsageBatch\.origin/],
    [{ ...good, from: 3 }, /TenantUsageBatch\.to: 2 is before from \(3\)/],
    [{ ...good, to: -1 }, /TenantUsageBatch\.to: expected an unsigned integer/],
    [
      { ...good, spaces: { lab: { ...c, requests: -1 } } },
      /TenantUsageBatch\.spaces\.lab\.requests: expected an unsigned/,
    ],
    [
      { ...good, spaces: { lab: { ...c, bytes: 0.5 } } },
      /TenantUsageBatch\.spaces\.lab\.bytes: expected an integer/,
    ],
    [{ ...good, spaces: { lab: { bytes: 1 } } }, /TenantUsageBatch\.spaces\.lab\.objects: is missing/],
    [{ ...good, spaces: { lab: { ...c, views: 1 } } }, /TenantUsageBatch\.spaces\.lab\.views: unknown field/],
    [{ ...good, replaces: ['x'] }, /TenantUsageBatch\.replaces\[0\]: "x" is not a batch name/],
  ];
  for (const [value, pattern] of cases)
    assert.throws(
      () => decodeUsageBatch(encodeCanonical(value)),
      (e: unknown) => e instanceof EngineError && e.code === 'E_FIELD' && pattern.test(e.message),
      String(pattern),
    );
});

test('batches of several origins sum per space and in total; a misplaced batch is refused', async () => {
  const store = new MemoryStore();
  const k1 = await writeUsageBatch(
    store,
    batch('o1', 1000, { lab: { bytes: 100, objects: 2, requests: 3 } }),
  );
  assert.equal(k1, 'tenants/acme/usage/o1/00000000000000001000-0');
  assert.deepEqual(parseUsageKey(k1), {
    tenant: 'acme',
    origin: 'o1',
    name: '00000000000000001000-0',
    at: 1000,
    compacted: false,
  });
  // The same time again: the next seq (batches are create-only, never overwritten).
  const k2 = await writeUsageBatch(
    store,
    batch('o1', 1000, { lab: { bytes: -40, objects: -1 }, cams: { searches: 4 } }),
  );
  assert.equal(k2, 'tenants/acme/usage/o1/00000000000000001000-1');
  await writeUsageBatch(store, batch('o2', 900, { cams: { bytes: 7, objects: 1, ingests: 1 } }));
  const sum = await sumUsage(store, 'acme');
  assert.deepEqual(sum.spaces, {
    lab: counts({ bytes: 60, objects: 1, requests: 3 }),
    cams: counts({ bytes: 7, objects: 1, ingests: 1, searches: 4 }),
  });
  assert.deepEqual(sum.total, counts({ bytes: 67, objects: 2, requests: 3, ingests: 1, searches: 4 }));
  assert.deepEqual(sum.origins, ['o1', 'o2']);
  assert.equal(sum.batches, 3);
  assert.deepEqual((await sumUsage(store, 'nobody')).total, zeroUsage());
  await store.put('tenants/acme/usage/o3/00000000000000000100-0', encodeUsageBatch(batch('o1', 100, {})));
  await assert.rejects(sumUsage(store, 'acme'), /usage\/o3\/.*origin o1, not where it is stored/);
  await store.delete('tenants/acme/usage/o3/00000000000000000100-0');
  await store.put('tenants/acme/usage/o3/junk', new Uint8Array([1]));
  await assert.rejects(sumUsage(store, 'acme'), /tenants\/acme\/usage\/o3\/junk is not a usage batch key/);
});

/** A store whose deletes fail after `allowed` of them: a compaction stopped between (or during) its steps. */
class CrashingStore extends MemoryStore {
  allowed = Number.POSITIVE_INFINITY;
  override async delete(key: string): Promise<void> {
    if (this.allowed-- <= 0) throw new Error('crash');
    return super.delete(key);
  }
}

async function keys(store: ObjectStore, prefix = 'tenants/acme/usage/'): Promise<string[]> {
  return (await store.list(prefix)).objects.map((o) => o.key);
}

test('compaction folds an origin into one batch and never double counts, even when interrupted', async () => {
  const store = new CrashingStore();
  for (let i = 0; i < 5; i++)
    await writeUsageBatch(store, batch('o1', 1000 + i, { lab: { bytes: 10, objects: 1, requests: 1 } }));
  await writeUsageBatch(store, batch('o2', 1000, { lab: { bytes: 1 } }));
  const expected = counts({ bytes: 51, objects: 5, requests: 5 });
  assert.deepEqual((await sumUsage(store, 'acme')).total, expected);

  // Interrupted after writing the compacted batch, before any delete: its `replaces` keeps the old ones out.
  store.allowed = 0;
  const first = await compactUsage(store, 'acme', 'o1');
  assert.equal(first.replaced, 5);
  assert.equal(first.deleted, 0);
  assert.equal(first.key, 'tenants/acme/usage/o1/00000000000000001000-0c1');
  assert.equal((await keys(store, 'tenants/acme/usage/o1/')).length, 6);
  assert.deepEqual((await sumUsage(store, 'acme')).total, expected);

  // Interrupted in the middle of the deletes, by a run that found the stale batches and more.
  await writeUsageBatch(store, batch('o1', 2000, { lab: { bytes: 3, searches: 2 } }));
  const expected2 = counts({ bytes: 54, objects: 5, requests: 5, searches: 2 });
  store.allowed = 3;
  const second = await compactUsage(store, 'acme', 'o1');
  assert.equal(second.replaced, 7);
  assert.equal(second.deleted, 3);
  assert.deepEqual((await sumUsage(store, 'acme')).total, expected2);

  // A run that completes leaves one batch for the origin, with the same sum.
  store.allowed = Number.POSITIVE_INFINITY;
  const third = await compactUsage(store, 'acme', 'o1');
  assert.equal(third.deleted, third.replaced);
  assert.equal((await keys(store, 'tenants/acme/usage/o1/')).length, 1);
  const sum = await sumUsage(store, 'acme');
  assert.deepEqual(sum.total, expected2);
  assert.equal(sum.batches, 2); // o1's compacted batch and o2's
  assert.deepEqual(sum.spaces.lab, expected2);
  // Nothing left to compact.
  assert.deepEqual(await compactUsage(store, 'acme', 'o1'), { replaced: 0, deleted: 0 });
});

test('two compactions of one origin at once: one writes, the other stops, the sum is unchanged', async () => {
  const store = new MemoryStore();
  for (let i = 0; i < 20; i++)
    await writeUsageBatch(store, batch('o1', 5000 + i, { lab: { bytes: 1, objects: 1 } }));
  const runs = await Promise.all([compactUsage(store, 'acme', 'o1'), compactUsage(store, 'acme', 'o1')]);
  assert.equal(runs.filter((r) => r.key !== undefined).length, 1);
  assert.deepEqual((await sumUsage(store, 'acme')).total, counts({ bytes: 20, objects: 20 }));
  // A run racing with a live writer: the new batch is neither summed into the compacted one nor lost.
  await Promise.all([
    compactUsage(store, 'acme', 'o1'),
    writeUsageBatch(store, batch('o1', 9000, { lab: { bytes: 5 } })),
    compactUsage(store, 'acme', 'o1'),
  ]);
  assert.deepEqual((await sumUsage(store, 'acme')).total, counts({ bytes: 25, objects: 20 }));
});

test('a batch deleted between the LIST and its GET makes sumUsage list again', async () => {
  const inner = new MemoryStore();
  for (let i = 0; i < 3; i++) await writeUsageBatch(inner, batch('o1', 100 + i, { lab: { bytes: 2 } }));
  let compactedOnce = false;
  // The first GET finds its batch gone: a compaction ran right after this LIST.
  const store: ObjectStore = {
    name: 'racing',
    head: (k) => inner.head(k),
    put: (k, b, o) => inner.put(k, b, o),
    delete: (k) => inner.delete(k),
    list: (p, o) => inner.list(p, o),
    async get(key, range) {
      if (!compactedOnce) {
        compactedOnce = true;
        await compactUsage(inner, 'acme', 'o1');
      }
      return inner.get(key, range);
    },
  };
  assert.deepEqual((await sumUsage(store, 'acme')).total, counts({ bytes: 6 }));
});
