// One writer of the CAS race test: increments a counter held by a ref, for a while, through the
// embedded store's HTTP API; prints {"successes": n, "conflicts": n}. Runs on the built engine (dist).
import { RefConflictError, SpaceStore } from '@dreamdb/engine';
import { HttpStore } from '@dreamdb/engine/node';

const [url, seconds, id] = process.argv.slice(2);
const store = new HttpStore({ endpoint: url, bucket: 'dreamdb', protocol: 'h2c' });
const space = new SpaceStore(store, 'race');
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
await store.close();
process.stdout.write(`${JSON.stringify({ successes, conflicts })}\n`);
