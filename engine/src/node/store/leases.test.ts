import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { range } from '../../queries/read.js';
import { Session } from '../../session/session.js';
import { SpaceStore } from '../../store/space-store.js';
import { camAndDetections, SECOND } from '../../testing/fixtures.js';
import { collect } from '../../versions/collect.js';
import { fsck } from '../../versions/fsck.js';
import { listRefs } from '../../versions/refs.js';
import { publish } from '../../writes/publish.js';
import { startStoreServer } from './server.js';

const WRITER = fileURLToPath(new URL('./testing/lease-writer.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run a script as its own process; resolves with its stdout. */
function script(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

test('collect racing publishes from another process loses nothing: a leased base is kept; an unleased one that went is refused, not published broken', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-leases-'));
  const server = await startStoreServer({ dir: join(dir, 'store') });
  try {
    const url = `${server.url}/${server.bucket}`;
    const session = new Session(new SpaceStore(server.store, 'lab'));
    const main = camAndDetections();
    main.write('s1', 'det', [{ tick: SECOND, payload: { label: 'root' } }]);
    await publish(session, main, { ref: 'main' });
    const ROUNDS = 4;
    const GRACE_MS = 300;
    const writer = script([WRITER, url, dir, String(ROUNDS), String(GRACE_MS)]);
    for (let i = 0; i < ROUNDS; i++) {
      while (!existsSync(join(dir, `ready-${i}`))) await sleep(20);
      // The base's ref goes, and a collector (its own session, as another process would be) sweeps.
      await server.store.delete(`spaces/lab/refs/heads/tmp-${i}`);
      const swept = await collect(new Session(new SpaceStore(server.store, 'lab')), { graceMs: GRACE_MS });
      if (i % 2 === 0) assert.ok(swept.deleted.length > 0, `round ${i}: the unleased base was swept`);
      writeFileSync(join(dir, `go-${i}`), '');
    }
    const outcomes = (await writer)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { round: number; outcome: string; message?: string });
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      ['refused', 'published', 'refused', 'published'],
      JSON.stringify(outcomes),
    );
    assert.match(outcomes[0]!.message!, /no longer reaches/);
    // Everything every ref reaches is there: the leased bases' objects were kept.
    assert.deepEqual((await fsck(server.store)).problems, []);
    const fresh = new Session(new SpaceStore(server.store, 'lab'));
    for (const i of [1, 3]) {
      const out = (await fresh.resolve(`heads/out-${i}`))!;
      const page = await range(fresh, out, { timeline: 's1', tracks: ['det'], t0: 0n, t1: 10_000n * SECOND });
      assert.deepEqual(
        page.items.map((it) => (it.payload as { label: string }).label),
        ['root', `base ${i}`, `out ${i}`],
      );
    }
    // No lease is left behind, and listings never showed them.
    assert.ok((await listRefs(fresh)).every((r) => !r.name.startsWith('leases/')));
    assert.equal((await server.store.list('spaces/lab/refs/leases/')).objects.length, 0);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
