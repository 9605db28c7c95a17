import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeUsageBatch, zeroUsage } from '@dreamdb/engine/access';
import { FsStore } from '@dreamdb/engine/node';
import { runCli } from '../program.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-tenant-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const store = join(dir, 'store');

/** Run the program in this process, capturing what it prints. */
async function dreamdb(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  // The program writes text; the test runner's own messages (bytes) go through untouched.
  process.stdout.write = ((chunk: unknown, ...rest: never[]) => {
    if (typeof chunk !== 'string') return out.call(process.stdout, chunk as Uint8Array, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: never[]) => {
    if (typeof chunk !== 'string') return err.call(process.stderr, chunk as Uint8Array, ...rest);
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runCli([...args, '--store', store]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('dreamdb tenant create, claim, set and show', async () => {
  const created = await dreamdb(
    'tenant',
    'create',
    'acme',
    '--space',
    'lab',
    '--space',
    'cams',
    '--quota-bytes',
    '1000000',
    '--rate',
    '50',
  );
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout), {
    tenant: 'acme',
    quotas: { bytes: 1000000, requestsPerSecond: 50 },
    spaces: { cams: {}, lab: {} },
  });
  const again = await dreamdb('tenant', 'create', 'acme');
  assert.equal(again.code, 2);
  assert.match(again.stderr, /E_CONFLICT: tenant acme exists already/);

  assert.equal((await dreamdb('tenant', 'create', 'globex', '--ingests', '2')).code, 0);
  const taken = await dreamdb('tenant', 'claim', 'globex', 'lab');
  assert.equal(taken.code, 2);
  assert.match(taken.stderr, /E_CONFLICT: space lab is owned by tenant acme/);
  const refusedCreate = await dreamdb('tenant', 'create', 'initech', '--space', 'lab');
  assert.equal(refusedCreate.code, 2);
  assert.match(refusedCreate.stderr, /space lab is owned by tenant acme: nothing was created/);
  assert.match((await dreamdb('tenant', 'show', 'initech')).stderr, /tenant initech does not exist/);
  const claimed = await dreamdb('tenant', 'claim', 'globex', 'depot');
  assert.equal(claimed.stdout, 'space depot is owned by tenant globex\n');

  const set = await dreamdb('tenant', 'set', 'acme', '--space', 'lab', '--quota-objects', '10');
  assert.equal(set.code, 0, set.stderr);
  const lifted = await dreamdb('tenant', 'set', 'acme', '--rate', 'none', '--ingests', '3');
  assert.equal(lifted.code, 0, lifted.stderr);
  const shown = await dreamdb('tenant', 'show', 'acme');
  assert.deepEqual(JSON.parse(shown.stdout), {
    tenant: 'acme',
    quotas: { bytes: 1000000, ingests: 3 },
    spaces: { cams: {}, lab: { objects: 10 } },
  });
  const bad = await dreamdb('tenant', 'create', 'initech', '--quota-bytes', '-5');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--quota-bytes "-5" is not a count/);
  const missing = await dreamdb('tenant', 'show', 'nobody');
  assert.match(missing.stderr, /tenant nobody does not exist/);
});

test('dreamdb usage prints per-space and total usage, as a table or JSON, and compacts', async () => {
  const fs = await FsStore.open(store);
  try {
    for (const [origin, at, bytes] of [
      ['east', 1000, 100],
      ['east', 2000, 50],
      ['west', 1500, 7],
    ] as const)
      await writeUsageBatch(fs, {
        v: 1,
        tenant: 'acme',
        origin,
        from: at - 1000,
        to: at,
        spaces: {
          lab: { ...zeroUsage(), bytes, objects: 1, requests: 2 },
          cams: { ...zeroUsage(), searches: 1 },
        },
      });
  } finally {
    await fs.close();
  }
  const text = await dreamdb('usage', 'acme');
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[0]!, /^space\s+bytes\s+objects\s+requests\s+ingests\s+searches$/);
  assert.match(lines[1]!, /^cams\s+0\s+0\s+0\s+0\s+3$/);
  assert.match(lines[2]!, /^lab\s+157\s+3\s+6\s+0\s+0$/);
  assert.match(lines[3]!, /^total\s+157\s+3\s+6\s+0\s+3$/);
  assert.match(lines[4]!, /3 batches from 2 origins \(east, west\)/);

  const compacted = await dreamdb('usage', 'acme', '--json', '--compact');
  assert.equal(compacted.code, 0, compacted.stderr);
  const doc = JSON.parse(compacted.stdout);
  assert.deepEqual(doc.total, { bytes: 157, objects: 3, requests: 6, ingests: 0, searches: 3 });
  assert.deepEqual(doc.spaces.lab, { bytes: 157, objects: 3, requests: 6, ingests: 0, searches: 0 });
  assert.equal(doc.batches, 2);
  assert.deepEqual(
    doc.compactions.map((c: { origin: string; replaced: number }) => [c.origin, c.replaced]),
    [
      ['east', 2],
      ['west', 0],
    ],
  );
});
