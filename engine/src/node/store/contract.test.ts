import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hashBytes, multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { CountingStore } from '../../store/counting-store.js';
import { normalizeEtag } from '../../store/etag.js';
import { objectKey } from '../../store/keys.js';
import { MemoryStore } from '../../store/memory-store.js';
import { listAll, type ObjectStore } from '../../store/object-store.js';
import { RefConflictError, SpaceStore } from '../../store/space-store.js';
import { FsStore } from './fs-store.js';
import { HttpStore } from './http-store.js';
import { startStoreServer } from './server.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-contract-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;
const bytes = (text: string) => new TextEncoder().encode(text);

/** The same contract, run against every backend: the in-memory one, the files, and HTTP/1.1 and h2c. */
const backends: [string, () => Promise<{ store: ObjectStore; close(): Promise<void> }>][] = [
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
      ] as [string, () => Promise<{ store: ObjectStore; close(): Promise<void> }>],
  ),
];

for (const [name, open] of backends) {
  describe(`object-store contract: ${name}`, () => {
    test('put, get, head and delete round-trip bytes with a stable ETag', async () => {
      const { store, close } = await open();
      try {
        const body = bytes('hello, store');
        const { etag } = await store.put('a/b.bin', body);
        const got = await store.get('a/b.bin');
        assert.deepEqual(Buffer.from(got.body), Buffer.from(body));
        assert.equal(got.etag, etag);
        assert.equal(normalizeEtag(got.etag), got.etag);
        const { key, size, etag: headEtag } = await store.head('a/b.bin');
        assert.deepEqual({ key, size, etag: headEtag }, { key: 'a/b.bin', size: body.length, etag });
        await store.delete('a/b.bin');
        await assert.rejects(store.get('a/b.bin'), code('E_NOT_FOUND'));
        await assert.rejects(store.head('a/b.bin'), code('E_NOT_FOUND'));
        await store.delete('a/b.bin'); // deleting what is gone is not an error
      } finally {
        await close();
      }
    });

    test('ranges are half-open, clipped at the end, and refused past it', async () => {
      const { store, close } = await open();
      try {
        await store.put('r', bytes('0123456789'));
        const text = async (start: number, end: number) =>
          new TextDecoder().decode((await store.get('r', { start, end })).body);
        assert.equal(await text(0, 1), '0');
        assert.equal(await text(9, 10), '9');
        assert.equal(await text(3, 7), '3456');
        assert.equal(await text(8, 100), '89');
        assert.equal((await store.get('r', { start: 2, end: 4 })).size, 10);
        await assert.rejects(store.get('r', { start: 10, end: 12 }), code('E_RANGE'));
      } finally {
        await close();
      }
    });

    test('create-only and compare-and-swap: a lost race is E_PRECONDITION, never an overwrite', async () => {
      const { store, close } = await open();
      try {
        const first = await store.put('spaces/lab/refs/main', bytes('one'), { ifNoneMatch: '*' });
        await assert.rejects(
          store.put('spaces/lab/refs/main', bytes('two'), { ifNoneMatch: '*' }),
          code('E_PRECONDITION'),
        );
        const second = await store.put('spaces/lab/refs/main', bytes('two'), { ifMatch: first.etag });
        await assert.rejects(
          store.put('spaces/lab/refs/main', bytes('three'), { ifMatch: first.etag }),
          code('E_PRECONDITION'),
        );
        assert.equal(new TextDecoder().decode((await store.get('spaces/lab/refs/main')).body), 'two');
        // ETags compare after normalization: quotes, W/ and case do not matter.
        await store.put('spaces/lab/refs/main', bytes('four'), {
          ifMatch: `W/"${second.etag.toUpperCase()}"`,
        });
        await assert.rejects(
          store.put('spaces/lab/refs/other', bytes('x'), { ifMatch: second.etag }),
          code('E_PRECONDITION'),
        );
      } finally {
        await close();
      }
    });

    test('LIST pages through keys in byte order with a continuation token', async () => {
      const { store, close } = await open();
      try {
        for (const k of ['p/e', 'p/a', 'p/c', 'p/b', 'p/d', 'q/x']) await store.put(k, bytes(k));
        const first = await store.list('p/', { maxKeys: 2 });
        assert.deepEqual(
          first.objects.map((o) => o.key),
          ['p/a', 'p/b'],
        );
        assert.ok(first.nextToken);
        const all = [];
        for await (const o of listAll(store, 'p/', 2)) all.push(o.key);
        assert.deepEqual(all, ['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
        assert.deepEqual((await store.list('nothing/')).objects, []);
      } finally {
        await close();
      }
    });

    test('a space store writes content once, reads it verified, and moves refs only by CAS', async () => {
      const { store, close } = await open();
      try {
        const counting = new CountingStore(store);
        const space = new SpaceStore(counting, 'lab');
        const mh = await space.putObject(bytes('manifest v1'));
        assert.deepEqual(await space.putObject(bytes('manifest v1')), mh); // idempotent
        assert.equal(new TextDecoder().decode(await space.getObject(mh)), 'manifest v1');
        assert.equal(new TextDecoder().decode(await space.getObject(mh)), 'manifest v1');
        assert.equal(space.cache.snapshot().hits, 1);
        const created = await space.casRef('main', mh, undefined);
        const mh2 = await space.putObject(bytes('manifest v2'));
        const moved = await space.casRef('main', mh2, created);
        await assert.rejects(space.casRef('main', mh, created), (e: unknown) => {
          assert.ok(e instanceof RefConflictError);
          assert.equal(multihashToHex(e.current!.manifest), multihashToHex(mh2));
          return true;
        });
        assert.deepEqual((await space.readRef('main'))?.manifest, moved.manifest);
        assert.equal(await space.readRef('nope'), undefined);
        // Manifest Supremacy: none of this listed anything.
        assert.equal(counting.counts.list, 0);
      } finally {
        await close();
      }
    });
  });
}

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
