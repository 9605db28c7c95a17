/**
 * The origin in a process of its own, for bench/origin.ts (wrk measures this process, not the bench's):
 * createOrigin over an FsStore directory, on 127.0.0.1 and a free port, which it prints as one JSON
 * line. SIGTERM closes it with a normal exit, so `node --cpu-prof` writes its profile.
 * Run: node --import tsx --conditions=source bench/origin-server.ts <store dir>
 * (DREAMDB_BENCH_CACHE_MIB, DREAMDB_BENCH_READ_AHEAD_MIB: the byte cache's knobs; defaults: the origin's)
 */
import type { AddressInfo } from 'node:net';
import { FsStore } from '@dreamdb/engine/node';
import { serve } from '@hono/node-server';
import { createOrigin } from '../server/src/origin/app.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: origin-server.ts <store dir>');
const mib = (name: string) => (process.env[name] ? Number(process.env[name]) * 2 ** 20 : undefined);
const cacheBytes = mib('DREAMDB_BENCH_CACHE_MIB');
const readAhead = mib('DREAMDB_BENCH_READ_AHEAD_MIB');
const store = await FsStore.open(dir);
const app = createOrigin({
  store,
  ...(cacheBytes !== undefined && { cacheBytes }),
  ...(readAhead !== undefined && { readAhead }),
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
  process.stdout.write(`${JSON.stringify({ port: info.port, pid: process.pid })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  void store.close().then(() => process.exit(0));
});
