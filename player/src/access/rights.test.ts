import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessDoc } from '@dreamdb/engine/api';
import {
  allows,
  clampTick,
  matches,
  mayWriteBranch,
  normalizeAccess,
  OPEN_ACCESS,
  soleBranch,
  windowOn,
} from './rights.js';

const token = (doc: Partial<AccessDoc>): AccessDoc => ({
  mode: 'token',
  rights: ['read'],
  spaces: ['*'],
  refs: ['*'],
  ...doc,
});

test('a pattern is a name, a prefix ending in *, or * for any', () => {
  assert.equal(matches('main', 'main'), true);
  assert.equal(matches('main', 'main2'), false);
  assert.equal(matches('main', 'mai'), false);
  assert.equal(matches('heads/*', 'heads/ann'), true);
  assert.equal(matches('heads/*', 'heads/'), true);
  assert.equal(matches('heads/*', 'heads'), false);
  assert.equal(matches('heads/*', 'tags/v1'), false);
  assert.equal(matches('heads/a*', 'heads/ann'), true);
  assert.equal(matches('heads/a*', 'heads/bob'), false);
  assert.equal(matches('*', 'anything/at/all'), true);
  assert.equal(matches('*', ''), true);
  // A * elsewhere than at the end is no wildcard: the name must be the same.
  assert.equal(matches('he*ds/ann', 'heads/ann'), false);
  assert.equal(matches('he*ds/ann', 'he*ds/ann'), true);
});

test('allows: the right, and a ref and space matching one of their patterns', () => {
  const doc = token({ rights: ['read', 'write'], spaces: ['demo', 'lab-*'], refs: ['main', 'heads/*'] });
  assert.equal(allows(doc, 'read', 'main'), true);
  assert.equal(allows(doc, 'write', 'heads/ann'), true);
  assert.equal(allows(doc, 'write', 'tags/v1'), false);
  assert.equal(allows(doc, 'merge', 'main'), false);
  assert.equal(allows(doc, 'ingest', 'main'), false);
  assert.equal(allows(doc, 'read', 'main', 'demo'), true);
  assert.equal(allows(doc, 'read', 'main', 'lab-7'), true);
  assert.equal(allows(doc, 'read', 'main', 'other'), false);
  // Without a ref or space: whether the right is granted at all.
  assert.equal(allows(doc, 'write'), true);
  assert.equal(allows(doc, 'admin'), false);
});

test('open mode allows everything everywhere', () => {
  for (const right of ['read', 'write', 'merge', 'ingest', 'admin'] as const)
    assert.equal(allows(OPEN_ACCESS, right, 'heads/anyone', 'any-space'), true);
});

test('no patterns allow nothing', () => {
  assert.equal(allows(token({ refs: [] }), 'read', 'main'), false);
  assert.equal(allows(token({ spaces: [] }), 'read', 'main', 'demo'), false);
});

test('annotating needs write on some user branch; one exact branch fixes the user name', () => {
  assert.equal(mayWriteBranch(token({ rights: ['read'] })), false);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'] })), true);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], refs: ['main'] })), false);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], refs: ['main', 'heads/*'] })), true);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], refs: ['h*'] })), true);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], refs: ['heads/'] })), false);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], refs: ['heads/ann'] })), true);
  assert.equal(mayWriteBranch(token({ rights: ['read', 'write'], spaces: ['demo'] }), 'other'), false);

  assert.equal(soleBranch(token({ refs: ['main', 'heads/ann'] })), 'ann');
  assert.equal(soleBranch(token({ refs: ['main', 'heads/ann', 'heads/bob'] })), undefined);
  assert.equal(soleBranch(token({ refs: ['heads/ann', 'heads/*'] })), undefined);
  assert.equal(soleBranch(token({ refs: ['*'] })), undefined);
  assert.equal(soleBranch(token({ refs: ['main'] })), undefined);
});

test('a window is ticks on one timeline; the playhead is kept inside it', () => {
  const doc = token({ window: { timeline: 'cam', from: '60000000000', to: '90000000000' } });
  const w = windowOn(doc, 'cam');
  assert.deepEqual(w, { from: 60_000_000_000n, to: 90_000_000_000n });
  assert.equal(windowOn(doc, 'other'), undefined);
  assert.equal(windowOn(token({}), 'cam'), undefined);
  // Malformed or empty windows are no window (the origin decides what it serves either way).
  assert.equal(windowOn(token({ window: { timeline: 'cam', from: '-1', to: '5' } }), 'cam'), undefined);
  assert.equal(windowOn(token({ window: { timeline: 'cam', from: '5', to: '5' } }), 'cam'), undefined);

  assert.equal(clampTick(0n, w), 60_000_000_000n);
  assert.equal(clampTick(75_000_000_000n, w), 75_000_000_000n);
  assert.equal(clampTick(90_000_000_000n, w), 89_999_999_999n);
  assert.equal(clampTick(500_000_000_000n, w), 89_999_999_999n);
  assert.equal(clampTick(500n, undefined), 500n);
});

test('an answer that is not an access document counts as open; unknown rights are dropped', () => {
  assert.deepEqual(normalizeAccess({}), OPEN_ACCESS);
  assert.deepEqual(normalizeAccess(null), OPEN_ACCESS);
  assert.deepEqual(normalizeAccess('<!doctype html>'), OPEN_ACCESS);
  const doc = normalizeAccess({ mode: 'token', rights: ['read', 'fly', 7], spaces: ['demo'], refs: 'main' });
  assert.deepEqual(doc.rights, ['read']);
  assert.deepEqual(doc.spaces, ['demo']);
  assert.deepEqual(doc.refs, []);
});
