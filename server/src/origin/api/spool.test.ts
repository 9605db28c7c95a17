import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeClip } from '@dreamdb/packager';
import { serveUrl } from '../../../../scripts/lib/serve-url.mjs';

/**
 * A real `dreamdb serve` killed (SIGKILL) in the middle of an upload leaves its spool folder in the
 * temporary directory; the next server removes it when it starts, and leaves the spools of live processes.
 */

const BIN = fileURLToPath(new URL('../../../bin/dreamdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-spool-'));
/** The servers' temporary directory (TMPDIR), where they spool uploads. */
const temp = join(dir, 'tmp');
mkdirSync(temp);
const running = new Set<ChildProcess>();
after(() => {
  for (const server of running) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** `dreamdb serve` on a free port with TMPDIR set to `temp`; resolves with its URL once it listens. */
async function serve(store: string): Promise<{ url: string; server: ChildProcess }> {
  const server = spawn(process.execPath, [BIN, 'serve', '--store', store, '--port', '0', '--no-log'], {
    env: { ...process.env, TMPDIR: temp },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(server);
  server.once('exit', () => running.delete(server));
  const url = await serveUrl(server);
  return { url, server };
}

/** Poll until `check` holds (at most 20 s). */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const spools = () => readdirSync(temp).filter((name) => name.startsWith('dreamdb-upload-'));

test('a server killed mid-upload leaves its spool; the next one removes it at start and keeps those of live processes', async () => {
  const store = join(dir, 'store');
  const media = readFileSync(makeClip(join(dir, 'clip.mp4'), { seconds: 4, size: '320x180', audio: 48000 }));
  const first = await serve(store);

  // Half the upload is sent and spooled; the rest never comes, because the server is killed.
  const upload = request(`${first.url}/v0/spaces/lab/timelines/cut/ingest?name=cut.mp4`, {
    method: 'POST',
    headers: { 'content-type': 'video/mp4', 'content-length': String(media.length) },
  });
  upload.on('error', () => {}); // the connection dies with the server
  upload.write(media.subarray(0, media.length >> 1));
  const owned = new RegExp(`^dreamdb-upload-${first.server.pid}-`);
  await until('the upload being spooled', () =>
    spools().some((name) => {
      if (!owned.test(name)) return false;
      try {
        return statSync(join(temp, name, 'input')).size > 0;
      } catch {
        return false;
      }
    }),
  );
  const exited = new Promise((resolve) => first.server.once('exit', resolve));
  first.server.kill('SIGKILL');
  await exited;
  upload.destroy();
  const left = spools().filter((name) => owned.test(name));
  assert.equal(left.length, 1, 'the killed server left its spool');

  // Spools a start must not touch: one of a live process (this one), one not named for a process.
  const live = `dreamdb-upload-${process.pid}-live`;
  const unowned = 'dreamdb-upload-x1y2z3';
  mkdirSync(join(temp, live));
  mkdirSync(join(temp, unowned));

  const second = await serve(store);
  // It listens only once the sweep is done.
  assert.deepEqual(spools().sort(), [live, unowned].sort());
  // Nothing of the cut upload was published.
  const main = await fetch(`${second.url}/v0/spaces/lab/refs/main`);
  assert.equal(main.status, 404);
  second.server.kill('SIGTERM');
});
