/**
 * Capability tokens (issue 17), each figure beside a baseline measured in the same run:
 * 1. Serving with token checks (and tenancy: rate, usage) against the same origin without (open mode),
 *    in-process (app.fetch, no sockets, so the check's cost is not hidden in network time), both sent
 *    the same requests: 64 KB byte ranges of content objects (a token in the query, as players send it)
 *    and a small API read (a Bearer header). Goal: >= 0.95x of open mode's throughput; p99 beside it.
 * 2. Token verification: Ed25519 signature checks of a 1-block and a 3-block token, against the
 *    origin's cache of verified tokens (what every request after a client's first one costs).
 * Run: npm run bench -- access   (DREAMDB_BENCH_REQUESTS: requests per round, default 4000)
 */
import { hashBytes } from '@dreamdb/engine';
import { attenuateToken, issueToken, keyId, newIssuerKey, verifyToken } from '@dreamdb/engine/access';
import { MemoryStore, objectKey } from '@dreamdb/engine/store';
import { AccessControl } from '../server/src/origin/access/control.ts';
import { createOrigin } from '../server/src/origin/app.ts';
import { printTable, quantile, type Row } from './lib.ts';

const REQUESTS = Number(process.env.DREAMDB_BENCH_REQUESTS ?? 4000);
const ROUNDS = 4;
const issuer = newIssuerKey();
const issuers = new Map([[keyId(issuer.publicKey), issuer.publicKey]]);
const exp = Math.floor(Date.now() / 1000) + 3600;
const token = issueToken(issuer, { tenant: 'default', rights: ['read'], spaces: ['bench'], exp });
const chain = attenuateToken(attenuateToken(token, { refs: ['main'] }), { exp: exp - 60 });

const store = new MemoryStore();
const objects: string[] = [];
for (let i = 0; i < 32; i++) {
  const bytes = new Uint8Array(1 << 20).map((_, j) => (j * 31 + i * 7) & 255);
  const mh = hashBytes(bytes);
  await store.put(objectKey('bench', mh), bytes);
  objects.push(Buffer.from(mh).toString('hex'));
}
const open = createOrigin({ store, maxUploadBytes: 0 });
const checked = createOrigin({ store, maxUploadBytes: 0, issuers });

type Make = (i: number) => Request;
const rangeOf =
  (withToken: boolean): Make =>
  (i) => {
    const start = (i * 65_536) % ((1 << 20) - 65_536);
    return new Request(
      `http://origin/objects/bench/${objects[i % objects.length]}.m4s${withToken ? `?token=${token}` : ''}`,
      { headers: { range: `bytes=${start}-${start + 65_535}` } },
    );
  };
const apiOf =
  (withToken: boolean): Make =>
  () =>
    new Request(
      'http://origin/v0/spaces/bench/refs',
      withToken ? { headers: { authorization: `Bearer ${token}` } } : {},
    );

/** Requests per second and per-request ms of `make`'s requests, one at a time. */
async function run(app: { fetch: (r: Request) => Response | Promise<Response> }, make: Make) {
  const ms: number[] = [];
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const response = await app.fetch(make(i));
    await response.arrayBuffer();
    if (response.status >= 300) throw new Error(`${response.status} ${await response.text()}`);
    ms.push(performance.now() - t);
  }
  return { rps: REQUESTS / ((performance.now() - started) / 1000), ms };
}

async function compare(title: string, openMake: Make, tokenMake: Make): Promise<void> {
  // Warm both (the byte cache, the verified-token cache), then alternate rounds so noise falls on both.
  await run(open, openMake);
  await run(checked, tokenMake);
  const results = { open: { rps: 0, ms: [] as number[] }, token: { rps: 0, ms: [] as number[] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, app, make] of [
      ['open', open, openMake],
      ['token', checked, tokenMake],
    ] as const) {
      const { rps, ms } = await run(app, make);
      results[name].rps += rps / ROUNDS;
      results[name].ms.push(...ms);
    }
  }
  const rows: Row[] = (['open', 'token'] as const).map((name) => ({
    name: name === 'open' ? 'open mode (no token checks)' : 'token checked on every request',
    value: results[name].rps,
    unit: 'req/s',
    note: `p50 ${quantile(results[name].ms, 0.5).toFixed(3)} ms, p99 ${quantile(results[name].ms, 0.99).toFixed(3)} ms`,
  }));
  printTable(title, rows, 'open mode (no token checks)');
}

// Both origins get the same requests, token included (an open origin ignores it): the figures differ by
// the check alone, not by a longer URL or one more header to build.
await compare(`byte ranges of 64 KB (${REQUESTS} x ${ROUNDS} rounds each)`, rangeOf(true), rangeOf(true));
await compare(`GET /v0/spaces/bench/refs (${REQUESTS} x ${ROUNDS} rounds each)`, apiOf(true), apiOf(true));

/** µs per call of fn, and its p99, over n calls. */
function perCall(n: number, fn: (i: number) => unknown) {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn(i);
    us.push((performance.now() - t) * 1000);
  }
  return { mean: us.reduce((s, x) => s + x, 0) / n, p99: quantile(us, 0.99) };
}
const control = new AccessControl(store, issuers);
await control.authenticate(token);
const cached: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t = performance.now();
  await control.authenticate(token);
  cached.push((performance.now() - t) * 1000);
}
const one = perCall(200, () => verifyToken(token, issuers));
const three = perCall(100, () => verifyToken(chain, issuers));
const cachedMean = cached.reduce((s, x) => s + x, 0) / cached.length;
printTable(
  'token verification (calls per second; a cached token is what every request after the first costs)',
  [
    {
      name: 'verify a 1-block token (Ed25519, @noble/curves)',
      value: 1e6 / one.mean,
      unit: 'calls/s',
      note: `p99 ${one.p99.toFixed(0)} us`,
    },
    {
      name: 'verify a 3-block token',
      value: 1e6 / three.mean,
      unit: 'calls/s',
      note: `p99 ${three.p99.toFixed(0)} us`,
    },
    {
      name: 'authenticate a cached token (times, revocation)',
      value: 1e6 / cachedMean,
      unit: 'calls/s',
      note: `p99 ${quantile(cached, 0.99).toFixed(1)} us`,
    },
  ],
  'verify a 1-block token (Ed25519, @noble/curves)',
);
