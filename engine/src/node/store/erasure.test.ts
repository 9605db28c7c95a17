import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { erasureProof } from '../../testing/erasure-proof.js';
import { FsStore } from './fs-store.js';

/** Every file under a directory, read as it lies on disk: objects, refs, the registry, temporaries. */
function* files(dir: string): Generator<{ name: string; bytes: Uint8Array }> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield { name: path, bytes: readFileSync(path) };
  }
}

test('erasure (spec 0020 §7) on the embedded store: no file of the store directory holds an erased marker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-erasure-'));
  const store = await FsStore.open(dir);
  try {
    await erasureProof(store, async function* () {
      yield* files(dir);
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
