/**
 * Fair share at the origin (issue 17): tenant B's search latency while tenant A floods the same origin
 * with searches, beside B alone, through a real origin in token mode (in-process, app.fetch). Runs:
 *   - B alone;
 *   - B under A's flood with the origin's per-tenant scheduler (the tenant served longest ago first, one
 *     search at a time);
 *   - the same flood with the scheduler letting everything in at once (concurrency 1000): the baseline
 *     of an origin with no fair share.
 * Goal: B's p99 under the flood within 2x of B's p99 alone. Searches are exact scans of N vectors (CPU).
 * Run: npm run bench -- tenant-search   (DREAMDB_BENCH_N: vectors per space, default 20000;
 *   DREAMDB_BENCH_FLOOD: A's searches in flight, default 16; DREAMDB_BENCH_SAMPLES: B's searches, 200;
 *   DREAMDB_BENCH_CONCURRENCY: heavy work at once with fair share, default the origin's: 1)
 */
import { encodeVector } from '@dreamdb/engine';
import { claimSpace, issueToken, keyId, newIssuerKey, newTenant, writeTenant } from '@dreamdb/engine/access';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, Writer } from '@dreamdb/engine/write';
import { createOrigin } from '../server/src/origin/app.ts';
import { printTable, quantile, type Row } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_N ?? 20_000);
const DIM = 64;
const FLOOD = Number(process.env.DREAMDB_BENCH_FLOOD ?? 16);
const SAMPLES = Number(process.env.DREAMDB_BENCH_SAMPLES ?? 200);
const SECOND = 1_000_000_000n;

const store = new MemoryStore();
const issuer = newIssuerKey();
const issuers = new Map([[keyId(issuer.publicKey), issuer.publicKey]]);
const exp = Math.floor(Date.now() / 1000) + 3600;
let seed = 7;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
};
const vector = () => Array.from({ length: DIM }, rand);

for (const [tenant, space] of [
  ['alpha', 'a'],
  ['beta', 'b'],
] as const) {
  await writeTenant(store, newTenant(tenant));
  await claimSpace(store, space, tenant);
  const writer = new Writer(undefined);
  writer.timeline({ name: 'bench', genesis: 0n }).track({
    timeline: 'bench',
    name: 'emb',
    kind: 'event',
    modality: `vector.f32;dim=${DIM}`,
    bucketDuration: 600n * SECOND,
  });
  const items = Array.from({ length: N }, (_, i) => ({
    tick: BigInt(i) * SECOND,
    payload: encodeVector(Float32Array.from(vector())),
  }));
  writer.write('bench', 'emb', items);
  await publish(new Session(new SpaceStore(store, space)), writer, { ref: 'main' });
}
const tokenOf = (tenant: string) => issueToken(issuer, { tenant, rights: ['read'], spaces: ['*'], exp });
const tokens = { a: tokenOf('alpha'), b: tokenOf('beta') };

function search(app: { fetch: (r: Request) => Response | Promise<Response> }, space: 'a' | 'b') {
  return app.fetch(
    new Request(`http://origin/v0/spaces/${space}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[space]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ timeline: 'bench', track: 'emb', vector: vector(), k: 10, exact: true }),
    }),
  );
}

/** B's search latencies (ms), with A keeping `flood` searches in flight meanwhile (0: none). */
async function measure(concurrency: number, flood: number): Promise<{ ms: number[]; aDone: number }> {
  const app = createOrigin({ store, issuers, tenancy: { concurrency, flushMs: 3_600_000 } });
  for (let i = 0; i < 5; i++) await (await search(app, 'b')).arrayBuffer();
  let stop = false;
  let aDone = 0;
  const flooders = Array.from({ length: flood }, async () => {
    while (!stop) {
      const r = await search(app, 'a');
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`A: ${r.status}`);
      aDone++;
    }
  });
  const ms: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    const r = await search(app, 'b');
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`B: ${r.status}`);
    ms.push(performance.now() - t);
  }
  stop = true;
  await Promise.all(flooders);
  await app.close();
  return { ms, aDone };
}

// The origin's default: one at a time (one Node thread runs the CPU part of every search).
const cores = Number(process.env.DREAMDB_BENCH_CONCURRENCY ?? 1);
const alone = await measure(cores, 0);
const fair = await measure(cores, FLOOD);
const open = await measure(1000, FLOOD);
const row = (name: string, r: { ms: number[]; aDone: number }): Row => ({
  name,
  value: quantile(r.ms, 0.99),
  unit: 'ms p99',
  note: `p50 ${quantile(r.ms, 0.5).toFixed(2)} ms; A completed ${r.aDone} searches meanwhile`,
});
printTable(
  `tenant B's exact search over ${N} x ${DIM} (${SAMPLES} searches), A keeping ${FLOOD} in flight; ratio > 1 is slower`,
  [
    row('B alone', alone),
    row(`B under A's flood, fair share (${cores} at once)`, fair),
    row("B under A's flood, no fair share (all at once)", open),
  ],
  'B alone',
);
