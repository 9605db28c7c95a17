import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startStoreServer } from '@dreamdb/engine/node';

const BIN = fileURLToPath(new URL('../../../bin/dreamdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-versions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** Run the CLI on a store and wait for it. */
function dreamdb(store: string, args: string[], input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--store', store, '--space', 'lab'], {
    encoding: 'utf8',
    ...(input !== undefined && { input }),
  });
  return { code: result.status, lines: parse(result.stdout), stderr: result.stderr };
}

/** Run the CLI as a separate process, without waiting. */
function dreamdbAsync(
  store: string,
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--store', store, '--space', 'lab']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const notes = (ticks: number[], label: (t: number) => string) =>
  ticks.map((t) => JSON.stringify({ tick: `${t}s`, payload: { label: label(t) } })).join('\n');
const write = (ref: string, extra: string[] = []) => [
  'write',
  '--timeline',
  's1',
  '--track',
  'notes',
  '--ref',
  ref,
  ...extra,
];

const rangeArgs = (version: string) => [
  'range',
  '--timeline',
  's1',
  '--tracks',
  'notes',
  '--from',
  '0s',
  '--to',
  '100000s',
  ...(/^1e20/.test(version) ? ['--manifest', version] : ['--ref', version]),
];
const labels = (lines: { tick: string; payload: { label: string } }[]): Record<number, string> =>
  Object.fromEntries(lines.map((l) => [Number(BigInt(l.tick) / 1_000_000_000n), l.payload.label]));

/** Labels of a version's notes by second. */
function labelsOf(store: string, version = 'main'): Record<number, string> {
  const page = dreamdb(store, rangeArgs(version));
  assert.equal(page.code, 0, page.stderr);
  return labels(page.lines);
}

test('dreamdb branch, write, merge, log, diff and tag: a fork merged, a conflict refused with both values', () => {
  const store = join(dir, 'cli');
  assert.equal(
    dreamdb(
      store,
      write('main'),
      notes([1, 2], (t) => `n${t}`),
    ).code,
    0,
  );
  const root = dreamdb(store, ['resolve']).lines[0].manifest;
  assert.equal(dreamdb(store, ['branch', 'create', 'team-a']).code, 0);
  const again = dreamdb(store, ['branch', 'create', 'team-a']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /E_CONFLICT: ref heads\/team-a exists already \(it points at 1e20/);
  assert.equal(dreamdb(store, ['branch', 'create', 'refs/heads/team-b', '--at', root]).code, 0);
  assert.equal(
    dreamdb(
      store,
      write('heads/team-a'),
      notes([3], () => 'from a'),
    ).code,
    0,
  );
  assert.equal(
    dreamdb(
      store,
      write('refs/heads/team-b'),
      notes([4], () => 'from b'),
    ).code,
    0,
  );
  assert.deepEqual(
    dreamdb(store, ['branch', 'list']).lines.map((l) => [l.ref, l.kind]),
    [
      ['heads/team-a', 'branch'],
      ['heads/team-b', 'branch'],
      ['main', 'main'],
    ],
  );
  const ff = dreamdb(store, ['merge', 'team-a']);
  assert.equal(ff.lines[0].outcome, 'fast-forward', ff.stderr);
  const merged = dreamdb(store, ['merge', 'team-b', '--message', 'merge b']);
  assert.equal(merged.lines[0].outcome, 'merge', merged.stderr);
  assert.equal(merged.lines[0].parents.length, 2);
  assert.deepEqual(labelsOf(store), { 1: 'n1', 2: 'n2', 3: 'from a', 4: 'from b' });
  assert.deepEqual(labelsOf(store, root), { 1: 'n1', 2: 'n2' }, 'time travel to the first version');

  const history = dreamdb(store, ['log']);
  assert.equal(history.lines.length, 4);
  assert.equal(history.lines[0].message, 'merge b');
  assert.equal(history.lines[3].manifest, root);
  const diff = dreamdb(store, ['diff', root, 'main']);
  assert.deepEqual(
    diff.lines.map((l) => [l.track, l.added, l.items.map((i: { change: string }) => i.change)]),
    [['notes', 2, ['added', 'added']]],
  );

  // Both sides change second 2: nothing is published, the conflict is printed with both values.
  assert.equal(dreamdb(store, ['branch', 'create', 'team-c']).code, 0);
  assert.equal(
    dreamdb(
      store,
      write('main'),
      notes([2], () => 'main edit'),
    ).code,
    0,
  );
  assert.equal(
    dreamdb(
      store,
      write('heads/team-c'),
      notes([2], () => 'c edit'),
    ).code,
    0,
  );
  const before = dreamdb(store, ['resolve']).lines[0].manifest;
  const conflict = dreamdb(store, ['merge', 'team-c']);
  assert.notEqual(conflict.code, 0);
  assert.match(conflict.stderr, /E_CONFLICT: merge has 1 conflict/);
  assert.deepEqual(conflict.lines[0], {
    conflict: 's1/notes',
    tick: '2000000000',
    hex: '0000000077359400',
    reason: 'changed differently on both sides',
    base: { payload: { label: 'n2' } },
    ours: { payload: { label: 'main edit' } },
    theirs: { payload: { label: 'c edit' } },
  });
  assert.equal(dreamdb(store, ['resolve']).lines[0].manifest, before);

  assert.equal(dreamdb(store, ['tag', 'v1']).code, 0);
  const moved = dreamdb(store, ['publish', '--ref', 'tags/v1', '--from', 'heads/team-c']);
  assert.notEqual(moved.code, 0);
  assert.match(moved.stderr, /tags are created once and never move/);
  const unmerged = dreamdb(store, ['branch', 'delete', 'team-c']);
  assert.match(unmerged.stderr, /not merged into main/);
  assert.equal(dreamdb(store, ['branch', 'delete', 'team-c', '--force']).code, 0);
});

test('separate processes: writers on their own branches while a coordinator merges, and writers racing on main with --rebase, lose nothing', async () => {
  const server = await startStoreServer({ dir: join(dir, 'shared') });
  try {
    const store = `${server.url}/${server.bucket}`;
    assert.equal(
      (
        await dreamdbAsync(
          store,
          write('main'),
          notes([0], () => 'root'),
        )
      ).code,
      0,
    );
    const WRITERS = 3;
    const ROUNDS = 3;
    for (let w = 0; w < WRITERS; w++)
      assert.equal((await dreamdbAsync(store, ['branch', 'create', `w${w}`])).code, 0);
    const expected: Record<number, string> = { 0: 'root' };
    const writer = async (w: number) => {
      for (let r = 0; r < ROUNDS; r++) {
        const ticks = [1000 + w * 100 + r * 10, 1001 + w * 100 + r * 10];
        for (const t of ticks) expected[t] = `w${w} r${r}`;
        const done = await dreamdbAsync(
          store,
          write(`heads/w${w}`),
          notes(ticks, () => `w${w} r${r}`),
        );
        assert.equal(done.code, 0, done.stderr);
      }
    };
    // Racing straight onto main: each publish that loses the compare-and-swap merges onto the winner.
    const racer = async (w: number) => {
      for (let r = 0; r < ROUNDS; r++) {
        const ticks = [5000 + w * 100 + r];
        expected[ticks[0]!] = `racer ${w}`;
        const done = await dreamdbAsync(
          store,
          write('main', ['--rebase']),
          notes(ticks, () => `racer ${w}`),
        );
        assert.equal(done.code, 0, done.stderr);
      }
    };
    let writing = true;
    const coordinator = async () => {
      let merges = 0;
      while (writing) {
        const done = await dreamdbAsync(store, ['merge', 'w0', 'w1', 'w2', '--message', 'coordinator']);
        assert.equal(done.code, 0, done.stderr);
        merges++;
      }
      return merges;
    };
    const coordinating = coordinator();
    await Promise.all([
      ...Array.from({ length: WRITERS }, (_, w) => writer(w)),
      ...Array.from({ length: 2 }, (_, w) => racer(w)),
    ]);
    writing = false;
    assert.ok((await coordinating) >= 1);
    const last = await dreamdbAsync(store, ['merge', 'w0', 'w1', 'w2']);
    assert.equal(last.code, 0, last.stderr);
    const page = await dreamdbAsync(store, rangeArgs('main'));
    assert.equal(page.code, 0, page.stderr);
    assert.deepEqual(labels(parse(page.stdout)), expected);
  } finally {
    await server.close();
  }
});
