/** Quotas and usage applied by a real origin over a real file store, reached over loopback HTTP. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  claimSpace,
  issueToken,
  keyId,
  newIssuerKey,
  newTenant,
  sumUsage,
  writeTenant,
} from '@dreamdb/engine/access';
import { FsStore } from '@dreamdb/engine/node';
import { serve } from '@hono/node-server';
import { createOrigin, type Origin } from '../app.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-tenancy-origin-'));
const issuer = newIssuerKey();
const exp = Math.floor(Date.now() / 1000) + 600;
const tokenOf = (tenant: string) =>
  issueToken(issuer, { tenant, rights: ['read', 'write'], spaces: ['*'], exp });
let store: FsStore;
let origin: Origin;
let base = '';
let close = async () => {};

before(async () => {
  store = await FsStore.open(join(dir, 'store'));
  await writeTenant(store, newTenant('acme', { requestsPerSecond: 2 }));
  await writeTenant(store, newTenant('tiny', { bytes: 20_000 }));
  await claimSpace(store, 'a1', 'acme');
  await claimSpace(store, 't1', 'tiny');
  origin = createOrigin({
    store,
    issuers: new Map([[keyId(issuer.publicKey), issuer.publicKey]]),
    tenancy: { originId: 'o1', flushMs: 60_000 },
  });
  const server = serve({ fetch: origin.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  };
});
after(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

const publish = (space: string, token: string, text: string) =>
  fetch(`${base}/v0/spaces/${space}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ref: 'main',
      timelines: [{ name: 's1', genesis: '1795600000000000000' }],
      tracks: [{ timeline: 's1', name: 'notes', kind: 'event', modality: 'event.annotation', indexes: {} }],
      writes: [{ timeline: 's1', track: 'notes', items: [{ tick: '1s', payload: { text } }] }],
    }),
  });

test('over its request rate a tenant gets 429 with Retry-After; another tenant is not slowed', async () => {
  const acme = { authorization: `Bearer ${tokenOf('acme')}` };
  const statuses: number[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < 8; i++) {
    const r = await fetch(`${base}/v0/spaces/a1/refs`, { headers: acme });
    statuses.push(r.status);
    if (r.status === 429) refused ??= r;
    else await r.arrayBuffer();
  }
  // A burst of twice the rate (2/s) passes, then the bucket is empty.
  assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
  assert.ok(refused, statuses.join(','));
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.match(
    ((await refused.json()) as { message: string }).message,
    /tenant acme is over its rate of 2 requests\/s/,
  );
  // tiny has no rate quota: its requests pass meanwhile.
  const other = await fetch(`${base}/v0/spaces/t1/refs`, {
    headers: { authorization: `Bearer ${tokenOf('tiny')}` },
  });
  assert.equal(other.status, 200);
});

test('over its storage quota a publish is refused before its ref moves, and the usage adds up', async () => {
  const tiny = tokenOf('tiny');
  const small = await publish('t1', tiny, 'fits');
  assert.equal(small.status, 200, await small.clone().text());
  const first = ((await small.json()) as { manifest: string }).manifest;
  const big = await publish('t1', tiny, 'x'.repeat(40_000));
  const body = (await big.json()) as { error: string; message: string };
  assert.equal(big.status, 507, JSON.stringify(body));
  assert.equal(body.error, 'E_QUOTA');
  assert.match(body.message, /tiny/);
  // The ref is where the first publish put it.
  const ref = (await (
    await fetch(`${base}/v0/spaces/t1/refs/main`, { headers: { authorization: `Bearer ${tiny}` } })
  ).json()) as {
    manifest: string;
  };
  assert.equal(ref.manifest, first);
  await origin.close();
  const usage = await sumUsage(store, 'tiny');
  assert.ok(usage.total.bytes > 0 && usage.total.bytes <= 20_000, JSON.stringify(usage.total));
  assert.ok(usage.total.objects >= 3);
  assert.ok(usage.total.requests >= 3);
  assert.ok((await sumUsage(store, 'acme')).total.requests >= 4);
});
