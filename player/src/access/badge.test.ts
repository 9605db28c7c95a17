import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessDoc } from '@dreamdb/engine/api';
import { describeAccess } from './badge.js';
import { OPEN_ACCESS } from './rights.js';

const now = new Date('2026-06-01T12:00:00Z');
const token = (doc: Partial<AccessDoc>): AccessDoc => ({
  mode: 'token',
  rights: ['read'],
  spaces: ['*'],
  refs: ['*'],
  ...doc,
});

test('open mode says nothing', () => {
  assert.equal(describeAccess(OPEN_ACCESS, now), '');
});

test('a read-only link with an expiry and a window', () => {
  const doc = token({
    expires: '2026-12-08T14:00:00Z',
    window: { timeline: 'cam', from: '60000000000', to: '90000000000' },
  });
  assert.equal(describeAccess(doc, now), 'read-only · until 2026-12-08 14:00 UTC · cam 1:00.000–1:30.000');
});

test('rights in a fixed order; spaces and refs when restricted; a future start; an expired link', () => {
  const doc = token({
    rights: ['write', 'read'],
    spaces: ['demo'],
    refs: ['main', 'heads/ann'],
    notBefore: '2026-07-01T00:00:00+02:00',
    expires: '2026-05-01T00:00:00Z',
  });
  assert.equal(
    describeAccess(doc, now),
    'read, write · space demo · refs main, heads/ann · from 2026-06-30 22:00 UTC · expired 2026-05-01 00:00 UTC',
  );
  assert.equal(describeAccess(token({ rights: [] }), now), 'no rights');
  // A start already past is not worth saying; an unreadable date is shown as it came.
  assert.equal(
    describeAccess(token({ notBefore: '2026-01-01T00:00:00Z', expires: 'soon' }), now),
    'read-only · until soon',
  );
});
