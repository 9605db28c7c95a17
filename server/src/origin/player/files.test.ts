import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { playerRoutes } from './files.js';

/** The player's files: the page, its hashed assets and ffmpeg.wasm's core; nothing outside them. */

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-player-files-'));
mkdirSync(join(dir, 'assets'));
mkdirSync(join(dir, 'ffmpeg', '0.12.10'), { recursive: true });
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>player</title>');
writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(dir, 'ffmpeg', '0.12.10', 'ffmpeg-core.wasm'), new Uint8Array([0, 97, 115, 109]));
writeFileSync(join(dir, 'ffmpeg', '0.12.10', 'notes.txt'), 'not served');
after(() => rmSync(dir, { recursive: true, force: true }));
const app = playerRoutes(dir);

test('the page is revalidated; assets and the ffmpeg core are immutable, with their types', async () => {
  const page = await app.request('/');
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.match(await page.text(), /<title>player/);
  const asset = await app.request('/assets/index-abc.js');
  assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  const core = await app.request('/ffmpeg/0.12.10/ffmpeg-core.wasm');
  assert.equal(core.status, 200);
  assert.equal(core.headers.get('content-type'), 'application/wasm');
  assert.deepEqual(new Uint8Array(await core.arrayBuffer()), new Uint8Array([0, 97, 115, 109]));
});

test('paths outside the served files are 404', async () => {
  for (const path of [
    '/ffmpeg/0.12.10/notes.txt',
    '/ffmpeg/..%2F/index.html',
    '/ffmpeg/0.12.10/..%2F..%2Findex.html',
    '/assets/..%2Findex.html',
    '/assets/..%2F..%2Fetc%2Fpasswd',
  ])
    assert.equal((await app.request(path)).status, 404, path);
});
