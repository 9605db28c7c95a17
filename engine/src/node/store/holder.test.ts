import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FsStore, PID_FILE } from './fs-store.js';
import { HOLDER_FILE, holdStore, StoreHeldError } from './holder.js';
import { HttpStore } from './http-store.js';
import { openStore } from './open.js';
import { isEngineError as code } from './testing/contract-suite.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./testing/open-child.ts', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-holder-'));
  dirs.push(dir);
  return join(dir, 'store');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const textOf = (body: Uint8Array) => new TextDecoder().decode(body);

/** openStore in a process of its own (asynchronously: this process keeps serving its holder meanwhile). */
async function openInChild(dir: string, readKey: string, writeKey: string, text: string) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', CHILD, dir, readKey, writeKey, text],
    { cwd: ROOT, env: { ...process.env, DREAMDB_STORE: '', DREAMDB_EMBEDDED: '' } },
  );
  return JSON.parse(stdout) as { name: string; read: string };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('a held directory is opened by another process through its holder; the holder file is private and goes with it', async () => {
  const dir = tempDir();
  const held = await holdStore(dir);
  try {
    const path = join(dir, HOLDER_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(file.pid, process.pid);
    assert.equal(file.url, held.server.url);
    assert.match(file.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(file.bucket, 'dreamdb');
    assert.equal(file.accessKeyId, held.holder.accessKeyId);
    assert.ok(file.secretAccessKey.length >= 32);

    await held.store.put('notes/parent', bytes('from the holder'));
    const requests = held.server.stats.requests;
    const child = await openInChild(dir, 'notes/parent', 'notes/child', 'from the child');
    assert.equal(child.read, 'from the holder');
    assert.match(child.name, new RegExp(`through process ${process.pid} `));
    assert.ok(held.server.stats.requests >= requests + 2, 'the child went through the holder endpoint');
    assert.equal(textOf((await held.store.get('notes/child')).body), 'from the child');

    // The endpoint takes its own credential only, never anonymous requests.
    const unsigned = new HttpStore({ endpoint: held.server.url, bucket: 'dreamdb', retries: 0 });
    await assert.rejects(unsigned.get('notes/parent'), code('E_FORBIDDEN'));
    await unsigned.close();
  } finally {
    await held.close();
  }
  assert.equal(existsSync(join(dir, HOLDER_FILE)), false);
  assert.equal(existsSync(join(dir, PID_FILE)), false);
  const opened = await openStore(dir, {});
  try {
    assert.ok(opened.store instanceof FsStore, 'released: opened directly again');
    assert.equal(opened.server, undefined);
    assert.equal(textOf((await opened.store.get('notes/child')).body), 'from the child');
  } finally {
    await opened.close();
  }
});

test('a stale holder file (its process gone, or not the owner of the lock) is ignored, and replaced by the next holder', async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const dead = await deadPid();
  const stale = {
    version: 1,
    pid: dead,
    url: 'http://127.0.0.1:9',
    bucket: 'dreamdb',
    accessKeyId: 'A',
    secretAccessKey: 'S',
  };
  writeFileSync(join(dir, HOLDER_FILE), JSON.stringify(stale), { mode: 0o600 });
  writeFileSync(join(dir, PID_FILE), String(dead));
  const opened = await openStore(dir, {});
  try {
    assert.ok(opened.store instanceof FsStore);
    await opened.store.put('k', bytes('v'));
  } finally {
    await opened.close();
  }
  // A live pid that does not own the lock (a reused pid) is not a holder either.
  writeFileSync(join(dir, HOLDER_FILE), JSON.stringify({ ...stale, pid: 1 }), { mode: 0o600 });
  const again = await openStore(dir, {});
  try {
    assert.ok(again.store instanceof FsStore);
    assert.equal(textOf((await again.store.get('k')).body), 'v');
  } finally {
    await again.close();
  }
  const held = await holdStore(dir);
  try {
    const file = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8'));
    assert.equal(file.pid, process.pid);
    assert.equal(file.url, held.server.url);
    assert.equal(statSync(join(dir, HOLDER_FILE)).mode & 0o777, 0o600);
    const child = await openInChild(dir, 'k', 'k2', 'v2');
    assert.equal(child.read, 'v');
  } finally {
    await held.close();
  }
});

test('a directory locked by a process that shares nothing is refused, naming the process and what to do', async () => {
  const dir = tempDir();
  const owner = await FsStore.open(dir);
  try {
    await assert.rejects(
      openStore(dir, {}),
      (e: unknown) =>
        e instanceof StoreHeldError &&
        e.pid === process.pid &&
        e.holder === undefined &&
        e.message.includes(`in use by process ${process.pid}, which does not share it (no ${HOLDER_FILE})`) &&
        /wait for it to finish or stop it/.test(e.message) &&
        /dreamdb serve/.test(e.message),
    );
    await assert.rejects(holdStore(dir), StoreHeldError);
  } finally {
    await owner.close();
  }
});

test('openStore with hold holds a free directory; DREAMDB_EMBEDDED=http goes through its own endpoint', async () => {
  const dir = tempDir();
  const serving = await openStore(dir, {}, { hold: true });
  try {
    assert.ok(serving.store instanceof FsStore);
    assert.ok(serving.server);
    assert.ok(existsSync(join(dir, HOLDER_FILE)));
    await serving.store.put('k', bytes('held'));
    // Holding a held directory refuses, naming the holder; opening it goes through it.
    await assert.rejects(
      holdStore(dir),
      (e: unknown) => e instanceof StoreHeldError && e.holder?.url === serving.server!.url,
    );
    const other = await openStore(dir, {}, { hold: true });
    assert.ok(other.store instanceof HttpStore);
    assert.equal(textOf((await other.store.get('k')).body), 'held');
    await other.close();
  } finally {
    await serving.close();
  }
  assert.equal(existsSync(join(dir, HOLDER_FILE)), false);

  const overHttp = await openStore(dir, { DREAMDB_EMBEDDED: 'http' });
  try {
    assert.ok(overHttp.store instanceof HttpStore);
    assert.equal(textOf((await overHttp.store.get('k')).body), 'held');
  } finally {
    await overHttp.close();
  }
  assert.equal(existsSync(join(dir, HOLDER_FILE)), false);
  assert.equal(existsSync(join(dir, PID_FILE)), false);
});
