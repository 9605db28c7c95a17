import { MemoryStore, publish, Session, SpaceStore, Writer } from '@dreamdb/engine';
import '@dreamdb/engine/node';
const MS = 1_000_000n;
const LABELS = ['person', 'car', 'dog', 'bicycle', 'cup'];
const modality = process.argv[2] ?? 'event.detection';
const N = 1_000_000;
async function run(n: number) {
  const writer = new Writer().timeline({ name: 'run' }).track({ timeline: 'run', name: 'det', kind: 'event', modality, bucketDuration: 60_000n * MS });
  let w = 0;
  for (let i = 0; i < n; i += 100_000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100_000); j++) batch.push({ tick: BigInt(j) * 10n * MS, payload: { label: LABELS[j % 5]!, score: (j % 1000) / 1000 + 0.0005 } });
    const t = performance.now(); writer.write('run', 'det', batch); w += performance.now() - t;
  }
  const t = performance.now();
  await publish(new Session(new SpaceStore(new MemoryStore(), 'b')), writer, { ref: 'main' });
  const p = performance.now() - t;
  return { w, p };
}
await run(300_000);
const r = await run(N);
console.log(modality, `write ${(N / r.w * 1000 / 1000).toFixed(0)}k/s publish ${(N / r.p * 1000 / 1000).toFixed(0)}k/s total ${(N / (r.w + r.p) * 1000 / 1000).toFixed(0)}k/s`);
