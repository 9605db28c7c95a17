/**
 * The object-store contract as a reusable node:test suite (test-only code: excluded from the build).
 * Every backend runs the same assertions: the in-memory store, the embedded store's files, the embedded
 * store over HTTP/1.1 and h2c, and real S3 servers (Ceph RGW).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { multihashToHex } from '../../../address/multihash.js';
import { EngineError } from '../../../errors.js';
import { CountingStore } from '../../../store/counting-store.js';
import { normalizeEtag } from '../../../store/etag.js';
import { listAll, type ObjectStore } from '../../../store/object-store.js';
import { RefConflictError, SpaceStore } from '../../../store/space-store.js';

/** A fresh, empty store for one test, and how to release it. */
export type OpenBackend = () => Promise<{ store: ObjectStore; close(): Promise<void> }>;

/** The tests of the suite, by name, for ContractOptions.skip. */
export type ContractTest = 'round-trip' | 'range' | 'conditional-put' | 'list' | 'errors' | 'space-store';

export interface ContractOptions {
  /** Tests a backend legitimately cannot pass, with the reason (reported as skipped, never silently). */
  readonly skip?: Partial<Record<ContractTest, string>>;
  /** Per-test timeout in ms (a store across a network may need more than the default). */
  readonly timeout?: number;
}

export const isEngineError = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;
const bytes = (text: string) => new TextEncoder().encode(text);

/** Register the contract tests for one backend under `object-store contract: <name>`. */
export function contractSuite(name: string, open: OpenBackend, options: ContractOptions = {}): void {
  const run = (id: ContractTest, title: string, body: (store: ObjectStore) => Promise<void>) =>
    test(title, {
      ...(options.skip?.[id] !== undefined && { skip: options.skip[id] }),
      ...(options.timeout !== undefined && { timeout: options.timeout }),
    }, async () => {
      const { store, close } = await open();
      try {
        await body(store);
      } finally {
        await close();
      }
    });

  describe(`object-store contract: ${name}`, () => {
    run('round-trip', 'put, get, head and delete round-trip bytes with a stable ETag', async (store) => {
      const body = bytes('hello, store');
      const { etag } = await store.put('a/b.bin', body);
      const got = await store.get('a/b.bin');
      assert.deepEqual(Buffer.from(got.body), Buffer.from(body));
      assert.equal(got.etag, etag);
      assert.equal(normalizeEtag(got.etag), got.etag);
      const { key, size, etag: headEtag } = await store.head('a/b.bin');
      assert.deepEqual({ key, size, etag: headEtag }, { key: 'a/b.bin', size: body.length, etag });
      await store.delete('a/b.bin');
      await assert.rejects(store.get('a/b.bin'), isEngineError('E_NOT_FOUND'));
      await assert.rejects(store.head('a/b.bin'), isEngineError('E_NOT_FOUND'));
      await store.delete('a/b.bin'); // deleting what is gone is not an error
    });

    run('range', 'ranges are half-open, clipped at the end, and refused past it', async (store) => {
      await store.put('r', bytes('0123456789'));
      const text = async (start: number, end: number) =>
        new TextDecoder().decode((await store.get('r', { start, end })).body);
      assert.equal(await text(0, 1), '0');
      assert.equal(await text(9, 10), '9');
      assert.equal(await text(3, 7), '3456');
      assert.equal(await text(8, 100), '89');
      assert.equal((await store.get('r', { start: 2, end: 4 })).size, 10);
      await assert.rejects(store.get('r', { start: 10, end: 12 }), isEngineError('E_RANGE'));
    });

    run(
      'conditional-put',
      'create-only and compare-and-swap: a lost race is E_PRECONDITION, never an overwrite',
      async (store) => {
        const first = await store.put('spaces/lab/refs/main', bytes('one'), { ifNoneMatch: '*' });
        await assert.rejects(
          store.put('spaces/lab/refs/main', bytes('two'), { ifNoneMatch: '*' }),
          isEngineError('E_PRECONDITION'),
        );
        const second = await store.put('spaces/lab/refs/main', bytes('two'), { ifMatch: first.etag });
        await assert.rejects(
          store.put('spaces/lab/refs/main', bytes('three'), { ifMatch: first.etag }),
          isEngineError('E_PRECONDITION'),
        );
        assert.equal(new TextDecoder().decode((await store.get('spaces/lab/refs/main')).body), 'two');
        // ETags compare after normalization: quotes, W/ and case do not matter.
        await store.put('spaces/lab/refs/main', bytes('four'), {
          ifMatch: `W/"${second.etag.toUpperCase()}"`,
        });
        await assert.rejects(
          store.put('spaces/lab/refs/other', bytes('x'), { ifMatch: second.etag }),
          isEngineError('E_PRECONDITION'),
        );
        await assert.rejects(store.get('spaces/lab/refs/other'), isEngineError('E_NOT_FOUND'));
      },
    );

    run('list', 'LIST pages through keys in byte order with a continuation token', async (store) => {
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
      const [a] = (await store.list('p/a')).objects;
      const { key, size, etag } = a!;
      assert.deepEqual({ key, size, etag }, { key: 'p/a', size: 3, etag: (await store.head('p/a')).etag });
    });

    run('errors', 'refusals are EngineErrors with their code, naming the key', async (store) => {
      await store.put('e/x', bytes('x'));
      const refused = async (attempt: Promise<unknown>, code: string, key: string) => {
        const error = await attempt.then(
          () => assert.fail(`expected ${code}`),
          (e: unknown) => e,
        );
        assert.ok(error instanceof EngineError, String(error));
        assert.equal(error.code, code, error.message);
        assert.ok(error.message.includes(key), `${error.message} does not name ${key}`);
        // An empty reason from the store (RGW sends <Message></Message>) leaves no dangling separator.
        assert.doesNotMatch(error.message, /:\s*$/);
      };
      await refused(store.get('e/missing'), 'E_NOT_FOUND', 'e/missing');
      await refused(store.head('e/missing'), 'E_NOT_FOUND', 'e/missing');
      await refused(store.get('e/x', { start: 5, end: 6 }), 'E_RANGE', 'e/x');
      await refused(store.put('e/x', bytes('y'), { ifNoneMatch: '*' }), 'E_PRECONDITION', 'e/x');
      await refused(store.put('e/x', bytes('y'), { ifMatch: '0'.repeat(32) }), 'E_PRECONDITION', 'e/x');
      assert.equal(new TextDecoder().decode((await store.get('e/x')).body), 'x');
    });

    run(
      'space-store',
      'a space store writes content once, reads it verified, and moves refs only by CAS',
      async (store) => {
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
      },
    );
  });
}
