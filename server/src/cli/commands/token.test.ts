import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliProcesses } from '../testing/processes.js';

const { dir, dreamdb, start } = cliProcesses('token');

test('keygen, issue, attenuate, inspect and revoke; serve checks the tokens and refuses off loopback without a key', async () => {
  const key = join(dir, 'issuer.key');
  const keygen = dreamdb(['token', 'keygen', '--out', key]);
  assert.equal(keygen.code, 0, keygen.stderr);
  const publicKey = keygen.stdout.trim();
  assert.match(publicKey, /^ddb-issuer:[0-9a-f]{64}$/);
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.match(readFileSync(key, 'utf8'), /^ddb-issuer-secret:[0-9a-f]{64}\n$/);
  // keygen never overwrites a key.
  assert.notEqual(dreamdb(['token', 'keygen', '--out', key]).code, 0);

  const issued = dreamdb([
    'token',
    'issue',
    '--key',
    key,
    '--rights',
    'read,write',
    '--spaces',
    'lab',
    '--expires',
    '1d',
  ]);
  assert.equal(issued.code, 0, issued.stderr);
  const root = issued.stdout.trim();
  const link = dreamdb([
    'token',
    'attenuate',
    root,
    '--rights',
    'read',
    '--refs',
    'main',
    '--timeline',
    's1',
    '--from',
    '60s',
    '--to',
    '90s',
    '--expires',
    '1h',
  ]);
  assert.equal(link.code, 0, link.stderr);
  const inspected = JSON.parse(
    dreamdb(['token', 'inspect', link.stdout.trim(), '--issuer-key', publicKey]).stdout,
  );
  assert.equal(inspected.verified, true);
  assert.deepEqual(inspected.grant.rights, ['read']);
  assert.deepEqual(inspected.grant.window, { timeline: 's1', from: '60000000000', to: '90000000000' });
  assert.equal(inspected.blocks.length, 2);
  assert.equal(inspected.revocationIds.length, 2);
  const bad = dreamdb(['token', 'issue', '--key', key, '--rights', 'fly']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--rights: fly is not one of read, write/);

  const refused = dreamdb(['serve', '--host', '0.0.0.0', '--port', '0']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /not a loopback address: give --issuer-key/);

  const store = join(dir, 'store');
  const serve = await start(
    ['serve', '--port', '0', '--no-log', '--store', store, '--issuer-key', publicKey],
    /dreamdb serve: (http:\/\/[^ ]+) /,
  );
  try {
    const base = serve.match[1]!;
    const health = (await (await fetch(`${base}/v0/health`)).json()) as { access: string };
    assert.equal(health.access, 'token');
    assert.equal((await fetch(`${base}/v0/spaces/lab/refs`)).status, 401);
    const ok = await fetch(`${base}/v0/spaces/lab/refs`, { headers: { authorization: `Bearer ${root}` } });
    assert.equal(ok.status, 200, await ok.text());
    // Revoked through the serving process (it holds the store): origins see it within their staleness bound.
    const revoked = dreamdb(['token', 'revoke', root, '--family', '--store', store]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked [0-9a-f]{32} for tenant default/);
  } finally {
    assert.equal(await serve.stop(), 0);
  }
});
