/**
 * Object-store throughput: 4 KiB PUT and GET rates and 64 MiB GET throughput against the embedded store
 * (its own process, `dreamdb store serve`) over HTTP/1.1 and h2c, beside nginx serving the same files
 * (GET only) in the same run, through the same client (HttpStore). Clients keep 32 requests in flight.
 * Needs nginx (apt-get install nginx-light) and a build (npm run build).
 * Run: npm run bench -- store   (DREAMDB_BENCH_SMALL=2000 for a quicker run)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashBytes } from '@dreamdb/engine';
import { HttpStore } from '@dreamdb/engine/node';
import { objectKey } from '@dreamdb/engine/store';
import { printTable, type Row, timed } from './lib.ts';

const SMALL = Number(process.env.DREAMDB_BENCH_SMALL ?? 10_000);
const LARGE_MIB = 64;
const LARGE_GETS = 8;
const IN_FLIGHT = 32;
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-bench-store-'));
const children: ChildProcess[] = [];

function start(command: string, args: string[], ready: RegExp): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) resolve(match[1] ?? '');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (status) => reject(new Error(`${command} exited ${status}: ${out}`)));
  });
}

/** Run `count` operations with `IN_FLIGHT` at a time; returns seconds. */
function pump(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  return timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) await op(next++);
      }),
    );
  });
}

try {
  const url = await start(
    process.execPath,
    [
      join(import.meta.dirname, '../server/bin/dreamdb.js'),
      'store',
      'serve',
      join(dir, 'store'),
      '--port',
      '0',
    ],
    / at (http:\/\/[^/\s]+)\//,
  );
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off; worker_processes 1; ${process.getuid?.() === 0 ? 'user root;' : ''} error_log ${dir}/nginx-error.log; pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  server { listen 127.0.0.1:${port}; root ${dir}/store/buckets; location / { } } }`,
  );
  const nginxStarted = start(
    'nginx',
    ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'nginx-error.log')],
    /^()/,
  );
  await Promise.race([nginxStarted, new Promise((r) => setTimeout(r, 500))]);

  const rows: Row[] = [];
  // Content objects, as DreamDB stores them: spaces/<space>/objects/<multihash>.
  const smallBodies = Array.from({ length: SMALL }, () => randomBytes(4096));
  const smallKeys = smallBodies.map((body) => objectKey('bench', hashBytes(body)));
  const h1 = new HttpStore({ endpoint: url, bucket: 'dreamdb', protocol: 'h1', connections: IN_FLIGHT });
  const h2 = new HttpStore({ endpoint: url, bucket: 'dreamdb', protocol: 'h2c' });
  // The same client for both servers: nginx serves the store's files at the same paths.
  const nginx = new HttpStore({
    endpoint: `http://127.0.0.1:${port}`,
    bucket: 'dreamdb',
    protocol: 'h1',
    connections: IN_FLIGHT,
  });
  const nginxGet = (key: string) => nginx.get(key);

  // The second PUT of each object finds it there (content is written once): both rows time the same work.
  for (const [name, store] of [
    ['HTTP/1.1', h1],
    ['h2c (objects already there)', h2],
  ] as const) {
    const put = await pump(SMALL, (i) => store.put(smallKeys[i]!, smallBodies[i]!, { ifNoneMatch: '*' }));
    rows.push({ name: `embedded store PUT 4 KiB, ${name}`, value: SMALL / put, unit: 'req/s' });
  }
  const smallGets: [string, (i: number) => Promise<unknown>][] = [
    ['embedded store GET 4 KiB, HTTP/1.1', (i) => h1.get(smallKeys[i]!)],
    ['embedded store GET 4 KiB, h2c', (i) => h2.get(smallKeys[i]!)],
    ['nginx GET 4 KiB (same files), HTTP/1.1', (i) => nginxGet(smallKeys[i]!)],
  ];
  for (const pass of ['first read', 'again']) {
    for (const [name, op] of smallGets) {
      rows.push({ name: `${name}, ${pass}`, value: SMALL / (await pump(SMALL, op)), unit: 'req/s' });
    }
  }

  const large = randomBytes(LARGE_MIB << 20);
  const putLarge = await timed(() => h1.put('large/object', large));
  rows.push({
    name: `embedded store PUT ${LARGE_MIB} MiB, HTTP/1.1`,
    value: large.length / putLarge / 1e6,
    unit: 'MB/s',
  });
  const largeGets: [string, () => Promise<unknown>][] = [
    ['embedded store GET 64 MiB, HTTP/1.1', () => h1.get('large/object')],
    ['embedded store GET 64 MiB, h2c', () => h2.get('large/object')],
    ['nginx GET 64 MiB (same file), HTTP/1.1', () => nginxGet('large/object')],
  ];
  for (const [name, op] of largeGets) {
    const seconds = await timed(async () => {
      for (let i = 0; i < LARGE_GETS; i++) await op();
    });
    rows.push({ name, value: (LARGE_GETS * large.length) / seconds / 1e6, unit: 'MB/s' });
  }
  await Promise.all([h1.close(), h2.close(), nginx.close()]);

  const small = rows.filter((r) => r.unit === 'req/s');
  const big = rows.filter((r) => r.unit === 'MB/s');
  printTable(
    `Object store, 4 KiB objects, ${SMALL} requests, ${IN_FLIGHT} in flight`,
    small,
    'nginx GET 4 KiB (same files), HTTP/1.1, again',
  );
  printTable(
    `Object store, one ${LARGE_MIB} MiB object, ${LARGE_GETS} GETs`,
    big,
    'nginx GET 64 MiB (same file), HTTP/1.1',
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
