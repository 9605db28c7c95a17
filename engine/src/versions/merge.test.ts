import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { LSH_COSINE } from '../indexes/lsh/lsh.js';
import { defaultSpatialIndex, spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { range } from '../queries/read.js';
import { encodeVector, search } from '../queries/search.js';
import { textSearch } from '../queries/text-search.js';
import type { Resolved } from '../session/session.js';
import { Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import type { ObjectStore } from '../store/object-store.js';
import { RefConflictError, SpaceStore } from '../store/space-store.js';
import { camAndDetections, detectionLabels, failingStore, SECOND } from '../testing/fixtures.js';
import { random } from '../testing/random.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { isAncestor, log, mergeBases } from './dag.js';
import { diffVersions } from './diff.js';
import { merge } from './merge.js';
import { MergeConflictError } from './merge-content.js';
import { branchRef, createRef, deleteBranch, listRefs, tagRef } from './refs.js';

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;
const hex = multihashToHex;

/** A fresh space on a memory store. */
const open = (store: ObjectStore = new MemoryStore()) => new Session(new SpaceStore(store, 'lab'));

/** Publish detections (tick in seconds -> label) onto a ref, creating the recording on first use. */
async function commit(
  session: Session,
  ref: string,
  items: Record<number, string>,
  options: { created?: bigint; rebase?: boolean; base?: Resolved } = {},
) {
  const base = options.base ?? (await session.resolve(ref));
  const writer = base ? new Writer(base) : camAndDetections();
  writer.write(
    's1',
    'det',
    Object.entries(items).map(([t, label]) => ({ tick: BigInt(t) * SECOND, payload: { label } })),
  );
  return publish(session, writer, {
    ref,
    ...(options.created !== undefined && { created: options.created }),
    ...(options.rebase && { rebase: true }),
  });
}

/** The detections of a version (a ref or a resolved version), tick in seconds -> label. */
const labels = async (session: Session, version: string | Resolved) =>
  detectionLabels(session, typeof version === 'string' ? (await session.resolve(version))! : version);

test('a fork merges both ways: fast-forward first, then a merge manifest with both parents and the union of items', async () => {
  const session = open();
  const root = await commit(session, 'main', { 1: 'a', 2: 'b' });
  await createRef(session, branchRef('team-a'), 'main');
  await createRef(session, 'refs/heads/team-b', root.hash);
  const a = await commit(session, 'heads/team-a', { 3: 'from-a', 1: 'a2' });
  const b = await commit(session, 'heads/team-b', { 4: 'from-b', 10: 'late' });

  const ff = await merge(session, { into: 'main', from: ['heads/team-a'] });
  assert.equal(ff.outcome, 'fast-forward');
  assert.equal(hex(ff.hash), hex(a.hash));

  const merged = await merge(session, { into: 'main', from: ['refs/heads/team-b'], message: 'merge team-b' });
  assert.equal(merged.outcome, 'merge');
  assert.deepEqual(merged.manifest.parents.map(hex), [hex(a.hash), hex(b.hash)]);
  assert.deepEqual(merged.bases, [[hex(root.hash)]]);
  assert.deepEqual(await labels(session, 'main'), { 1: 'a2', 2: 'b', 3: 'from-a', 4: 'from-b', 10: 'late' });
  // The stream track nobody changed is shared as is; the merged index is a fresh tree of the union.
  assert.equal(merged.manifest.tracks.find((t) => t.name === 'det')!.index!.count, 5);

  // Merging again is a no-op; history shows every manifest once, newest first.
  assert.equal((await merge(session, { into: 'main', from: ['heads/team-b'] })).outcome, 'up-to-date');
  const history = [];
  for await (const entry of log(session, [merged.hash])) history.push(hex(entry.hash));
  assert.deepEqual(new Set(history), new Set([merged, a, b, root].map((m) => hex(m.hash))));
  assert.equal(history[0], hex(merged.hash));
  assert.equal(history[history.length - 1], hex(root.hash));
  for (const entry of [merged, a, b])
    for (const parent of entry.manifest.parents)
      assert.ok(
        (await session.manifest(parent)).created < entry.manifest.created,
        'timestamps grow along the DAG',
      );

  // Time travel: the old version still reads as it was.
  assert.deepEqual(await labels(session, { hash: root.hash, manifest: root.manifest }), { 1: 'a', 2: 'b' });
  const diff = await diffVersions(session, root.manifest, merged.manifest);
  assert.deepEqual(
    diff.map((d) => [
      d.track,
      d.added,
      d.removed,
      d.changed,
      d.items.map((i) => [Number(i.tick / SECOND), i.change]),
    ]),
    [
      [
        'det',
        3,
        0,
        1,
        [
          [1, 'changed'],
          [3, 'added'],
          [4, 'added'],
          [10, 'added'],
        ],
      ],
    ],
  );
});

test('the same item changed differently on both sides is a conflict with both values, and nothing moves', async () => {
  const session = open();
  const root = await commit(session, 'main', { 1: 'a', 2: 'b' });
  await createRef(session, 'heads/x', 'main');
  await commit(session, 'main', { 2: 'main says b2', 5: 'new' });
  await commit(session, 'heads/x', { 2: 'x says b3', 6: 'other', 1: 'a' }); // 1: the same value again
  const before = await session.store.readRef('main');
  const error = await merge(session, { into: 'main', from: ['heads/x'] }).catch((e: unknown) => e);
  assert.ok(error instanceof MergeConflictError, String(error));
  assert.equal(error.code, 'E_CONFLICT');
  assert.equal(error.conflicts.length, 1);
  const [c] = error.conflicts;
  assert.equal(c!.tick, 2n * SECOND);
  assert.equal(c!.reason, 'changed differently on both sides');
  assert.deepEqual(
    ['base', 'ours', 'theirs'].map(
      (side) => ((c as never)[side] as { payload: { label: string } }).payload.label,
    ),
    ['b', 'main says b2', 'x says b3'],
  );
  assert.match(
    error.message,
    /s1\/det@2000000000: changed differently on both sides\); nothing was published/,
  );
  assert.deepEqual(await session.store.readRef('main'), before);
  // The same change on both sides is no conflict.
  await createRef(session, 'heads/y', root.hash);
  await commit(session, 'heads/y', { 2: 'main says b2', 7: 'y' });
  const merged = await merge(session, { into: 'main', from: ['heads/y'] });
  assert.deepEqual(await labels(session, merged), { 1: 'a', 2: 'main says b2', 5: 'new', 7: 'y' });
});

test('items added at the same tick on both sides: the same item merges, different ones conflict', async () => {
  const session = open();
  await commit(session, 'main', { 1: 'a' });
  await createRef(session, 'heads/x', 'main');
  await commit(session, 'main', { 9: 'same' });
  await commit(session, 'heads/x', { 9: 'same' });
  assert.deepEqual(await labels(session, await merge(session, { into: 'main', from: ['heads/x'] })), {
    1: 'a',
    9: 'same',
  });
  await createRef(session, 'heads/z', 'main');
  await commit(session, 'main', { 11: 'one' });
  await commit(session, 'heads/z', { 11: 'two' });
  const error = await merge(session, { into: 'main', from: ['heads/z'] }).catch((e: unknown) => e);
  assert.ok(error instanceof MergeConflictError);
  assert.equal(error.conflicts[0]!.reason, 'added differently on both sides');
  assert.equal(error.conflicts[0]!.base, undefined);
});

test('constant tracks: the greatest correction layer wins, whichever side merges which', async () => {
  const results: string[] = [];
  for (const direction of ['x-into-main', 'main-into-x']) {
    const session = open();
    const base = camAndDetections().track({
      timeline: 's1',
      name: 'calib',
      kind: 'constant',
      modality: 'event.calibration',
    });
    base.write('s1', 'calib', [{ tick: 0n, payload: { gain: 1 }, layer: 'a' }]);
    await publish(session, base, { ref: 'main', created: 1n });
    await createRef(session, 'heads/x', 'main');
    const correct = async (ref: string, gain: number, layer: string) => {
      const w = new Writer(await session.resolve(ref));
      w.write('s1', 'calib', [{ tick: 0n, payload: { gain }, layer }]);
      await publish(session, w, { ref, created: 2n });
    };
    await correct('main', 2, 'b');
    await correct('heads/x', 3, 'c');
    const [into, from] = direction === 'x-into-main' ? ['main', 'heads/x'] : ['heads/x', 'main'];
    const merged = await merge(session, { into, from: [from], created: 3n });
    const page = await range(session, merged, { timeline: 's1', tracks: ['calib'], t0: 0n, t1: 1n });
    results.push(JSON.stringify(page.items.map((i) => [i.layer, i.payload])));
  }
  assert.deepEqual(results, [JSON.stringify([['c', { gain: 3 }]]), JSON.stringify([['c', { gain: 3 }]])]);
});

test('a stream track changed on both sides conflicts; changed on one side it is taken whole', async () => {
  const session = open();
  await commit(session, 'main', { 1: 'a' });
  await createRef(session, 'heads/x', 'main');
  const fragment = (ref: string, at: bigint, text: string) => async () => {
    const w = new Writer(await session.resolve(ref));
    w.write('s1', 'cam', [{ tick: at, duration: 2n * SECOND, payload: new TextEncoder().encode(text) }]);
    await publish(session, w, { ref });
  };
  await fragment('heads/x', 0n, 'x fragment')();
  const taken = await merge(session, { into: 'main', from: ['heads/x'], fastForward: false });
  assert.equal(taken.outcome, 'merge');
  assert.equal(taken.manifest.tracks.find((t) => t.name === 'cam')!.index!.count, 1);
  await fragment('main', 2n * SECOND, 'main fragment')();
  await fragment('heads/x', 4n * SECOND, 'another x fragment')();
  const error = await merge(session, { into: 'main', from: ['heads/x'] }).catch((e: unknown) => e);
  assert.ok(error instanceof MergeConflictError);
  assert.deepEqual(
    error.conflicts.map((c) => [c.track, c.reason]),
    [['cam', 'stream track changed on both sides']],
  );
});

const DIM = 8;
const vectorTrack = (
  writer: Writer,
  spatial?: { tables: number; bits: number; probes: number; seed: Uint8Array },
) =>
  writer.track({
    timeline: 's1',
    name: 'emb',
    kind: 'event',
    modality: `vector.f32;dim=${DIM}`,
    bucketDuration: 60n * SECOND,
    // LSH, named: the default index of a vector track is the graph (its merges: graph/track-index.test.ts).
    indexes: {
      [LSH_COSINE]: {
        params: spatialIndexToCbor(
          spatial ? { ...spatial, dimension: DIM, scheme: LSH_COSINE } : defaultSpatialIndex(DIM),
        ),
        segments: [],
      },
    },
  });
const unit = (i: number) =>
  Float32Array.from({ length: DIM }, (_, d) => Math.cos(i * 0.7 + d * 1.3) + (d === i % DIM ? 2 : 0));

test('merged vector and text tracks answer searches for both sides; spatial indexes of other lineages are refused', async () => {
  const session = open();
  const w = vectorTrack(camAndDetections());
  w.write('s1', 'emb', [{ tick: 0n, payload: { vector: encodeVector(unit(0)) } }]);
  w.write('s1', 'det', [{ tick: 0n, payload: { label: 'the red forklift' } }]);
  await publish(session, w, { ref: 'main' });
  await createRef(session, 'heads/x', 'main');
  const add = async (ref: string, ticks: number[], caption: string) => {
    const writer = new Writer(await session.resolve(ref));
    writer.write(
      's1',
      'emb',
      ticks.map((t) => ({ tick: BigInt(t) * SECOND, payload: { vector: encodeVector(unit(t)) } })),
    );
    writer.write(
      's1',
      'det',
      ticks.map((t) => ({ tick: BigInt(t) * SECOND, payload: { label: `${caption} ${t}` } })),
    );
    await publish(session, writer, { ref });
  };
  await add('main', [1, 3, 5], 'blue pallet');
  await add('heads/x', [2, 4, 6], 'green ladder');
  const merged = await merge(session, { into: 'main', from: ['heads/x'] });
  for (const t of [0, 1, 2, 3, 4, 5, 6]) {
    const [hit] = await search(session, merged, { timeline: 's1', track: 'emb', vector: unit(t), k: 1 });
    assert.equal(hit!.tick, BigInt(t) * SECOND, `vector ${t} finds itself after the merge`);
  }
  const spatial = merged.manifest.tracks.find((t) => t.name === 'emb')!.indexes![LSH_COSINE]!;
  assert.equal(
    spatial.segments.reduce((n, s) => n + s.count, 0),
    7,
  );
  const green = await textSearch(session, merged, { timeline: 's1', tracks: ['det'], query: 'green', k: 10 });
  const blue = await textSearch(session, merged, { timeline: 's1', tracks: ['det'], query: 'blue', k: 10 });
  assert.deepEqual([green.length, blue.length], [3, 3]);

  // Two writers who created the same vector track under different seeds: the merge is refused.
  const other = open();
  const first = vectorTrack(camAndDetections());
  first.write('s1', 'emb', [{ tick: 0n, payload: { vector: encodeVector(unit(0)) } }]);
  await publish(other, first, { ref: 'main' });
  const second = vectorTrack(camAndDetections(), {
    tables: 4,
    bits: 8,
    probes: 3,
    seed: new Uint8Array(32).fill(7),
  });
  second.write('s1', 'emb', [{ tick: SECOND, payload: { vector: encodeVector(unit(1)) } }]);
  await publish(other, second, { ref: 'heads/lab-b' });
  const before = await other.store.readRef('main');
  await assert.rejects(merge(other, { into: 'main', from: ['heads/lab-b'] }), (e: unknown) => {
    assert.ok(code('E_LINEAGE')(e), String(e));
    assert.match((e as Error).message, /s1\/emb has incompatible indexes .*4 tables x 8 bits/);
    return true;
  });
  assert.deepEqual(await other.store.readRef('main'), before);
});

test('criss-cross: two merge bases, merged into a virtual base; an octopus merges three branches in one manifest', async () => {
  const session = open();
  const root = await commit(session, 'main', { 1: 'root' });
  await createRef(session, 'heads/x', 'main');
  await commit(session, 'main', { 2: 'm' });
  await commit(session, 'heads/x', { 3: 'x' });
  const mainTip = (await session.resolve('main'))!;
  const xTip = (await session.resolve('heads/x'))!;
  // Each side merges the other's tip: a criss-cross.
  const m1 = await merge(session, { into: 'main', from: [xTip.hash] });
  const x1 = await merge(session, { into: 'heads/x', from: [mainTip.hash] });
  await commit(session, 'main', { 4: 'm2' });
  await commit(session, 'heads/x', { 5: 'x2' });
  const bases = await mergeBases(
    session,
    (await session.resolve('main'))!.hash,
    (await session.resolve('heads/x'))!.hash,
  );
  assert.deepEqual(new Set(bases.map(hex)), new Set([hex(mainTip.hash), hex(xTip.hash)]));
  assert.ok(m1.outcome === 'merge' && x1.outcome === 'merge');
  const merged = await merge(session, { into: 'main', from: ['heads/x'] });
  assert.equal(merged.bases[0]!.length, 2);
  assert.deepEqual(await labels(session, merged), { 1: 'root', 2: 'm', 3: 'x', 4: 'm2', 5: 'x2' });

  for (const name of ['s1', 's2', 's3']) {
    await createRef(session, `heads/${name}`, root.hash);
    await commit(session, `heads/${name}`, { [10 + Number(name[1])]: name });
  }
  const octopus = await merge(session, { into: 'main', from: ['heads/s1', 'heads/s2', 'heads/s3'] });
  assert.equal(octopus.manifest.parents.length, 4);
  assert.deepEqual(await labels(session, octopus), {
    1: 'root',
    2: 'm',
    3: 'x',
    4: 'm2',
    5: 'x2',
    11: 's1',
    12: 's2',
    13: 's3',
  });
  for (const name of ['s1', 's2', 's3'])
    assert.ok(await isAncestor(session, (await session.resolve(`heads/${name}`))!.hash, octopus.hash));
});

test('a publish that loses its race rebases onto the winner when asked, and fails plainly when not', async () => {
  const session = open();
  await commit(session, 'main', { 1: 'a' });
  const base = (await session.resolve('main'))!;
  const winner = await commit(session, 'main', { 2: 'first writer' }, { base });
  await assert.rejects(commit(session, 'main', { 3: 'second writer' }, { base }), RefConflictError);
  const rebased = await commit(session, 'main', { 3: 'second writer' }, { base, rebase: true });
  assert.deepEqual(rebased.manifest.parents.map(hex), [hex(winner.hash)]);
  assert.deepEqual(await labels(session, 'main'), { 1: 'a', 2: 'first writer', 3: 'second writer' });
  // A conflicting change is not rebased: nothing moves.
  const at = await session.store.readRef('main');
  await assert.rejects(
    commit(session, 'main', { 2: 'overwrites the first' }, { base, rebase: true }),
    MergeConflictError,
  );
  assert.deepEqual(await session.store.readRef('main'), at);
});

test('branches are create-only, tags never move, and an unmerged branch is not deleted by accident', async () => {
  const session = open();
  const root = await commit(session, 'main', { 1: 'a' });
  await createRef(session, branchRef('team-a'), 'main');
  await assert.rejects(createRef(session, 'heads/team-a', 'main'), RefConflictError);
  await createRef(session, tagRef('v1'), 'main');
  await commit(session, 'heads/team-a', { 2: 'b' });
  await assert.rejects(
    session.store.casRef(
      'tags/v1',
      (await session.resolve('heads/team-a'))!.hash,
      (await session.store.readRef('tags/v1'))!,
    ),
    code('E_FORBIDDEN'),
  );
  await assert.rejects(deleteBranch(session, 'tags/v1'), code('E_FORBIDDEN'));
  await assert.rejects(deleteBranch(session, 'main'), code('E_FORBIDDEN'));
  await assert.rejects(deleteBranch(session, 'team-a'), /not merged into main/);
  assert.deepEqual(
    (await listRefs(session)).map((r) => [r.name, r.kind]),
    [
      ['heads/team-a', 'branch'],
      ['main', 'main'],
      ['tags/v1', 'tag'],
    ],
  );
  await merge(session, { into: 'main', from: ['heads/team-a'] });
  await deleteBranch(session, 'team-a');
  assert.deepEqual(
    (await listRefs(session)).map((r) => r.name),
    ['main', 'tags/v1'],
  );
  assert.equal(hex((await session.resolve('tags/v1'))!.hash), hex(root.hash));
});

/** A memory store whose writes fail after `budget` of them. */
function failingAfter(budget: number): { store: ObjectStore; inner: MemoryStore } {
  const inner = new MemoryStore();
  let left = budget;
  return { inner, store: failingStore(() => left-- <= 0, inner) };
}

test('a merge interrupted by a failing store leaves every ref as it was', async () => {
  const { store, inner } = failingAfter(Number.POSITIVE_INFINITY);
  const setup = open(store);
  await commit(setup, 'main', { 1: 'a' });
  await createRef(setup, 'heads/x', 'main');
  await commit(setup, 'main', { 2: 'b' });
  await commit(setup, 'heads/x', { 3: 'c' });
  const refs = await listRefs(setup);
  for (const budget of [0, 1, 2]) {
    const flaky = failingAfter(budget);
    // The flaky store sees the same objects and refs.
    for await (const info of (await import('../store/object-store.js')).listAll(inner, ''))
      await flaky.inner.put(info.key, (await inner.get(info.key)).body);
    const session = open(flaky.store);
    await assert.rejects(merge(session, { into: 'main', from: ['heads/x'] }), code('E_STORE'));
    assert.deepEqual(
      (await listRefs(session)).map((r) => [r.name, hex(r.manifest)]),
      refs.map((r) => [r.name, hex(r.manifest)]),
    );
  }
});

test('property: random branch/write/merge sequences converge to the same manifest hash on two replicas, and merge order does not change the items', async () => {
  for (let seed = 1; seed <= 6; seed++) {
    const rand = random(seed);
    // Each branch writes its own ticks (no conflicts), the same operations on both replicas.
    const ops: { branch: number; ticks: number[] }[] = [];
    for (let i = 0; i < 12; i++) {
      const branch = Math.floor(rand() * 3);
      ops.push({
        branch,
        ticks: Array.from(
          { length: 1 + Math.floor(rand() * 20) },
          () => branch + 3 * Math.floor(rand() * 400),
        ),
      });
    }
    const one = await replayWith(ops, [0, 1, 2], seed);
    const two = await replayWith(ops, [0, 1, 2], seed);
    assert.equal(one.hash, two.hash, `seed ${seed}: replicas diverged`);
    const reordered = await replayWith(ops, [2, 0, 1], seed);
    assert.equal(reordered.root, one.root, `seed ${seed}: merge order changed the items`);
    assert.deepEqual(reordered.labels, one.labels);
  }
});

/** Replay ops on a fresh replica: writes on branches, merges into main drawn from `seed`, then `order`. */
async function replayWith(ops: { branch: number; ticks: number[] }[], order: number[], seed: number) {
  const rand = random(seed * 7919);
  const session = open();
  await commit(session, 'main', { 0: 'root' }, { created: 1n });
  for (const b of [0, 1, 2]) await createRef(session, `heads/b${b}`, 'main');
  let clock = 2n;
  for (const op of ops) {
    const items = Object.fromEntries(op.ticks.map((t) => [t + 1, `b${op.branch}:${t}`]));
    await commit(session, `heads/b${op.branch}`, items, { created: clock++ });
    if (rand() < 0.3) await merge(session, { into: 'main', from: [`heads/b${op.branch}`], created: clock++ });
  }
  for (const b of order) await merge(session, { into: 'main', from: [`heads/b${b}`], created: clock++ });
  const main = (await session.resolve('main'))!;
  const det = main.manifest.tracks.find((t) => t.name === 'det')!;
  return { hash: hex(main.hash), root: hex(det.index!.root), labels: await labels(session, main) };
}
