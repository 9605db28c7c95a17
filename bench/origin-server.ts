/**
 * The origin in a process of its own, for bench/origin.ts (wrk measures this process, not the bench's):
 * createOrigin over an FsStore directory, on 127.0.0.1 and a free port, which it prints as one JSON
 * line. SIGTERM closes it with a normal exit, so `node --cpu-prof` writes its profile.
 * Run: node --import tsx --conditions=source bench/origin-server.ts <store dir>
 * (DREAMDB_BENCH_CACHE_MIB, DREAMDB_BENCH_READ_AHEAD_MIB: the byte cache's knobs; defaults: the origin's;
 * DREAMDB_BENCH_ISSUER=<public key hex>: a second origin over the same store, checking tokens of that
 * issuer, on a port of its own, printed as tokenPort)
 */
import type { AddressInfo } from 'node:net';
import { fromHex } from '@dreamdb/engine';
import { keyId } from '@dreamdb/engine/access';
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
const issuer = process.env.DREAMDB_BENCH_ISSUER;
const checked =
  issuer &&
  createOrigin({
    store,
    issuers: new Map([[keyId(fromHex(issuer)), fromHex(issuer)]]),
    ...(cacheBytes !== undefined && { cacheBytes }),
    ...(readAhead !== undefined && { readAhead }),
  });
const listen = (fetch: typeof app.fetch) =>
  new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({ server, port: info.port }),
    );
  });
const open = await listen(app.fetch);
const token = checked ? await listen(checked.fetch) : undefined;
process.stdout.write(
  `${JSON.stringify({ port: open.port, pid: process.pid, ...(token && { tokenPort: token.port }) })}\n`,
);
const server = open.server;
process.once('SIGTERM', () => {
  server.close();
  token?.server.close();
  void store.close().then(() => process.exit(0));
});
