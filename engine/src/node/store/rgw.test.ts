/**
 * DreamDB's S3 client against a real distributed object store nobody here wrote: a single-node Ceph
 * RADOS Gateway (16.x on Debian 12), started and stopped by scripts/ceph-rgw.sh. Runs the object-store
 * contract, RGW's known quirks, and the 32-process compare-and-swap race. When Ceph is missing or does
 * not start, these tests fail (npm test installs it; see scripts/lib/bootstrap.mjs): they never skip.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { EngineError } from '../../errors.js';
import { listAll } from '../../store/object-store.js';
import { SpaceStore } from '../../store/space-store.js';
import { erasureProof } from '../../testing/erasure-proof.js';
import { HttpStore, type HttpStoreOptions } from './http-store.js';
import { openStore } from './open.js';
import { signRequest } from './sigv4.js';
import { contractSuite, isEngineError } from './testing/contract-suite.js';
import { assertH2cRefused } from './testing/h2c-refusal.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/ceph-rgw.sh');
// A fixed run directory: a cluster left behind by a killed test run is stopped by the next start.
// Ports off the defaults, so a developer's own cluster on 7480 / 3300 / 6789 is left alone.
const CLUSTER_ENV = {
  RUN: join(tmpdir(), 'dreamdb-rgw-test'),
  RGW_PORT: process.env.DREAMDB_TEST_RGW_PORT ?? '17480',
  MON_PORT: process.env.DREAMDB_TEST_MON_PORT ?? '13300',
  MON_V1_PORT: process.env.DREAMDB_TEST_MON_V1_PORT ?? '16789',
  S3_BUCKET: 'dreamdb',
};
const RACE_WRITERS = 32;
const RACE_SECONDS = 6;

/** Run scripts/ceph-rgw.sh; resolves with its stdout, rejects with its stderr. */
function cephRgw(command: 'start' | 'stop', timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, command], {
      env: { ...process.env, ...CLUSTER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (status, signal) =>
      status === 0
        ? resolve(out)
        : reject(
            new Error(
              `scripts/ceph-rgw.sh ${command} ${signal ? `was killed (${signal}, limit ${timeoutMs} ms)` : `exited with ${status}`}:\n${err.trim()}\n` +
                '(these tests need a running Ceph RGW and fail without one; npm test installs Ceph as root)',
            ),
          ),
    );
  });
}

/** The environment the script printed: S3_ENDPOINT, AWS_ACCESS_KEY_ID, DREAMDB_S3_IF_MATCH, ... */
let s3env: Record<string, string> = {};
let started = 0;

function rgwOptions(overrides: Partial<HttpStoreOptions> = {}): HttpStoreOptions {
  return {
    endpoint: s3env.S3_ENDPOINT!,
    bucket: s3env.S3_BUCKET!,
    region: s3env.AWS_DEFAULT_REGION!,
    style: 'path',
    ifMatch: 'bare',
    credentials: { accessKeyId: s3env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3env.AWS_SECRET_ACCESS_KEY! },
    ...overrides,
  };
}

/** A store on its own fresh prefix of the bucket, so tests do not see each other's keys. */
function freshStore(what: string, overrides: Partial<HttpStoreOptions> = {}): HttpStore {
  return new HttpStore(rgwOptions({ prefix: `${what}-${randomUUID()}`, ...overrides }));
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('Ceph RADOS Gateway (scripts/ceph-rgw.sh)', () => {
  before(
    async () => {
      started = Date.now();
      const out = await cephRgw('start', 90_000);
      s3env = Object.fromEntries(
        [...out.matchAll(/^(?:export )?([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
      );
      assert.ok(s3env.S3_ENDPOINT && s3env.AWS_ACCESS_KEY_ID, `the script printed no S3 settings:\n${out}`);
      console.log(`RGW started in ${Date.now() - started} ms at ${s3env.S3_ENDPOINT}`);
    },
    { timeout: 100_000 },
  );
  after(
    async () => {
      const stopping = Date.now();
      await cephRgw('stop', 30_000);
      console.log(`RGW stopped in ${Date.now() - stopping} ms; ${Date.now() - started} ms in all`);
    },
    { timeout: 40_000 },
  );

  contractSuite(
    'Ceph RGW over HTTP/1.1 (path-style, SigV4, bare If-Match)',
    async () => {
      const store = freshStore('contract');
      return { store, close: () => store.close() };
    },
    { timeout: 30_000 },
  );

  test('erasure (spec 0020 §7) on RGW: no object under the space holds an erased marker; fsck is clean', {
    timeout: 60_000,
  }, async () => {
    const store = freshStore('erasure');
    try {
      await erasureProof(store, async function* () {
        for await (const info of listAll(store, ''))
          yield { name: info.key, bytes: (await store.get(info.key)).body };
      });
    } finally {
      await store.close();
    }
  });

  describe('RGW quirks and S3 details', () => {
    test('RGW (beast) speaks HTTP/1.1 only: the default reaches it, h2c is refused at once with an error that says so', async () => {
      const auto = freshStore('protocol');
      const h2c = freshStore('protocol', { protocol: 'h2c' });
      try {
        await auto.put('k', bytes('v'));
        assert.equal(new TextDecoder().decode((await auto.get('k')).body), 'v');
        await assertH2cRefused(h2c, 'k');
      } finally {
        await Promise.all([auto.close(), h2c.close()]);
      }
    });

    test('an error body with an empty <Message> still maps to the right code and a clean message', async () => {
      const store = freshStore('errors');
      try {
        const key = 'no/such/key';
        const url = new URL(s3env.S3_ENDPOINT!);
        const path = `/${s3env.S3_BUCKET}/${store.options.prefix}/${key}`;
        const headers = await signRequest(
          {
            method: 'GET',
            protocol: 'http:',
            hostname: url.hostname,
            port: Number(url.port),
            path,
            query: {},
            headers: {
              host: url.host,
              'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
            },
          },
          rgwOptions().credentials!,
          s3env.AWS_DEFAULT_REGION!,
        );
        const { host: _host, ...wire } = headers;
        const raw = await request(`${url.origin}${path}`, { headers: wire });
        const body = await raw.body.text();
        assert.equal(raw.statusCode, 404);
        assert.match(body, /<Code>NoSuchKey<\/Code>/);
        const message = /<Message>(.*?)<\/Message>/.exec(body)?.[1] ?? '';
        await assert.rejects(store.get(key), (e: unknown) => {
          assert.ok(e instanceof EngineError && e.code === 'E_NOT_FOUND');
          assert.match(
            e.message,
            message ? /no\/such\/key .*HTTP 404 NoSuchKey: .+$/ : /no\/such\/key .*HTTP 404 NoSuchKey$/,
          );
          return true;
        });
      } finally {
        await store.close();
      }
    });

    test('compare-and-swap with a bare If-Match; a quoted one is reported, not relied on', async (t) => {
      const bare = freshStore('ifmatch');
      const quoted = new HttpStore({ ...bare.options, ifMatch: 'quoted', retries: 0 });
      try {
        const { etag } = await bare.put('ref', bytes('one'), { ifNoneMatch: '*' });
        // RGW 16 compares If-Match with the unquoted ETag, so the RFC 9110 spelling never matches there.
        const quotedWorks = await quoted.put('ref', bytes('two'), { ifMatch: etag }).then(
          () => true,
          (e: unknown) => {
            assert.ok(isEngineError('E_PRECONDITION')(e), String(e));
            return false;
          },
        );
        t.diagnostic(
          `a quoted If-Match with the current ETag ${quotedWorks ? 'matches' : 'is refused (412)'}`,
        );
        const current = await bare.head('ref');
        const moved = await bare.put('ref', bytes('three'), { ifMatch: current.etag });
        await assert.rejects(
          bare.put('ref', bytes('four'), { ifMatch: current.etag }),
          isEngineError('E_PRECONDITION'),
        );
        assert.equal((await bare.head('ref')).etag, moved.etag);
        assert.equal(new TextDecoder().decode((await bare.get('ref')).body), 'three');
      } finally {
        await Promise.all([bare.close(), quoted.close()]);
      }
    });

    test('keys that need percent-encoding are signed, stored, listed and read back as written', async () => {
      const store = freshStore('keys');
      try {
        const keys = ['sp ace/ü+%!*()~', "a/b'c=d&e", 'z/ünï/cödé.bin'];
        for (const key of keys) await store.put(key, bytes(key));
        const listed = (await store.list('')).objects.map((o) => o.key);
        assert.deepEqual(
          listed,
          [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
        );
        for (const key of keys) assert.equal(new TextDecoder().decode((await store.get(key)).body), key);
      } finally {
        await store.close();
      }
    });

    test('wrong credentials are E_FORBIDDEN and a missing bucket is E_STORE (never read as a missing ref), each named', async () => {
      const wrong = freshStore('auth', {
        retries: 0,
        credentials: { accessKeyId: s3env.AWS_ACCESS_KEY_ID!, secretAccessKey: 'not-the-secret' },
      });
      const nobucket = freshStore('auth', { bucket: 'no-such-bucket', retries: 0 });
      try {
        await assert.rejects(wrong.put('k', bytes('v')), (e: unknown) => {
          assert.ok(e instanceof EngineError && e.code === 'E_FORBIDDEN', String(e));
          assert.match(e.message, /HTTP 403 SignatureDoesNotMatch/);
          return true;
        });
        await assert.rejects(nobucket.get('k'), (e: unknown) => {
          assert.ok(e instanceof EngineError && e.code === 'E_STORE', String(e));
          assert.match(e.message, /no-such-bucket.*HTTP 404 NoSuchBucket/);
          return true;
        });
        await assert.rejects(new SpaceStore(nobucket, 'lab').readRef('main'), /NoSuchBucket/);
      } finally {
        await Promise.all([wrong.close(), nobucket.close()]);
      }
    });

    test('openStore reaches RGW from the environment the script prints (DREAMDB_STORE=s3://...)', async () => {
      const opened = await openStore(`s3://${s3env.S3_BUCKET}/open-${randomUUID()}`, s3env);
      try {
        assert.match(opened.store.name, /^http:\/\/127\.0\.0\.1:\d+\/dreamdb\/open-/);
        const space = new SpaceStore(opened.store, 'lab');
        const mh = await space.putObject(bytes('via openStore'));
        const ref = await space.casRef('main', mh, undefined);
        const again = await space.casRef('main', await space.putObject(bytes('v2')), ref);
        assert.notEqual(again.etag, ref.etag);
        assert.deepEqual((await space.readRef('main'))?.manifest, again.manifest);
      } finally {
        await opened.close();
      }
    });
  });

  describe('compare-and-swap under contention on RGW', () => {
    test(`${RACE_WRITERS} writer processes incrementing one ref for ${RACE_SECONDS} s lose no update`, {
      timeout: 60_000,
    }, async () => {
      const spec = `s3://${s3env.S3_BUCKET}/race-${randomUUID()}`;
      const opened = await openStore(spec, s3env);
      const space = new SpaceStore(opened.store, 'race');
      try {
        await space.casRef('counter', await space.putObject(bytes('0 by nobody')), undefined);
        const worker = join(ROOT, 'engine/test/cas-worker.mjs');
        // Every writer first opens its store and says "ready"; all start racing on one "go", so the
        // race lasts RACE_SECONDS with all 32 in it however long 32 Node processes take to start.
        const writers = Array.from({ length: RACE_WRITERS }, (_, id) => {
          const child = spawn(process.execPath, [worker, spec, String(RACE_SECONDS), String(id)], {
            env: { ...process.env, ...s3env, CAS_WORKER_WAIT: '1' },
            stdio: ['pipe', 'pipe', 'pipe'],
          });
          let out = '';
          let err = '';
          let onReady: () => void;
          const ready = new Promise<void>((resolve) => {
            onReady = resolve;
          });
          child.stdout.on('data', (chunk) => {
            out += chunk;
            if (out.startsWith('ready\n')) onReady();
          });
          child.stderr.on('data', (chunk) => {
            err += chunk;
          });
          const done = new Promise<{ successes: number; conflicts: number }>((resolve, reject) =>
            child.on('close', (status) =>
              status === 0
                ? resolve(JSON.parse(out.slice('ready\n'.length)))
                : reject(new Error(`writer ${id} exited with ${status}: ${err.trim()}`)),
            ),
          );
          return { child, ready: Promise.race([ready, done.then(() => {})]), done };
        });
        const spawned = Date.now();
        await Promise.all(writers.map((w) => w.ready));
        const raced = Date.now();
        for (const w of writers) w.child.stdin.end('go\n');
        const results = await Promise.all(writers.map((w) => w.done));
        console.log(
          `RGW race: writers ready in ${raced - spawned} ms, raced and exited in ${Date.now() - raced} ms`,
        );
        const successes = results.reduce((s, r) => s + r.successes, 0);
        const conflicts = results.reduce((s, r) => s + r.conflicts, 0);
        const final = await space.readRef('counter');
        const count = Number(new TextDecoder().decode(await space.getObject(final!.manifest)).split(' ')[0]);
        console.log(`RGW race: ${successes} increments, ${conflicts} conflicts, counter ${count}`);
        assert.ok(successes >= 10, `only ${successes} successful increments`);
        assert.ok(conflicts > 0, 'no race happened');
        assert.equal(
          count,
          successes,
          `counter ${count} but ${successes} successful CAS responses (${conflicts} conflicts)`,
        );
      } finally {
        await opened.close();
      }
    });
  });
});
