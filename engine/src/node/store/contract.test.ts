import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hashBytes } from '../../address/multihash.js';
import { objectKey } from '../../store/keys.js';
import { MemoryStore } from '../../store/memory-store.js';
import { FsStore } from './fs-store.js';
import { HttpStore } from './http-store.js';
import { startStoreServer } from './server.js';
import { isEngineError as code, contractSuite, type OpenBackend } from './testing/contract-suite.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-contract-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * The same contract (testing/contract-suite.ts), run against every backend: the in-memory one, the files,
 * and HTTP/1.1 and h2c. rgw.test.ts runs it against Ceph RGW.
 */
const backends: [string, OpenBackend][] = [
  ['memory store', async () => ({ store: new MemoryStore(), close: async () => {} })],
  [
    'embedded store files (FsStore)',
    async () => {
      const store = await FsStore.open(tempDir());
      return { store, close: () => store.close() };
    },
  ],
  ...(['h1', 'h2c'] as const).map(
    (protocol) =>
      [
        `embedded store over ${protocol === 'h1' ? 'HTTP/1.1' : 'h2c'}`,
        async () => {
          const server = await startStoreServer({ dir: tempDir() });
          const store = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol });
          return {
            store,
            close: async () => {
              await store.close();
              await server.close();
            },
          };
        },
      ] as [string, OpenBackend],
  ),
];

for (const [name, open] of backends) contractSuite(name, open);

describe('embedded store specifics', () => {
  test('an object whose bytes do not hash to its key is refused, and nothing is stored', async () => {
    const store = await FsStore.open(tempDir());
    try {
      const key = objectKey('lab', hashBytes(bytes('real')));
      await assert.rejects(store.put(key, bytes('fake')), code('E_HASH_MISMATCH'));
      await assert.rejects(store.get(key), code('E_NOT_FOUND'));
    } finally {
      await store.close();
    }
  });

  test('a second process cannot open a directory a live store holds', async () => {
    const dir = tempDir();
    const store = await FsStore.open(dir);
    try {
      await assert.rejects(FsStore.open(dir), /in use by process/);
    } finally {
      await store.close();
    }
    const again = await FsStore.open(dir); // released: can be taken again
    await again.close();
  });
});
