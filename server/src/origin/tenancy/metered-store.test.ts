import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, hashBytes } from '@dreamdb/engine';
import { claimSpace, newTenant, sumUsage, updateTenant, writeTenant } from '@dreamdb/engine/access';
import { MemoryStore, objectKey, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, Writer } from '@dreamdb/engine/write';
import { Tenancy } from './quotas.js';

const MS = 1_000_000n;

async function setup(quotas: { bytes?: number; objects?: number } = {}) {
  const plain = new MemoryStore();
  await writeTenant(plain, newTenant('acme', quotas));
  await claimSpace(plain, 'lab', 'acme');
  const tenancy = new Tenancy({ store: plain, originId: 'o1', flushMs: 0 });
  return { plain, tenancy };
}

const quotaError = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(error.code, 'E_QUOTA');
  assert.match(error.message, pattern);
  return true;
};

test('new objects count their bytes and one object; rewrites and deletes of gone keys count nothing', async () => {
  const { plain, tenancy } = await setup();
  const space = new SpaceStore(tenancy.store, 'lab');
  const a = new Uint8Array(1000).fill(1);
  const b = new Uint8Array(234).fill(2);
  const ha = await space.putObject(a);
  await space.putObject(b);
  await space.putObject(a); // already there: the 412 is a success, and nothing more is counted
  // One new object written twice at once is counted once.
  const c = new Uint8Array(66).fill(9);
  await Promise.all([space.putObject(c), space.putObject(c), space.putObject(c)]);
  await tenancy.store.delete(objectKey('lab', hashBytes(c)));
  assert.deepEqual(await tenancy.ledger.current('acme', 'lab'), {
    bytes: 1234,
    objects: 2,
    requests: 0,
    ingests: 0,
    searches: 0,
  });
  // Keys outside objects/ are not metered; a space nobody claimed is the default tenant's (spec 0018 §3),
  // or nobody's when the origin turns that off.
  await tenancy.store.put('spaces/lab/refs/main', new Uint8Array(70));
  await new SpaceStore(tenancy.store, 'unclaimed').putObject(new Uint8Array(50));
  assert.equal((await tenancy.ledger.current('acme')).bytes, 1234);
  assert.equal((await tenancy.ledger.current('default', 'unclaimed')).bytes, 50);
  const unmetered = new Tenancy({ store: plain, originId: 'o2', flushMs: 0, defaultTenant: null });
  await new SpaceStore(unmetered.store, 'unclaimed').putObject(new Uint8Array(51));
  assert.equal((await unmetered.ledger.current('default')).bytes, 0);
  await unmetered.close();
  // A delete takes the object's size off (it asks the size first); deleting it again takes nothing.
  await tenancy.store.delete(objectKey('lab', ha));
  await tenancy.store.delete(objectKey('lab', ha));
  assert.deepEqual(await tenancy.ledger.current('acme', 'lab'), {
    bytes: 234,
    objects: 1,
    requests: 0,
    ingests: 0,
    searches: 0,
  });
  await tenancy.close();
  // close() wrote the counts as one batch.
  const sum = await sumUsage(plain, 'acme');
  assert.equal(sum.total.bytes, 234);
  assert.equal(sum.total.objects, 1);
  assert.equal(sum.batches, 1);
});

test('a write over the bytes quota is refused before anything is written', async () => {
  const { plain, tenancy } = await setup({ bytes: 1500 });
  const space = new SpaceStore(tenancy.store, 'lab');
  await space.putObject(new Uint8Array(1000).fill(1));
  const big = new Uint8Array(600).fill(3);
  const key = objectKey('lab', hashBytes(big));
  await assert.rejects(
    space.putObject(big),
    quotaError(
      /tenant acme is over its bytes quota: 1000 of 1500 bytes used, an object of 600 bytes would make 1600/,
    ),
  );
  await assert.rejects(plain.head(key), /E_NOT_FOUND/); // the key is absent afterwards
  assert.equal((await tenancy.ledger.current('acme')).bytes, 1000);
  // A smaller object still fits; writing bytes already stored is never refused (it adds nothing).
  await space.putObject(new Uint8Array(500).fill(4));
  await space.putObject(new Uint8Array(1000).fill(1));
  await assert.rejects(space.putObject(new Uint8Array(1).fill(5)), quotaError(/1500 of 1500 bytes used/));
  await tenancy.close();
});

test("a space's own quotas, and objects quotas, are kept too; concurrent writes cannot overshoot", async () => {
  const { plain, tenancy } = await setup({ objects: 100 });
  await updateTenant(plain, 'acme', (r) => ({ ...r, spaces: { ...r.spaces, lab: { objects: 3 } } }));
  const space = new SpaceStore(tenancy.store, 'lab');
  // Ten writes at once against 3 objects: exactly 3 land.
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => space.putObject(new Uint8Array([i, 1, 2]))),
  );
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  const refusal = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.match(
    refusal.reason.message,
    /E_QUOTA: space lab of tenant acme is over its objects quota: 3 of 3 objects/,
  );
  assert.equal((await plain.list('spaces/lab/objects/')).objects.length, 3);
  await tenancy.close();
});

test('a publish over quota fails before its manifest and ref: the ref does not move', async () => {
  const { plain, tenancy } = await setup();
  const session = new Session(new SpaceStore(tenancy.store, 'lab'));
  const items = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      tick: BigInt(from + i) * 100n * MS,
      payload: { v: from + i, text: 'x'.repeat(200) },
    }));
  const writer = new Writer().timeline({ name: 'run' }).track({
    timeline: 'run',
    name: 'ev',
    kind: 'event',
    modality: 'sensor.imu',
    bucketDuration: 1000n * MS,
  });
  writer.write('run', 'ev', items(0, 50));
  const first = await publish(session, writer, { ref: 'main' });
  const used = (await tenancy.ledger.current('acme')).bytes;
  assert.ok(used > 10_000, `${used} bytes`);
  // Now a quota just over what is stored, and a publish of as much again.
  await updateTenant(plain, 'acme', (r) => ({ ...r, quotas: { bytes: used + 100 } }));
  tenancy.quotas.invalidate('acme');
  const next = new Writer(await session.resolve('main'));
  next.write('run', 'ev', items(50, 50));
  await assert.rejects(
    publish(session, next, { ref: 'main' }),
    quotaError(/tenant acme is over its bytes quota/),
  );
  const main = await new Session(new SpaceStore(plain, 'lab')).resolve('main');
  assert.equal(Buffer.from(main!.hash).toString('hex'), Buffer.from(first.hash).toString('hex'));
  await tenancy.close();
});
