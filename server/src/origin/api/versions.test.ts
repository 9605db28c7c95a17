import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeCanonical } from '@dreamdb/engine';
import { MemoryStore } from '@dreamdb/engine/store';
import { serve } from '@hono/node-server';
import { createOrigin } from '../app.js';

/**
 * The versioning routes over real HTTP on loopback: refs listed, created (create-only) and deleted,
 * log, merge (fast-forward, merge manifest, 409 with the conflicts and nothing moved), diff, and every
 * read route at any version through ?ref= (a branch or a manifest hash).
 */

let base = '';
let stop: () => Promise<void>;

before(async () => {
  const server = serve({
    fetch: createOrigin({ store: new MemoryStore() }).fetch,
    hostname: '127.0.0.1',
    port: 0,
  });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v0/spaces`;
  stop = () => new Promise((resolve) => server.close(() => resolve()));
});
after(() => stop());

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted
type Answer = { status: number; json: any };

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  return { status: response.status, json: await response.json() };
}

const notes = (items: Record<number, string>) =>
  Object.entries(items).map(([t, label]) => ({ tick: `${t}s`, payload: { label } }));
const publish = (ref: string, items: Record<number, string>, extra: Record<string, unknown> = {}) =>
  call('POST', '/lab/publish', {
    ref,
    writes: [{ timeline: 's1', track: 'notes', items: notes(items) }],
    ...extra,
  });
const labels = async (ref: string) => {
  const { json } = await call(
    'GET',
    `/lab/timelines/s1/items?from=0s&to=1000s&ref=${encodeURIComponent(ref)}`,
  );
  return Object.fromEntries(
    json.items.map((i: { tick: string; payload: { label: string } }) => [
      Number(BigInt(i.tick) / 1_000_000_000n),
      i.payload.label,
    ]),
  );
};

test('refs, merge, log and diff over HTTP; a conflicting merge is a 409 listing both values, and nothing moves', async () => {
  const first = await call('POST', '/lab/publish', {
    ref: 'main',
    timelines: [{ name: 's1' }],
    tracks: [{ timeline: 's1', name: 'notes', kind: 'event', modality: 'event.annotation' }],
    writes: [{ timeline: 's1', track: 'notes', items: notes({ 1: 'one', 2: 'two' }) }],
  });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  const root = first.json.manifest;

  const created = await call('POST', '/lab/refs', { name: 'team-a' });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.json.ref, 'heads/team-a');
  const twice = await call('POST', '/lab/refs', { name: 'refs/heads/team-a' });
  assert.equal(twice.status, 409);
  assert.equal(twice.json.current, root);
  assert.equal((await call('POST', '/lab/refs', { name: 'team-b', at: root })).status, 201);
  assert.equal((await call('POST', '/lab/refs', { name: 'v1', tag: true })).status, 201);
  const listed = await call('GET', '/lab/refs');
  assert.deepEqual(
    listed.json.refs.map((r: { name: string; kind: string }) => [r.name, r.kind]),
    [
      ['heads/team-a', 'branch'],
      ['heads/team-b', 'branch'],
      ['main', 'main'],
      ['tags/v1', 'tag'],
    ],
  );

  assert.equal((await publish('heads/team-a', { 3: 'from a' })).status, 200);
  assert.equal((await publish('heads/team-b', { 4: 'from b' })).status, 200);
  // Any read route at any version: a branch by name (URL-encoded) or a manifest hash.
  assert.deepEqual(await labels('heads/team-a'), { 1: 'one', 2: 'two', 3: 'from a' });
  assert.deepEqual(await labels(root), { 1: 'one', 2: 'two' });

  const ff = await call('POST', '/lab/merge', { from: 'heads/team-a' });
  assert.equal(ff.status, 200, JSON.stringify(ff.json));
  assert.equal(ff.json.outcome, 'fast-forward');
  const merged = await call('POST', '/lab/merge', { into: 'main', from: ['heads/team-b'], message: 'b in' });
  assert.equal(merged.json.outcome, 'merge');
  assert.equal(merged.json.parents.length, 2);
  assert.deepEqual(merged.json.bases, [[root]]);
  assert.deepEqual(await labels('main'), { 1: 'one', 2: 'two', 3: 'from a', 4: 'from b' });

  const history = await call('GET', '/lab/log?limit=2');
  assert.deepEqual(
    history.json.entries.map((e: { message?: string }) => e.message ?? null),
    ['b in', null],
  );
  const diff = await call('GET', `/lab/diff?from=${root}&to=main`);
  assert.deepEqual(
    diff.json.tracks.map((t: { track: string; added: number; items: { change: string }[] }) => [
      t.track,
      t.added,
      t.items.length,
    ]),
    [['notes', 2, 2]],
  );

  // CBOR answers carry the same documents.
  const cbor = await fetch(`${base}/lab/log?limit=1`, { headers: { accept: 'application/cbor' } });
  assert.equal(
    (decodeCanonical(new Uint8Array(await cbor.arrayBuffer())) as { entries: unknown[] }).entries.length,
    1,
  );

  // A conflict: both sides change second 2.
  assert.equal((await call('POST', '/lab/refs', { name: 'team-c' })).status, 201);
  await publish('main', { 2: 'main edit' });
  await publish('heads/team-c', { 2: 'c edit' });
  const before = (await call('GET', '/lab/refs/main')).json.manifest;
  const conflict = await call('POST', '/lab/merge', { from: 'heads/team-c' });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.json.error, 'E_CONFLICT');
  assert.equal(conflict.json.conflictCount, 1);
  const [c] = conflict.json.conflicts;
  assert.equal(c.track, 'notes');
  assert.equal(c.tick, '2000000000');
  assert.deepEqual(
    [c.base.payload.label, c.ours.payload.label, c.theirs.payload.label],
    ['two', 'main edit', 'c edit'],
  );
  assert.match(c.ours.url, /^\/objects\/lab\//);
  assert.equal((await call('GET', '/lab/refs/main')).json.manifest, before);

  // Deleting: an unmerged branch needs force; a tag and main never go.
  assert.equal((await call('DELETE', '/lab/refs/heads/team-c')).status, 412);
  assert.equal((await call('DELETE', '/lab/refs/tags/v1')).status, 403);
  assert.equal((await call('DELETE', '/lab/refs/main')).status, 403);
  assert.equal((await call('DELETE', '/lab/refs/heads/team-c?force=true')).status, 200);
  assert.equal((await call('DELETE', '/lab/refs/heads/team-a')).status, 200);
  assert.equal((await call('GET', '/lab/refs/heads/team-a')).status, 404);

  const bad = await call('POST', '/lab/merge', { from: [] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /from/);
  assert.equal((await call('GET', '/lab/diff')).status, 400);
  assert.equal((await call('GET', '/lab/log?limit=0')).status, 400);
});

test('publish {rebase: true}: a batch built on an old version is merged onto the ref; a conflicting one is a 409', async () => {
  const first = await call('POST', '/r/publish', {
    ref: 'main',
    timelines: [{ name: 's1' }],
    tracks: [{ timeline: 's1', name: 'notes', kind: 'event', modality: 'event.annotation' }],
    writes: [{ timeline: 's1', track: 'notes', items: notes({ 1: 'one' }) }],
  });
  const base = first.json.manifest;
  const write = (items: Record<number, string>, extra: Record<string, unknown>) =>
    call('POST', '/r/publish', {
      ref: 'main',
      base,
      writes: [{ timeline: 's1', track: 'notes', items: notes(items) }],
      ...extra,
    });
  assert.equal((await write({ 2: 'ana' }, {})).status, 200);
  // Built on the same base after ana's publish: refused without rebase, merged with it.
  const plain = await write({ 3: 'ben' }, {});
  assert.equal(plain.status, 409);
  const rebased = await write({ 3: 'ben' }, { rebase: true });
  assert.equal(rebased.status, 200, JSON.stringify(rebased.json));
  assert.equal(rebased.json.rebased, true);
  assert.equal(rebased.json.parents.length, 1);
  const { json } = await call('GET', '/r/timelines/s1/items?from=0s&to=10s');
  assert.deepEqual(
    json.items.map((i: { payload: { label: string } }) => i.payload.label),
    ['one', 'ana', 'ben'],
  );
  const clash = await write({ 2: 'cy' }, { rebase: true });
  assert.equal(clash.status, 409);
  assert.equal(clash.json.conflicts[0].theirs.payload.label, 'cy');
  const bad = await write({ 4: 'x' }, { rebase: true, expect: base });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message, /rebase/);
});
