import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { hashBytes, multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { MANIFEST_VERSION, sealManifest } from '../../model/manifest.js';
import { objectKey } from '../../store/keys.js';
import { SpaceStore } from '../../store/space-store.js';
import { fsck } from '../../versions/fsck.js';
import { HttpStore } from './http-store.js';
import { startStoreServer } from './server.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DREAMDB = join(ROOT, 'server/bin/dreamdb.js');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dreamdb-faults-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;
const text = (t: string) => new TextEncoder().encode(t);

/** Start `dreamdb store serve` in its own process; resolves with its URL once it listens. */
function serveInChild(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [DREAMDB, 'store', 'serve', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = / at (http:\/\/[^/\s]+)\//.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.stderr!.on('data', (chunk) => reject(new Error(String(chunk))));
    child.on('exit', (status) => reject(new Error(`store exited with ${status}: ${out}`)));
  });
}

describe('compare-and-swap under contention', () => {
  test('32 writer processes incrementing one ref for 10 s lose no update', { timeout: 60_000 }, async () => {
    const server = await startStoreServer({ dir: tempDir() });
    try {
      const space = new SpaceStore(
        new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h2c' }),
        'race',
      );
      await space.casRef('counter', await space.putObject(text('0 by nobody')), undefined);
      const worker = join(ROOT, 'engine/test/cas-worker.mjs');
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, id) => {
          const child = spawn(process.execPath, [worker, server.url, '10', String(id)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (chunk) => {
            out += chunk;
          });
          // 'close', not 'exit': a process can exit before its stdout has been read to the end.
          return new Promise<{ successes: number; conflicts: number }>((resolve, reject) =>
            child.on('close', (status) => {
              if (status !== 0) return reject(new Error(`worker ${id} exited ${status}`));
              try {
                resolve(JSON.parse(out));
              } catch {
                reject(new Error(`worker ${id} printed ${JSON.stringify(out)}, not its counts`));
              }
            }),
          );
        }),
      );
      const successes = results.reduce((s, r) => s + r.successes, 0);
      const conflicts = results.reduce((s, r) => s + r.conflicts, 0);
      const final = await space.readRef('counter');
      const count = Number(new TextDecoder().decode(await space.getObject(final!.manifest)).split(' ')[0]);
      assert.ok(successes > 20, `only ${successes} successful increments`);
      assert.ok(conflicts > 0, 'no race happened');
      assert.equal(
        count,
        successes,
        `counter ${count} but ${successes} successful CAS responses (${conflicts} conflicts)`,
      );
      await space.store.close?.();
    } finally {
      await server.close();
    }
  });
});

describe('crash safety', () => {
  test('SIGKILL in the middle of 100 concurrent PUTs: every acknowledged object survives, nothing partial is visible', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir();
    const { child, url } = await serveInChild(dir);
    const store = new HttpStore({
      endpoint: url,
      bucket: 'dreamdb',
      protocol: 'h1',
      retries: 0,
      connections: 100,
    });
    const space = new SpaceStore(store, 'crash');
    // Five uploads certainly cut off by the kill: half their bytes sent, the rest never.
    const halves = Array.from({ length: 5 }, () => randomBytes(1_000_000));
    const cut = halves.map((body) => {
      const req = httpRequest(`${url}/dreamdb/${objectKey('crash', hashBytes(body))}`, {
        method: 'PUT',
        headers: { 'content-length': String(body.length) },
      });
      req.on('error', () => {}); // the server dies under it
      req.write(body.subarray(0, body.length / 2));
      return req;
    });
    const bodies = Array.from({ length: 100 }, (_, i) => randomBytes(10_000 + ((i * 7919) % 2_000_000)));
    const acked: Uint8Array[] = [];
    let killed = false;
    const puts = bodies.map((body) =>
      space.putObject(body).then(
        () => {
          acked.push(body);
          // Killed early: with many PUTs still in flight, some cannot finish before the signal lands.
          if (acked.length === 10 && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
        () => {},
      ),
    );
    await Promise.all(puts);
    await store.close();
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve),
    );
    assert.ok(killed && acked.length >= 10, `${acked.length} acknowledged`);
    for (const req of cut) req.destroy();

    const restarted = await serveInChild(dir); // the dead owner's pid lock is taken over
    const again = new HttpStore({ endpoint: restarted.url, bucket: 'dreamdb', protocol: 'h2c' });
    try {
      const reader = new SpaceStore(again, 'crash');
      for (const body of acked)
        assert.deepEqual(Buffer.from(await reader.getObject(hashBytes(body))), Buffer.from(body));
      for (const body of halves)
        await assert.rejects(
          reader.getObject(hashBytes(body)),
          /E_NOT_FOUND/,
          'a cut-off upload is not visible',
        );
      const report = await fsck(again);
      assert.deepEqual(report.problems, []);
      assert.ok(report.objects >= acked.length);
    } finally {
      await again.close();
      restarted.child.kill('SIGTERM');
    }
  });

  test('a flipped byte on disk is detected on read and by fsck, and a re-PUT repairs it', async () => {
    const dir = tempDir();
    const server = await startStoreServer({ dir });
    const store = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h2c' });
    try {
      const body = randomBytes(4096);
      const mh = await new SpaceStore(store, 'lab').putObject(body);
      const file = join(dir, 'buckets/dreamdb', objectKey('lab', mh));
      const onDisk = readFileSync(file);
      onDisk[1234]! ^= 0x10;
      writeFileSync(file, onDisk);
      await assert.rejects(new SpaceStore(store, 'lab').getObject(mh), (e: unknown) => {
        assert.ok(e instanceof EngineError && e.code === 'E_HASH_MISMATCH');
        assert.match(e.message, new RegExp(multihashToHex(mh)));
        return true;
      });
      const report = await fsck(store);
      assert.equal(report.problems.length, 1);
      assert.match(report.problems[0]!, /bytes hash to/);
      await new SpaceStore(store, 'lab').putObject(body); // content PUT re-verifies and replaces the bad copy
      assert.deepEqual(Buffer.from(await new SpaceStore(store, 'lab').getObject(mh)), body);
      assert.deepEqual((await fsck(store)).problems, []);
    } finally {
      await store.close();
      await server.close();
    }
  });
});

describe('bad input is refused with 4xx and a clear message, and changes nothing', () => {
  test('path traversal, bad names, malformed ranges, oversize bodies', async () => {
    const dir = tempDir();
    const server = await startStoreServer({ dir, maxObjectBytes: 64 * 1024 });
    const store = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h1' });
    try {
      const space = new SpaceStore(store, 'lab');
      // A manifest (under 100 bytes, for the range cases below) that main points at: what fsck checks.
      const keep = await space.putObject(
        sealManifest({
          version: MANIFEST_VERSION,
          space: 'lab',
          parents: [],
          created: 1n,
          timelines: [],
          tracks: [],
        }),
      );
      await space.casRef('main', keep, undefined);
      // Raw HTTP/1.1 over a socket: URL-parsing clients would resolve ".." before sending it.
      const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const socket = connect(server.port, '127.0.0.1', () => {
            const lines = [
              `${method} ${path} HTTP/1.1`,
              'Host: 127.0.0.1',
              'Connection: close',
              `Content-Length: ${body?.length ?? 0}`,
            ];
            for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
            socket.write(`${lines.join('\r\n')}\r\n\r\n`);
            if (body) socket.write(body);
          });
          const chunks: Buffer[] = [];
          socket.on('data', (chunk) => chunks.push(chunk));
          socket.on('error', reject);
          socket.on('close', () => {
            const response = Buffer.concat(chunks).toString('utf8');
            resolve({ status: Number(response.slice(9, 12)), text: response });
          });
        });
      const cases: [string, string, Record<string, string>, Uint8Array | undefined, number, RegExp][] = [
        ['GET', '/dreamdb/..%2F..%2Fetc%2Fpasswd', {}, undefined, 400, /not a valid key/],
        ['GET', '/dreamdb/spaces/lab/objects/../refs/main', {}, undefined, 400, /not a valid key/],
        ['GET', '/other-bucket/x', {}, undefined, 404, /NoSuchBucket/],
        [
          'GET',
          '/dreamdb/spaces/nosuch/refs/main',
          {},
          undefined,
          404,
          /spaces\/nosuch\/refs\/main does not exist/,
        ],
        [
          'GET',
          '/dreamdb/spaces/Bad/refs/main',
          {},
          undefined,
          400,
          /space name &quot;Bad&quot; in spaces\/Bad\/refs\/main is not valid/,
        ],
        ['PUT', '/dreamdb/spaces/lab/refs/Main', {}, text('x'), 400, /ref names are/],
        ['PUT', '/dreamdb/spaces/lab/refs/a/..b', {}, text('x'), 400, /ref names are/],
        ['PUT', '/dreamdb/spaces/lab/objects/1e20abc', {}, text('x'), 400, /object keys are/],
        [
          'PUT',
          '/dreamdb/spaces/lab/notes/x',
          {},
          text('x'),
          400,
          /objects\/\.\.\., refs\/\.\.\. or tombstones/,
        ],
        [
          'GET',
          `/dreamdb/${objectKey('lab', keep)}`,
          { range: 'bytes=abc' },
          undefined,
          400,
          /not a single range/,
        ],
        [
          'GET',
          `/dreamdb/${objectKey('lab', keep)}`,
          { range: 'bytes=5-2' },
          undefined,
          400,
          /ends before it starts/,
        ],
        [
          'GET',
          `/dreamdb/${objectKey('lab', keep)}`,
          { range: 'bytes=0-1,3-4' },
          undefined,
          400,
          /not a single range/,
        ],
        [
          'GET',
          `/dreamdb/${objectKey('lab', keep)}`,
          { range: 'bytes=100-' },
          undefined,
          416,
          /InvalidRange/,
        ],
        ['PUT', '/dreamdb/big.bin', {}, new Uint8Array(64 * 1024 + 1), 413, /EntityTooLarge/],
        [
          'PUT',
          '/dreamdb/spaces/lab/refs/main',
          { 'if-none-match': 'abc' },
          text('x'),
          400,
          /If-None-Match on PUT must be \*/,
        ],
        ['POST', '/dreamdb/x?uploads', {}, undefined, 400, /multipart upload is not supported/],
      ];
      for (const [method, path, headers, body, status, message] of cases) {
        const answer = await raw(method, path, headers, body);
        assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
        assert.match(answer.text, /<Error><Code>\w+<\/Code><Message>/, `${method} ${path}`);
        assert.match(answer.text, message, `${method} ${path}`);
      }
      // A declared body over the limit is refused before it is read.
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () =>
          socket.write('PUT /dreamdb/huge HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n'),
        );
        let got = '';
        socket.on('data', (chunk) => {
          got += chunk;
          if (got.includes('</Error>')) {
            socket.destroy();
            resolve(got);
          }
        });
      });
      assert.match(answer, /^HTTP\/1\.1 413/);
      // Nothing a bad request did changed what was stored.
      assert.deepEqual((await space.readRef('main'))?.manifest, keep);
      assert.deepEqual((await fsck(store)).problems, []);
      assert.equal((await fsck(store)).objects, 1);
    } finally {
      await store.close();
      await server.close();
    }
  });

  test('SigV4: a store with credentials refuses unsigned and wrongly signed requests', async () => {
    const credentials = { accessKeyId: 'AKIDDREAMDB', secretAccessKey: 'secret-key-for-tests' };
    const server = await startStoreServer({ dir: tempDir(), credentials: [credentials] });
    const good = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', credentials });
    const unsigned = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', retries: 0 });
    const wrong = new HttpStore({
      endpoint: server.url,
      bucket: 'dreamdb',
      retries: 0,
      credentials: { ...credentials, secretAccessKey: 'nope' },
    });
    try {
      await good.put('k', text('v'));
      assert.equal(new TextDecoder().decode((await good.get('k', { start: 0, end: 1 })).body), 'v');
      assert.equal((await good.list('')).objects.length, 1);
      await assert.rejects(unsigned.get('k'), code('E_FORBIDDEN'));
      await assert.rejects(
        wrong.get('k'),
        (e: unknown) =>
          e instanceof EngineError && e.code === 'E_FORBIDDEN' && /does not match/.test(e.message),
      );
      await assert.rejects(wrong.put('k', text('evil')), code('E_FORBIDDEN'));
      assert.equal(new TextDecoder().decode((await good.get('k')).body), 'v');
    } finally {
      await Promise.all([good.close(), unsigned.close(), wrong.close()]);
      await server.close();
    }
  });
});

describe('the HTTP client', () => {
  async function listen(server: Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  test('reuses one connection: h2c multiplexes, HTTP/1.1 keeps alive', async () => {
    const server = await startStoreServer({ dir: tempDir() });
    try {
      await new HttpStore({ endpoint: server.url, bucket: 'dreamdb' }).put('x', text('x'));
      const before = server.stats.connections;
      const h2 = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h2c' });
      for (let i = 0; i < 20; i++) await h2.get('x');
      await Promise.all(Array.from({ length: 50 }, () => h2.get('x')));
      assert.equal(server.stats.connections - before, 1);
      const h1 = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h1' });
      for (let i = 0; i < 20; i++) await h1.get('x');
      // 20 requests, one keep-alive connection (undici's pool may open a second while releasing the first).
      assert.ok(server.stats.connections - before <= 3, `${server.stats.connections - before} connections`);
      assert.ok(server.stats.h2Connections >= 1);
      await Promise.all([h1.close(), h2.close()]);
    } finally {
      await server.close();
    }
  });

  test('an http:// store is reached over HTTP/1.1 unless h2c is asked for; h2c to an HTTP/1.1-only server fails at once, saying so', async () => {
    const server = await startStoreServer({ dir: tempDir() });
    const h1only = createServer((_req, res) => res.writeHead(200, { etag: '"abc"' }).end('ok'));
    const url = await listen(h1only);
    const auto = new HttpStore({ endpoint: server.url, bucket: 'dreamdb' });
    const h2 = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h2c' });
    const wrong = new HttpStore({ endpoint: url, bucket: 'b', protocol: 'h2c' });
    const right = new HttpStore({ endpoint: url, bucket: 'b' });
    try {
      await auto.put('x', text('x'));
      assert.equal(new TextDecoder().decode((await auto.get('x')).body), 'x');
      assert.equal(server.stats.h2Connections, 0, 'the default spoke HTTP/1.1');
      await h2.get('x');
      assert.equal(server.stats.h2Connections, 1);
      await assert.rejects(wrong.get('some/key'), (e: unknown) => {
        assert.ok(e instanceof EngineError && e.code === 'E_STORE', String(e));
        assert.match(
          e.message,
          /^E_STORE: GET some\/key from http:\/\/127\.0\.0\.1:\d+\/b: the store does not speak HTTP\/2 with prior knowledge \(h2c: .+\); reach it over http:\/\/ \(HTTP\/1\.1 keep-alive\)$/,
        );
        return true;
      });
      assert.equal(wrong.retried, 0, 'no retry: the protocol will not change');
      assert.equal(new TextDecoder().decode((await right.get('some/key')).body), 'ok');
    } finally {
      await Promise.all([auto.close(), h2.close(), wrong.close(), right.close()]);
      h1only.close();
      await server.close();
    }
  });

  test('retries 5xx and dropped connections with backoff, and names key and status when it gives up', async () => {
    let calls = 0;
    const flaky = createServer((req, res) => {
      calls++;
      if (calls === 1) return void req.socket.destroy(); // a reset
      if (calls <= 3)
        return void res.writeHead(503).end('<Error><Code>SlowDown</Code><Message>busy</Message></Error>');
      res.writeHead(200, { etag: '"abc"' }).end('ok');
    });
    const url = await listen(flaky);
    const store = new HttpStore({ endpoint: url, bucket: 'b', protocol: 'h1' });
    const once = new HttpStore({ endpoint: url, bucket: 'b', protocol: 'h1', retries: 1 });
    try {
      const got = await store.get('some/key');
      assert.equal(new TextDecoder().decode(got.body), 'ok');
      assert.equal(got.etag, 'abc');
      assert.equal(store.retried, 3);
      calls = 1;
      await assert.rejects(once.get('some/key'), (e: unknown) => {
        assert.ok(e instanceof EngineError && e.code === 'E_STORE');
        assert.match(e.message, /GET some\/key .*HTTP 503 SlowDown: busy/);
        return true;
      });
    } finally {
      await Promise.all([store.close(), once.close()]);
      flaky.close();
    }
  });

  test('a store that never answers times out with E_STORE_TIMEOUT', async () => {
    const silent = createServer(() => {});
    const url = await listen(silent);
    const store = new HttpStore({ endpoint: url, bucket: 'b', protocol: 'h1', timeoutMs: 200, retries: 1 });
    const started = Date.now();
    try {
      await assert.rejects(store.head('k'), code('E_STORE_TIMEOUT'));
      assert.ok(Date.now() - started < 3000);
    } finally {
      await store.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  test('a CAS whose answer was lost in flight is recognised as won on retry, not reported as a conflict', async () => {
    const server = await startStoreServer({ dir: tempDir() });
    const upstream = new HttpStore({ endpoint: server.url, bucket: 'dreamdb', protocol: 'h1' });
    let dropped = false;
    // A proxy that forwards the first PUT of the ref but drops the connection instead of answering.
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection'),
      ) as Record<string, string>;
      const answer = await request(`${server.url}${req.url}`, {
        method: req.method as 'GET',
        headers,
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      if (req.method === 'PUT' && req.url!.includes('/refs/') && !dropped) {
        dropped = true;
        return void req.socket.destroy();
      }
      res.writeHead(answer.statusCode, answer.headers as Record<string, string>).end(body);
    });
    const url = await listen(proxy);
    const store = new HttpStore({ endpoint: url, bucket: 'dreamdb', protocol: 'h1' });
    try {
      const space = new SpaceStore(store, 'lab');
      const first = await space.putObject(text('v1'));
      const state = await new SpaceStore(upstream, 'lab').casRef('main', first, undefined);
      const second = await space.putObject(text('v2'));
      const moved = await space.casRef('main', second, state);
      assert.ok(dropped);
      assert.deepEqual(moved.manifest, second);
      assert.deepEqual((await space.readRef('main'))?.manifest, second);
    } finally {
      await Promise.all([store.close(), upstream.close()]);
      proxy.closeAllConnections();
      proxy.close();
      await server.close();
    }
  });
});
