import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, multihashToHex, type Track } from '@dreamdb/engine';
import { openIndex, registerIndexKind } from '@dreamdb/engine/indexes';
import { MemoryStore, objectKey, type Resolved, Session, SpaceStore } from '@dreamdb/engine/store';
import { collect, createRef, fsck, merge } from '@dreamdb/engine/versions';
import { publish, Writer, writeManifest } from '@dreamdb/engine/write';
import { LABEL_COUNTS, type LabelCounts, labelCounts } from './kind.js';

registerIndexKind(labelCounts); // the one line that makes the kind known

const SECOND = 1_000_000_000n;
const HOUR = 3_600_000;

const detections = (field = 'label'): Track => ({
  timeline: 's1',
  name: 'det',
  kind: 'event',
  modality: 'event.detection',
  bucketDuration: 10n * SECOND,
  indexes: { [LABEL_COUNTS]: { params: { field }, segments: [] } },
});

const items = (labels: readonly string[], from: number) =>
  labels.map((label, i) => ({ tick: BigInt(from + i) * SECOND, payload: { label, score: 0.5 } }));

const det = (r: Resolved) => r.manifest.tracks.find((t) => t.name === 'det')!;

async function countsOf(session: Session, version: Resolved): Promise<Record<string, number>> {
  return (await openIndex<LabelCounts>(session, det(version), LABEL_COUNTS)).counts();
}

test('a toy index kind registered from one folder is built at publish, merged, queried, collected and fsck’d', async () => {
  const store = new MemoryStore();
  const space = new SpaceStore(store, 'lab');
  const session = new Session(space);

  // Built at publish, from what its stage step took of each item as it was written.
  const first = new Writer().timeline({ name: 's1' }).track(detections());
  first.write('s1', 'det', items(['person', 'car', 'person', 'person', 'car'], 0));
  const main = await publish(session, first, { ref: 'main' });
  assert.deepEqual(Object.keys(det(main).indexes!), [LABEL_COUNTS], 'only the declared index is built');
  assert.deepEqual(await countsOf(session, main), { car: 2, person: 3 });

  // Merged: an append on main, an append and a replaced item on a branch; the merge applies theirs' changes.
  await createRef(session, 'heads/review', 'main');
  const onMain = new Writer(main).write('s1', 'det', items(['dog', 'dog', 'dog'], 100));
  const mainAfter = await publish(session, onMain, { ref: 'main' });
  const review = new Writer((await session.resolve('heads/review'))!)
    .write('s1', 'det', items(['cat', 'cat'], 200))
    .write('s1', 'det', items(['bike'], 0)); // was a person
  const reviewAfter = await publish(session, review, { ref: 'heads/review' });
  assert.deepEqual(await countsOf(session, reviewAfter), { bike: 1, car: 2, cat: 2, person: 2 });
  const merged = await merge(session, { into: 'main', from: ['heads/review'] });
  assert.equal(merged.outcome, 'merge');
  assert.deepEqual(await countsOf(session, merged), { bike: 1, car: 2, cat: 2, dog: 3, person: 2 });
  assert.deepEqual(await countsOf(session, mainAfter), { car: 2, dog: 3, person: 3 }, 'time travel');

  // Appends past four segments are merged into one by the kind; the counts stay exact.
  let head: Resolved = merged;
  for (let i = 0; i < 6; i++)
    head = await publish(session, new Writer(head).write('s1', 'det', items(['van'], 300 + i)), {
      ref: 'main',
    });
  assert.ok(det(head).indexes![LABEL_COUNTS]!.segments.length <= 4);
  assert.deepEqual(await countsOf(session, head), { bike: 1, car: 2, cat: 2, dog: 3, person: 2, van: 6 });

  // Collected: a manifest no ref names leaves garbage, swept; what the refs reach (segments and the
  // counts objects the kind follows from them) is kept.
  const orphan = await writeManifest(session, new Writer(head).write('s1', 'det', items(['ghost'], 500)));
  const orphanSegments = det(orphan).indexes![LABEL_COUNTS]!.segments;
  const swept = await collect(new Session(space), { now: Date.now() + 2 * HOUR });
  const orphanSegment = multihashToHex(orphanSegments[orphanSegments.length - 1]!.object);
  assert.ok(swept.deleted.includes(orphanSegment), 'the orphan manifest’s segment is swept');
  const fresh = new Session(space);
  assert.deepEqual(await countsOf(fresh, (await fresh.resolve('main'))!), {
    bike: 1,
    car: 2,
    cat: 2,
    dog: 3,
    person: 2,
    van: 6,
  });

  // fsck'd: sound, then a counts object the kind follows from a segment is removed and named.
  assert.deepEqual((await fsck(store)).problems, []);
  const segment = det(head).indexes![LABEL_COUNTS]!.segments[0]!;
  const [countsObject] = await labelCounts.follow!(fresh, segment, { field: 'label' });
  await store.delete(objectKey('lab', countsObject!));
  const { problems } = await fsck(store);
  assert.ok(
    problems.some((p) =>
      p.includes(
        `${multihashToHex(countsObject!)}: missing, named by ${LABEL_COUNTS} segment ${multihashToHex(segment.object)}`,
      ),
    ),
    problems.join('\n'),
  );
});

test('the MUST-refuse rule holds for any kind: one track indexed under other parameters on two branches is not merged', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const root = await publish(session, new Writer().timeline({ name: 's1' }), { ref: 'main' });
  await createRef(session, 'heads/other', 'main');
  await publish(session, new Writer(root).track(detections('label')).write('s1', 'det', items(['a'], 0)), {
    ref: 'main',
  });
  await publish(session, new Writer(root).track(detections('kind')).write('s1', 'det', items(['b'], 1)), {
    ref: 'heads/other',
  });
  await assert.rejects(
    merge(session, { into: 'main', from: ['heads/other'] }),
    (e: unknown) =>
      e instanceof EngineError &&
      e.code === 'E_LINEAGE' &&
      /ours: com\.example\.label-counts \(labels of field label\); theirs: com\.example\.label-counts \(labels of field kind\)/.test(
        e.message,
      ),
  );
});
