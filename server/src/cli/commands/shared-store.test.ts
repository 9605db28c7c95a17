import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliProcesses } from '../testing/processes.js';

const { dir, env, dreamdb, start } = cliProcesses('shared-store');

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n')[0]!);

test('while dreamdb serve holds a store directory, the README commands on it go through it', async () => {
  const store = join(dir, 'store');
  const serve = await start(
    ['serve', '--port', '0', '--no-log', '--store', store],
    /dreamdb serve: (http:\/\/[^ ]+) /,
  );
  const url = serve.match[1]!;
  const pid = serve.child.pid!;
  let manifest: string;
  try {
    assert.equal(statSync(join(store, 'holder.json')).mode & 0o777, 0o600);

    const written = dreamdb(
      ['write', '--space', 'lab', '--timeline', 's1', '--track', 'notes', '--store', store],
      { input: '{"tick":"1.5s","payload":{"label":"wave"}}\n' },
    );
    assert.equal(written.code, 0, written.stderr);
    manifest = json(written.stdout).manifest;

    const range = dreamdb([
      'range',
      '--space',
      'lab',
      '--timeline',
      's1',
      '--from',
      '0s',
      '--to',
      '10s',
      '--store',
      store,
    ]);
    assert.equal(range.code, 0, range.stderr);
    assert.deepEqual(json(range.stdout).payload, { label: 'wave' });

    // DREAMDB_STORE names the directory as well as --store does.
    const resolved = dreamdb(['resolve', '--space', 'lab'], { env: { ...env, DREAMDB_STORE: store } });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(json(resolved.stdout).manifest, manifest);
    const log = dreamdb(['log', '--space', 'lab', '--store', store]);
    assert.equal(log.code, 0, log.stderr);
    assert.equal(json(log.stdout).manifest, manifest);

    const fsck = dreamdb(['fsck', '--store', store]);
    assert.equal(fsck.code, 0, fsck.stderr);
    assert.match(fsck.stdout, new RegExp(`through process ${pid} .*, 1 refs, 0 problems`));

    // What the commands wrote, the server serves.
    const main = await fetch(`${url}/v0/spaces/lab/refs/main`);
    assert.equal(main.status, 200);
    assert.equal(((await main.json()) as { manifest: string }).manifest, manifest);

    // A second holder is refused in one line naming the first.
    const second = dreamdb(['store', 'serve', store, '--port', '0']);
    assert.equal(second.code, 2);
    assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`held by process ${pid}, which serves it at http://127\\.0\\.0\\.1:`),
    );
  } finally {
    assert.equal(await serve.stop(), 0);
  }
  assert.equal(existsSync(join(store, 'holder.json')), false);
  assert.equal(existsSync(join(store, 'store.pid')), false);
  const direct = dreamdb(['resolve', '--space', 'lab', '--store', store]);
  assert.equal(direct.code, 0, direct.stderr);
  assert.equal(json(direct.stdout).manifest, manifest);
});

test('dreamdb store serve holds its directory too, and off loopback needs credentials or --insecure-open', async () => {
  const store = join(dir, 'store2');
  const refused = dreamdb(['store', 'serve', store, '--host', '0.0.0.0', '--port', '0']);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.match(refused.stderr, /--host 0\.0\.0\.0 is not a loopback address: .*--insecure-open/);
  assert.equal(existsSync(store), false, 'nothing was taken');

  const served = await start(
    ['store', 'serve', store, '--host', '0.0.0.0', '--port', '0', '--insecure-open'],
    /dreamdb store: serving .* at http:\/\/0\.0\.0\.0:(\d+)\/dreamdb /,
  );
  try {
    assert.equal(statSync(join(store, 'holder.json')).mode & 0o777, 0o600);
    const written = dreamdb(
      ['write', '--space', 'lab', '--timeline', 's1', '--track', 'notes', '--store', store],
      { input: '{"tick":"2s","payload":{"label":"open"}}\n' },
    );
    assert.equal(written.code, 0, written.stderr);
    // The open endpoint takes anonymous clients, and they see the same store.
    const viaUrl = dreamdb([
      'resolve',
      '--space',
      'lab',
      '--store',
      `http://127.0.0.1:${served.match[1]}/dreamdb`,
    ]);
    assert.equal(viaUrl.code, 0, viaUrl.stderr);
    assert.equal(json(viaUrl.stdout).manifest, json(written.stdout).manifest);
  } finally {
    assert.equal(await served.stop(), 0);
  }
  assert.equal(existsSync(join(store, 'holder.json')), false);
});
