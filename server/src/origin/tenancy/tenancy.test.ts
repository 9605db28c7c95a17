import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EngineError } from '@dreamdb/engine';
import { claimSpace, newTenant, sumUsage, updateTenant, writeTenant } from '@dreamdb/engine/access';
import { FsStore } from '@dreamdb/engine/node';
import { MemoryStore, type PutOptions, SpaceStore } from '@dreamdb/engine/store';
import { Tenancy } from './quotas.js';
import { RateLimitedError } from './rate.js';
import { UsageLedger } from './usage-ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-tenancy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const usage = (c: Partial<Record<'bytes' | 'objects' | 'requests' | 'ingests' | 'searches', number>>) => ({
  bytes: 0,
  objects: 0,
  requests: 0,
  ingests: 0,
  searches: 0,
  ...c,
});

test('two origins on one file-system store: their usage batches add up', async () => {
  const store = await FsStore.open(join(dir, 'two-origins'));
  try {
    await writeTenant(store, newTenant('acme'));
    await claimSpace(store, 'lab', 'acme');
    await claimSpace(store, 'cams', 'acme');
    let t = 1_700_000_000_000;
    const now = () => t;
    const east = new Tenancy({ store, originId: 'east', now, flushMs: 0 });
    const west = new Tenancy({ store, originId: 'west', now, flushMs: 0 });
    // Each origin stores objects and admits requests; a flush in between makes two batches for east.
    await new SpaceStore(east.store, 'lab').putObject(new Uint8Array(1000).fill(1));
    for (let i = 0; i < 3; i++) await east.admit('acme', 'lab');
    await east.ledger.flush();
    t += 5_000;
    await new SpaceStore(east.store, 'cams').putObject(new Uint8Array(10).fill(2));
    east.count('acme', 'lab', { searches: 2 });
    await new SpaceStore(west.store, 'lab').putObject(new Uint8Array(500).fill(3));
    // The same bytes through the other origin: stored once, counted once.
    await new SpaceStore(west.store, 'lab').putObject(new Uint8Array(1000).fill(1));
    await west.admit('acme', 'cams');
    (await west.ingest('acme', 'cams'))();
    await Promise.all([east.close(), west.close()]);

    const files = (origin: string) =>
      readdirSync(join(dir, 'two-origins', 'buckets', 'dreamdb', 'tenants', 'acme', 'usage', origin));
    assert.equal(files('east').length, 2);
    assert.equal(files('west').length, 1);
    const sum = await sumUsage(store, 'acme');
    assert.deepEqual(sum.origins, ['east', 'west']);
    assert.deepEqual(sum.spaces.lab, usage({ bytes: 1500, objects: 2, requests: 3, searches: 2 }));
    assert.deepEqual(sum.spaces.cams, usage({ bytes: 10, objects: 1, requests: 1, ingests: 1 }));
    assert.deepEqual(sum.total, usage({ bytes: 1510, objects: 3, requests: 4, ingests: 1, searches: 2 }));
    // A third origin starting now reads the same totals.
    const third = new Tenancy({ store, originId: 'north', now, flushMs: 0 });
    assert.deepEqual(await third.ledger.current('acme'), sum.total);
    await third.close(); // it counted nothing, so it wrote no batch
    assert.equal(
      existsSync(join(dir, 'two-origins', 'buckets', 'dreamdb', 'tenants', 'acme', 'usage', 'north')),
      false,
    );
  } finally {
    await store.close();
  }
});

test("an origin sees its own counts at once and another origin's within refreshMs after they are flushed", async () => {
  const store = new MemoryStore();
  let t = 0;
  const now = () => t;
  const a = new UsageLedger({ store, originId: 'a', now, refreshMs: 10_000, flushMs: 0 });
  const b = new UsageLedger({ store, originId: 'b', now, refreshMs: 10_000, flushMs: 0 });
  assert.deepEqual(await a.current('acme'), usage({}));
  a.add('acme', 'lab', { bytes: 100, objects: 1 });
  b.add('acme', 'lab', { bytes: 7, objects: 1 });
  assert.equal((await a.current('acme', 'lab')).bytes, 100);
  await b.flush();
  await a.flush();
  // a's own flushed counts stay counted (in `flushed`) until its next read; b's are not read yet.
  assert.equal((await a.current('acme')).bytes, 100);
  t += 10_000;
  await a.current('acme'); // stale: a read starts in the background
  await a.refresh('acme');
  assert.equal((await a.current('acme')).bytes, 107);
  assert.equal((await a.current('acme', 'other')).bytes, 0);
  // Adds made while a flush is in flight are neither lost nor written twice.
  a.add('acme', 'lab', { requests: 1 });
  const flushing = a.flush();
  a.add('acme', 'lab', { requests: 1 });
  await flushing;
  await a.close();
  await b.close();
  assert.deepEqual((await sumUsage(store, 'acme')).total, usage({ bytes: 107, objects: 2, requests: 2 }));
});

test('a failed flush keeps its counts for the next one', async () => {
  const inner = new MemoryStore();
  let failing = true;
  const store = Object.assign(Object.create(inner) as MemoryStore, {
    put: (key: string, body: Uint8Array, options?: PutOptions) =>
      failing ? Promise.reject(new EngineError('E_STORE', 'down')) : inner.put(key, body, options),
  });
  const ledger = new UsageLedger({ store, originId: 'o1', flushMs: 0 });
  ledger.add('acme', 'lab', { bytes: 5, objects: 1 });
  await assert.rejects(ledger.flush(), /E_STORE: down/);
  failing = false;
  await ledger.close();
  assert.deepEqual((await sumUsage(inner, 'acme')).total, usage({ bytes: 5, objects: 1 }));
});

test('admit applies the tenant and space rates (429 with Retry-After) and counts requests', async () => {
  const store = new MemoryStore();
  await writeTenant(store, newTenant('acme', { requestsPerSecond: 2 }));
  await claimSpace(store, 'lab', 'acme');
  await updateTenant(store, 'acme', (r) => ({ ...r, spaces: { lab: { requestsPerSecond: 1 } } }));
  let t = 1_000_000;
  const tenancy = new Tenancy({ store, originId: 'o1', now: () => t, flushMs: 0 });
  assert.equal(await tenancy.tenantOf('lab'), 'acme');
  // The space's burst is 2 (1/s).
  await tenancy.admit('acme', 'lab');
  await tenancy.admit('acme', 'lab');
  await assert.rejects(tenancy.admit('acme', 'lab'), (error: unknown) => {
    assert.ok(error instanceof RateLimitedError);
    assert.equal(error.code, 'E_RATE_LIMITED');
    assert.equal(error.retryAfterSeconds, 1);
    assert.match(error.message, /space lab of tenant acme is over its rate of 1 requests\/s/);
    return true;
  });
  // The tenant's burst is 4 (2/s): two more on another space, then refused by the tenant's bucket.
  await tenancy.admit('acme', 'other');
  await assert.rejects(tenancy.admit('acme', 'other'), /tenant acme is over its rate of 2 requests\/s/);
  t += 1000;
  await tenancy.admit('acme', 'lab');
  assert.equal((await tenancy.ledger.current('acme', 'lab')).requests, 3);
  await tenancy.close();
});

test('ingest slots keep the concurrent-ingests quota; releasing twice frees one slot', async () => {
  const store = new MemoryStore();
  await writeTenant(store, newTenant('acme', { ingests: 2 }));
  const tenancy = new Tenancy({ store, originId: 'o1', flushMs: 0 });
  const one = await tenancy.ingest('acme');
  const two = await tenancy.ingest('acme');
  await assert.rejects(tenancy.ingest('acme'), (error: unknown) => {
    assert.ok(error instanceof RateLimitedError);
    assert.match(error.message, /tenant acme has 2 ingests running, its quota of concurrent ingests is 2/);
    assert.ok(error.retryAfterSeconds >= 1);
    return true;
  });
  one();
  one();
  const three = await tenancy.ingest('acme');
  await assert.rejects(tenancy.ingest('acme'), /E_RATE_LIMITED/);
  two();
  three();
  // A tenant with no record has no quotas.
  await Promise.all(Array.from({ length: 10 }, () => tenancy.ingest('nobody')));
  await tenancy.close();
});

test("tenantOf: an owner is cached for good, an unclaimed space (the default tenant's) is looked up again after refreshMs", async () => {
  const store = new MemoryStore();
  await writeTenant(store, newTenant('acme'));
  let t = 0;
  let gets = 0;
  const counting = Object.assign(Object.create(store) as MemoryStore, {
    get: (key: string) => {
      gets++;
      return store.get(key);
    },
  });
  const tenancy = new Tenancy({ store: counting, originId: 'o1', now: () => t, refreshMs: 1000, flushMs: 0 });
  assert.equal(await tenancy.tenantOf('lab'), 'default'); // nobody claimed it (spec 0018 §3)
  await claimSpace(store, 'lab', 'acme');
  assert.equal(await tenancy.tenantOf('lab'), 'default'); // still the cached answer
  t += 1000;
  assert.equal(await tenancy.tenantOf('lab'), 'acme');
  const before = gets;
  t += 1_000_000;
  assert.equal(await tenancy.tenantOf('lab'), 'acme');
  assert.equal(gets, before);
  await tenancy.close();
});

test("a read that finds many of this origin's batches folds them into one, and the sum stays", async () => {
  const store = new MemoryStore();
  let t = 1000;
  const ledger = new UsageLedger({ store, originId: 'o1', now: () => t, flushMs: 0, compactAfter: 4 });
  for (let i = 0; i < 6; i++) {
    ledger.add('acme', 'lab', { bytes: 10, requests: 1 });
    await ledger.flush();
    t += 10;
  }
  await ledger.refresh('acme');
  assert.deepEqual(await ledger.current('acme'), usage({ bytes: 60, requests: 6 }));
  const keys = (await store.list('tenants/acme/usage/o1/')).objects.map((o) => o.key);
  assert.deepEqual(keys, ['tenants/acme/usage/o1/00000000000000001000-0c1']);
  await ledger.refresh('acme');
  assert.deepEqual(await ledger.current('acme'), usage({ bytes: 60, requests: 6 }));
  await ledger.close();
});
