import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, encodeCanonical } from '../faces/core.js';
import { MemoryStore } from '../store/memory-store.js';
import {
  claimSpace,
  decodeTenant,
  encodeTenant,
  newTenant,
  ownerOf,
  readTenant,
  spaceOwnerKey,
  type TenantRecord,
  tenantKey,
  updateTenant,
  writeTenant,
} from './tenant.js';

const refused = (code: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(error.code, code, error.message);
  assert.match(error.message, pattern);
  return true;
};

test('a TenantRecord round-trips through deterministic CBOR, quotas of 2^32 and over included', () => {
  const record: TenantRecord = {
    v: 1,
    tenant: 'acme',
    quotas: { bytes: 5 * 2 ** 40, objects: 1_000_000, requestsPerSecond: 50, ingests: 2 },
    spaces: { 'cams.north': { bytes: 2 ** 33 }, lab: {} },
  };
  const bytes = encodeTenant(record);
  assert.deepEqual(decodeTenant(bytes), record);
  // The same record, its maps written in another order, gives the same bytes.
  assert.deepEqual(encodeTenant({ ...record, spaces: { lab: {}, 'cams.north': { bytes: 2 ** 33 } } }), bytes);
});

test('bad TenantRecord bytes are refused with errors naming the field', () => {
  const good = { v: 1, tenant: 'acme', quotas: {}, spaces: {} };
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: 2 }, /TenantRecord\.v: expected version 1/],
    [{ ...good, tenant: 'Acme!' }, /TenantRecord\.tenant/],
    [{ ...good, quotas: { bytes: -1 } }, /TenantRecord\.quotas\.bytes: expected an unsigned integer/],
    [{ ...good, quotas: { bytes: 1.5 } }, /TenantRecord\.quotas\.bytes/],
    [{ ...good, quotas: { storage: 1 } }, /TenantRecord\.quotas\.storage: unknown field/],
    [{ ...good, spaces: { lab: { ingests: 'two' } } }, /TenantRecord\.spaces\.lab\.ingests/],
    [{ ...good, spaces: { 'Bad Space': {} } }, /TenantRecord\.spaces\.Bad Space: .* is not a space name/],
    [{ ...good, spaces: [] }, /TenantRecord\.spaces: expected a map/],
    [{ v: 1, tenant: 'acme', quotas: {} }, /TenantRecord\.spaces: is missing/],
    [{ ...good, owner: 'x' }, /TenantRecord\.owner: unknown field/],
  ];
  for (const [value, pattern] of cases)
    assert.throws(() => decodeTenant(encodeCanonical(value)), refused('E_FIELD', pattern));
  assert.throws(
    () => decodeTenant(new Uint8Array([0xa1])),
    (e: unknown) => e instanceof EngineError,
  );
  // The encoder refuses what the decoder would.
  assert.throws(
    () => encodeTenant({ ...good, quotas: { objects: -3 } } as TenantRecord),
    refused('E_FIELD', /quotas\.objects/),
  );
});

test('writeTenant is create-only, then compare-and-swap; a lost race is E_CONFLICT', async () => {
  const store = new MemoryStore();
  assert.equal(await readTenant(store, 'acme'), undefined);
  const etag = await writeTenant(store, newTenant('acme', { bytes: 100 }));
  await assert.rejects(writeTenant(store, newTenant('acme')), refused('E_CONFLICT', /exists already/));
  const read = await readTenant(store, 'acme');
  assert.equal(read?.etag, etag);
  assert.deepEqual(read?.record.quotas, { bytes: 100 });
  const etag2 = await writeTenant(store, { ...read!.record, quotas: { bytes: 200 } }, etag);
  // A writer still holding the first ETag lost the race: nothing is overwritten.
  await assert.rejects(
    writeTenant(store, { ...read!.record, quotas: { bytes: 300 } }, etag),
    refused('E_CONFLICT', /changed since it was read/),
  );
  assert.deepEqual((await readTenant(store, 'acme'))?.record.quotas, { bytes: 200 });
  assert.equal((await readTenant(store, 'acme'))?.etag, etag2);
  // updateTenant retries over concurrent changes: both land.
  await Promise.all([
    updateTenant(store, 'acme', (r) => ({ ...r, quotas: { ...r.quotas, objects: 7 } })),
    updateTenant(store, 'acme', (r) => ({ ...r, quotas: { ...r.quotas, ingests: 3 } })),
  ]);
  assert.deepEqual((await readTenant(store, 'acme'))?.record.quotas, { bytes: 200, objects: 7, ingests: 3 });
  // A record stored under another tenant's key is refused.
  await store.put(tenantKey('other'), encodeTenant(newTenant('acme')));
  await assert.rejects(readTenant(store, 'other'), refused('E_FIELD', /not "other"/));
});

test('a space is claimed once: the owner can claim it again, another tenant is told who owns it', async () => {
  const store = new MemoryStore();
  await assert.rejects(
    claimSpace(store, 'lab', 'acme'),
    refused('E_NOT_FOUND', /tenant acme does not exist/),
  );
  assert.equal(await store.head(spaceOwnerKey('lab')).catch(() => undefined), undefined);
  await writeTenant(store, newTenant('acme'));
  await writeTenant(store, newTenant('globex'));
  assert.equal(await ownerOf(store, 'lab'), undefined);
  const claimed = await claimSpace(store, 'lab', 'acme');
  assert.deepEqual(claimed.record.spaces, { lab: {} });
  assert.equal(await ownerOf(store, 'lab'), 'acme');
  assert.equal(new TextDecoder().decode((await store.get('access/spaces/lab')).body), 'acme');
  await claimSpace(store, 'lab', 'acme'); // idempotent
  await assert.rejects(
    claimSpace(store, 'lab', 'globex'),
    refused('E_CONFLICT', /space lab is owned by tenant acme/),
  );
  assert.equal(await ownerOf(store, 'lab'), 'acme');
  assert.deepEqual((await readTenant(store, 'globex'))?.record.spaces, {});
  // Two tenants racing for one space: exactly one wins.
  const results = await Promise.allSettled([
    claimSpace(store, 'race', 'acme'),
    claimSpace(store, 'race', 'globex'),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  // Quotas set on a space survive a repeated claim.
  await updateTenant(store, 'acme', (r) => ({ ...r, spaces: { ...r.spaces, lab: { bytes: 10 } } }));
  assert.deepEqual((await claimSpace(store, 'lab', 'acme')).record.spaces.lab, { bytes: 10 });
  // A corrupt claim object is an error naming the key, not an owner.
  await store.put(spaceOwnerKey('bad'), new TextEncoder().encode('Not A Name'));
  await assert.rejects(ownerOf(store, 'bad'), refused('E_FIELD', /access\/spaces\/bad/));
  assert.throws(() => spaceOwnerKey('../x'), refused('E_NAME', /space/));
});
