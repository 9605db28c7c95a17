import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliProcesses } from '../testing/processes.js';

const { dir, dreamdb } = cliProcesses('delete');
const store = join(dir, 'store');
const run = (args: string[], input?: string) =>
  dreamdb([...args, '--store', store, '--space', 'lab'], input === undefined ? {} : { input });
const json = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const ticks = () => {
  const out = run(['range', '--timeline', 's1', '--tracks', 'notes', '--from', '0s', '--to', '100s']);
  assert.equal(out.code, 0, out.stderr);
  return json(out.stdout).map((l: { tick: string }) => Number(BigInt(l.tick) / 1_000_000_000n));
};

test('dreamdb delete, delete --erase, compact and erase: items go, history answers E_ERASED, fsck stays clean', () => {
  const lines = [1, 2, 3, 4, 5, 6]
    .map((s) => JSON.stringify({ tick: `${s}s`, payload: { label: s === 5 ? 'zqx4242' : `note ${s}` } }))
    .join('\n');
  const written = run(['write', '--timeline', 's1', '--track', 'notes'], lines);
  assert.equal(written.code, 0, written.stderr);
  const first = JSON.parse(written.stdout).manifest as string;

  const one = run([
    'delete',
    '--timeline',
    's1',
    '--track',
    'notes',
    '--tick',
    '3s',
    '--message',
    'wrong mark',
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout).tombstones, [
    { timeline: 's1', track: 'notes', from: '3000000000', to: '3000000001', count: 1 },
  ]);
  assert.deepEqual(ticks(), [1, 2, 4, 5, 6]);

  const erased = run([
    'delete',
    '--timeline',
    's1',
    '--track',
    'notes',
    '--from',
    '5s',
    '--to',
    '6s',
    '--erase',
  ]);
  assert.equal(erased.code, 0, erased.stderr);
  const doc = JSON.parse(erased.stdout);
  assert.equal(doc.deleted, 1);
  assert.ok(doc.erasure.buckets >= 1 && doc.erasure.manifests >= 3, erased.stdout);
  assert.deepEqual(ticks(), [1, 2, 4, 6]);
  // The first version still has note 3; note 5 is erased there too.
  const old = run(['read', '--timeline', 's1', '--track', 'notes', '--tick', '3s', '--manifest', first]);
  assert.equal(old.code, 0, `${old.stdout} ${old.stderr}`);
  assert.equal(json(old.stdout)[0].payload.label, 'note 3');
  const gone = run(['read', '--timeline', 's1', '--track', 'notes', '--tick', '5s', '--manifest', first]);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /E_ERASED/);

  const none = run(['delete', '--timeline', 's1', '--track', 'notes', '--from', '50s', '--to', '60s']);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(JSON.parse(none.stdout), { manifest: null, deleted: 0, tombstones: [] });
  const missing = run(['delete', '--timeline', 's1', '--track', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /E_NOT_FOUND.*s1\/nope/);
  const both = run(['delete', '--timeline', 's1', '--track', 'notes', '--tick', '1s', '--from', '0s']);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /--tick, or --from and --to/);

  const compacted = run(['compact']);
  assert.equal(compacted.code, 0, compacted.stderr);
  assert.equal(JSON.parse(compacted.stdout).buckets, 1);
  assert.deepEqual(ticks(), [1, 2, 4, 6]);
  const again = run(['erase', '--manifest', doc.manifest]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).buckets, 0);
  const fsck = dreamdb(['fsck', '--store', store]);
  assert.equal(fsck.code, 0, `${fsck.stdout}${fsck.stderr}`);
});
