/**
 * A writer process for the lease race test (spec 0006 §2.8), run as `node --import tsx lease-writer.ts
 * <store url> <dir> <rounds> <grace ms>`. Each round: a version on heads/tmp-<i>, left to age past the
 * grace period; then a publish onto heads/out-<i> built on it, paused (files ready-<i> / go-<i>) while
 * the test deletes heads/tmp-<i> and collects. Odd rounds pause holding a lease, as a publish in flight
 * does; even rounds pause before publish takes its own. Prints one JSON line per round.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../../errors.js';
import { Session } from '../../../session/session.js';
import { SpaceStore } from '../../../store/space-store.js';
import { SECOND } from '../../../testing/fixtures.js';
import { takeLease } from '../../../versions/leases.js';
import { publish } from '../../../writes/publish.js';
import { Writer } from '../../../writes/writer.js';
import { openStore } from '../open.js';

const [url, dir, roundsText, graceText] = process.argv.slice(2) as [string, string, string, string];
const opened = await openStore(url);
const session = new Session(new SpaceStore(opened.store, 'lab'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < Number(roundsText); i++) {
  const tmp = new Writer((await session.resolve('main'))!);
  tmp.write('s1', 'det', [{ tick: BigInt(1000 + i) * SECOND, payload: { label: `base ${i}` } }]);
  await publish(session, tmp, { ref: `heads/tmp-${i}` });
  await sleep(Number(graceText) * 1.5);
  const base = (await new Session(new SpaceStore(opened.store, 'lab')).resolve(`heads/tmp-${i}`))!;
  const lease = i % 2 === 1 ? await takeLease(session, base) : undefined;
  writeFileSync(join(dir, `ready-${i}`), '');
  while (!existsSync(join(dir, `go-${i}`))) await sleep(20);
  const writer = new Writer(base);
  writer.write('s1', 'det', [{ tick: BigInt(2000 + i) * SECOND, payload: { label: `out ${i}` } }]);
  try {
    await publish(session, writer, { ref: `heads/out-${i}` });
    console.log(JSON.stringify({ round: i, outcome: 'published' }));
  } catch (error) {
    if (!(error instanceof EngineError && error.code === 'E_CONFLICT')) throw error;
    console.log(JSON.stringify({ round: i, outcome: 'refused', message: error.message }));
  } finally {
    await lease?.release();
  }
}
await opened.close();
