import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PID_FILE } from './fs-store.js';
import { HttpStore } from './http-store.js';
import { isLoopback, startStoreServer } from './server.js';
import { isEngineError as code } from './testing/contract-suite.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-anonymous-'));
  dirs.push(dir);
  return join(dir, 'store');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const textOf = (body: Uint8Array) => new TextDecoder().decode(body);

test('loopback addresses are told from the others', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
    assert.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com', '::ffff:10.0.0.1'])
    assert.ok(!isLoopback(host), host);
});

test('off loopback, the store server refuses to start without credentials, taking no lock', async () => {
  const dir = tempDir();
  await assert.rejects(
    startStoreServer({ dir, host: '0.0.0.0', port: 0 }),
    (e: unknown) =>
      code('E_FORBIDDEN')(e) &&
      /0\.0\.0\.0 \(not a loopback address\) would take anonymous writes/.test((e as Error).message) &&
      /--insecure-open; allowAnonymous: true/.test((e as Error).message),
  );
  assert.equal(existsSync(join(dir, PID_FILE)), false);
});

test('off loopback, allowAnonymous starts it open; credentials start it signed', async () => {
  const open = await startStoreServer({ dir: tempDir(), host: '0.0.0.0', port: 0, allowAnonymous: true });
  const anonymous = new HttpStore({ endpoint: `http://127.0.0.1:${open.port}`, bucket: 'dreamdb' });
  try {
    await anonymous.put('k', bytes('open'));
    assert.equal(textOf((await anonymous.get('k')).body), 'open');
  } finally {
    await anonymous.close();
    await open.close();
  }

  const credentials = { accessKeyId: 'AKIDDREAMDB', secretAccessKey: 'secret-key-for-tests' };
  const signed = await startStoreServer({
    dir: tempDir(),
    host: '0.0.0.0',
    port: 0,
    credentials: [credentials],
  });
  const endpoint = `http://127.0.0.1:${signed.port}`;
  const good = new HttpStore({ endpoint, bucket: 'dreamdb', credentials });
  const unsigned = new HttpStore({ endpoint, bucket: 'dreamdb', retries: 0 });
  try {
    await good.put('k', bytes('signed'));
    await assert.rejects(unsigned.get('k'), code('E_FORBIDDEN'));
    await assert.rejects(unsigned.put('k', bytes('evil')), code('E_FORBIDDEN'));
    assert.equal(textOf((await good.get('k')).body), 'signed');
  } finally {
    await Promise.all([good.close(), unsigned.close()]);
    await signed.close();
  }
});

test('on loopback without credentials it stays anonymous', async () => {
  const server = await startStoreServer({ dir: tempDir() });
  const store = new HttpStore({ endpoint: server.url, bucket: 'dreamdb' });
  try {
    await store.put('k', bytes('local'));
    assert.equal(textOf((await store.get('k')).body), 'local');
  } finally {
    await store.close();
    await server.close();
  }
});
