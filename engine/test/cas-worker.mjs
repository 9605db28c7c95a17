// One writer of the CAS race tests: increments a counter held by a ref, for a while, and prints
// {"successes": n, "conflicts": n}. Runs on the built engine (dist).
//   node cas-worker.mjs <store> <seconds> <id>
// <store> is either the origin of the embedded store's HTTP API (http://127.0.0.1:PORT, spoken over h2c,
// bucket dreamdb), or any store spec openStore takes (s3://bucket/prefix with S3_ENDPOINT, AWS_* and
// DREAMDB_S3_* from the environment; http://host:port/bucket/prefix).
// With CAS_WORKER_WAIT=1 it prints "ready" once its store answers and starts racing when a line arrives
// on stdin, so that writers which took long to start (32 processes on 2 cores) still race together.

import { HttpStore, openStore } from '@dreamdb/engine/node';
import { RefConflictError, SpaceStore } from '@dreamdb/engine/store';

const [target, seconds, id] = process.argv.slice(2);
const embedded = /^https?:\/\/[^/]+\/?$/.test(target);
const opened = embedded
  ? (() => {
      const store = new HttpStore({ endpoint: target, bucket: 'dreamdb', protocol: 'h2c' });
      return { store, close: () => store.close() };
    })()
  : await openStore(target);
const space = new SpaceStore(opened.store, 'race');
if (process.env.CAS_WORKER_WAIT === '1') {
  await space.readRef('counter');
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}
const deadline = Date.now() + Number(seconds) * 1000;
let successes = 0;
let conflicts = 0;
while (Date.now() < deadline) {
  const state = await space.readRef('counter');
  const count = Number(new TextDecoder().decode(await space.getObject(state.manifest)).split(' ')[0]);
  const next = await space.putObject(
    new TextEncoder().encode(`${count + 1} by ${id} #${successes + conflicts}`),
  );
  try {
    await space.casRef('counter', next, state);
    successes++;
  } catch (error) {
    if (!(error instanceof RefConflictError)) throw error;
    conflicts++;
  }
}
await opened.close();
process.stdout.write(`${JSON.stringify({ successes, conflicts })}\n`);
