import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../../address/multihash.js';
import { deleteItems } from '../../deletes/delete.js';
import { EngineError } from '../../errors.js';
import { openObject } from '../../format/envelope.js';
import type { Track } from '../../model/track.js';
import { encodeVector, search } from '../../queries/search.js';
import { type Resolved, Session } from '../../session/session.js';
import { objectKey } from '../../store/keys.js';
import { MemoryStore } from '../../store/memory-store.js';
import { SpaceStore } from '../../store/space-store.js';
import { clusteredVectors } from '../../testing/vectors.js';
import { collect } from '../../versions/collect.js';
import { fsck } from '../../versions/fsck.js';
import { merge } from '../../versions/merge.js';
import { createRef } from '../../versions/refs.js';
import { publish } from '../../writes/publish.js';
import { Writer } from '../../writes/writer.js';
import { indexesFromOptions } from '../track-indexes.js';
import { vamanaCosine } from './kind.js';
import { defaultGraphParams, graphParamsFromCbor, VAMANA_COSINE } from './params.js';
import { checkPage, decodeGraphIndex, pageOf } from './segment.js';

const DIM = 24;
const SECOND = 1_000_000_000n;
const code = (c: string, text?: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === c && (!text || text.test(e.message));

const dataset = (count: number, seed: number) =>
  clusteredVectors(count, { dim: DIM, seed, centres: 30, noise: 0.4, scaled: true });

const track = (indexes?: Track['indexes']): Track => ({
  timeline: 's1',
  name: 'emb',
  kind: 'event',
  modality: `vector.f32;dim=${DIM}`,
  bucketDuration: 60n * SECOND,
  ...(indexes && { indexes }),
});

async function write(
  session: Session,
  base: Resolved | undefined,
  vectors: Float32Array[],
  from: number,
  ref = 'main',
  indexes?: Track['indexes'],
) {
  const writer = new Writer(base);
  if (!base) writer.timeline({ name: 's1', genesis: 0n }).track(track(indexes));
  writer.write(
    's1',
    'emb',
    vectors.map((v, i) => ({ tick: BigInt(from + i) * SECOND, payload: { vector: encodeVector(v) } })),
  );
  return publish(session, writer, { ref });
}

const emb = (r: Resolved) => r.manifest.tracks.find((t) => t.name === 'emb')!;
const graph = (t: Track) => t.indexes![VAMANA_COSINE]!;
const open = () => new Session(new SpaceStore(new MemoryStore(), 'lab'));

/** recall@10 of the indexed search against the exact scan over `queries`, and scores checked equal. */
async function recallOf(session: Session, version: Resolved, queries: Float32Array[], window = {}) {
  let found = 0;
  for (const vector of queries) {
    const q = { timeline: 's1', track: 'emb', vector, k: 10, ...window };
    const exact = await search(session, version, { ...q, exact: true });
    const indexed = await search(session, version, q);
    const truth = new Map(exact.map((h) => [h.tick, h.score]));
    for (const hit of indexed) {
      if (truth.has(hit.tick))
        assert.equal(hit.score, truth.get(hit.tick), 'the exact scan’s score, bit for bit');
      found += truth.has(hit.tick) ? 1 : 0;
    }
    for (let i = 1; i < indexed.length; i++) assert.ok(indexed[i - 1]!.score >= indexed[i]!.score);
    assert.equal(indexed.length, exact.length);
  }
  return found / (queries.length * 10);
}

test('a new vector track gets the graph index; searches find the exact top 10, in windows too, with exact scores', async () => {
  const session = open();
  const data = dataset(3000, 1);
  const main = await write(session, undefined, data, 0);
  const t = emb(main);
  assert.deepEqual(Object.keys(t.indexes!), [VAMANA_COSINE]);
  assert.deepEqual(graphParamsFromCbor(graph(t).params, 'p'), defaultGraphParams(DIM));
  assert.equal(graph(t).segments.length, 1);
  const queries = dataset(30, 2);
  assert.ok((await recallOf(session, main, queries)) >= 0.97);
  // A wide window (a filtered walk) and a narrow one (an exact scan of the window's rows).
  const wide = { t0: 200n * SECOND, t1: 2600n * SECOND };
  assert.ok((await recallOf(session, main, queries, wide)) >= 0.95);
  assert.equal(await recallOf(session, main, queries, { t0: 1000n * SECOND, t1: 1400n * SECOND }), 1);
  const [self] = await search(session, main, { timeline: 's1', track: 'emb', vector: data[1234]!, k: 1 });
  assert.equal(self!.tick, 1234n * SECOND);
  // The same vectors under the same parameters give the same objects.
  const again = await write(open(), undefined, data, 0);
  assert.deepEqual(graph(emb(again)).segments, graph(t).segments);
  // The index's objects: a GraphIndex naming its GraphPage objects, every page matching its hash.
  const params = defaultGraphParams(DIM);
  const bytes = await session.store.getObject(graph(t).segments[0]!.object);
  assert.equal(openObject(bytes, 'graphIndex').kind, 'graphIndex');
  const index = decodeGraphIndex(bytes, params);
  assert.equal(index.count, 3000);
  const pages = await session.store.getObject(index.pages[0]!);
  const { payloadStart } = openObject(pages, 'graphPage');
  const where = pageOf(index, 2999);
  const page = pages.subarray(
    payloadStart + where.offset,
    payloadStart + where.offset + index.layout.pageBytes,
  );
  checkPage(index, where.page, page, 'page');
  const bent = page.slice();
  bent[7] = bent[7]! ^ 1;
  assert.throws(
    () => checkPage(index, where.page, bent, 'page'),
    code('E_HASH_MISMATCH', /does not match its hash/),
  );
  assert.throws(() => decodeGraphIndex(bytes, { ...params, degree: 16 }), code('E_LINEAGE', /degree 32.*16/));
  // Its navigation layer (3000 nodes: one of 187), read back as written; a link outside it is refused.
  assert.deepEqual(
    index.upper.map((l) => [l.n, l.degree]),
    [[187, 16]],
  );
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint32(bad.length - 4 * 187 * 16, 187, true);
  assert.throws(
    () => decodeGraphIndex(bad, params),
    code('E_FIELD', /upper layer 1: node 0 links to 187, outside the layer/),
  );
});

test('appends add segments searchable at once and merge by tiers; the answers are those of one graph built at once', async () => {
  const session = open();
  const data = dataset(2000, 3);
  let main: Resolved | undefined;
  for (let i = 0; i < 20; i++) {
    main = await write(session, main, data.slice(i * 100, (i + 1) * 100), i * 100);
    // Each append is searchable at once: its last vector finds itself.
    const [hit] = await search(session, main, {
      timeline: 's1',
      track: 'emb',
      vector: data[i * 100 + 99]!,
      k: 1,
    });
    assert.equal(hit!.tick, BigInt(i * 100 + 99) * SECOND);
  }
  const segments = graph(emb(main!)).segments;
  assert.equal(
    segments.reduce((n, s) => n + s.count, 0),
    2000,
  );
  assert.ok(segments.length < 8, `${segments.length} segments after 20 appends`);
  assert.ok((await recallOf(session, main!, dataset(30, 4))) >= 0.97);
  const report = await fsck(session.store.store);
  assert.deepEqual(report.problems, []);
  // collect keeps every GraphPage a GraphIndex names (fsck above found them all) after dropping the rest.
  await collect(session, { graceMs: 0 });
  assert.deepEqual((await fsck(session.store.store)).problems, []);
  assert.ok((await recallOf(new Session(session.store), main!, dataset(10, 5))) >= 0.95);
});

test('a delete lists the removed ticks, the searches leave them out, and past a quarter the segment is rebuilt', async () => {
  const session = open();
  const data = dataset(800, 6);
  await write(session, undefined, data, 0);
  const { published: version } = await deleteItems(session, {
    ref: 'main',
    selectors: [{ timeline: 's1', track: 'emb', from: 100n * SECOND, to: 150n * SECOND }],
  });
  const after = version!;
  const [segment] = graph(emb(after)).segments;
  assert.ok(segment!.dropped, 'the segment lists its dropped ticks');
  for (const i of [100, 120, 149]) {
    const hits = await search(session, after, { timeline: 's1', track: 'emb', vector: data[i]!, k: 5 });
    assert.ok(hits.every((h) => h.tick < 100n * SECOND || h.tick >= 150n * SECOND));
  }
  assert.ok((await recallOf(session, after, dataset(20, 7))) >= 0.95);
  const { published: more } = await deleteItems(session, {
    ref: 'main',
    selectors: [{ timeline: 's1', track: 'emb', from: 150n * SECOND, to: 400n * SECOND }],
  });
  const [rebuilt] = graph(emb(more!)).segments;
  assert.equal(rebuilt!.dropped, undefined);
  assert.equal(rebuilt!.count, 500);
  assert.ok((await recallOf(session, more!, dataset(20, 8))) >= 0.97);
  assert.deepEqual((await fsck(session.store.store)).problems, []);
});

test('a corrupted GraphPage is refused by its hash and reported by fsck, never searched as good', async () => {
  const store = new MemoryStore();
  const session = new Session(new SpaceStore(store, 'lab'));
  const main = await write(session, undefined, dataset(300, 9), 0);
  const index = decodeGraphIndex(
    await session.store.getObject(graph(emb(main)).segments[0]!.object),
    defaultGraphParams(DIM),
  );
  const key = objectKey('lab', index.pages[0]!);
  const body = (await store.get(key))!.body.slice();
  body[body.length - 100] = body[body.length - 100]! ^ 0xff;
  await store.put(key, body);
  const fresh = new Session(new SpaceStore(store, 'lab'));
  await assert.rejects(
    search(fresh, main, { timeline: 's1', track: 'emb', vector: dataset(1, 10)[0]!, k: 3 }),
    code('E_HASH_MISMATCH'),
  );
  const report = await fsck(store);
  assert.ok(
    report.problems.some((p) => p.includes(multihashToHex(index.pages[0]!))),
    report.problems.join('\n'),
  );
});

test('bad parameters and a merge across graph parameters are refused, naming the field; probes are LSH-only', async () => {
  const t = track();
  assert.throws(
    () => indexesFromOptions(t, { [VAMANA_COSINE]: { degree: 1 } }),
    code('E_FIELD', /degree 1 must be an integer from 2/),
  );
  assert.throws(
    () => indexesFromOptions(t, { [VAMANA_COSINE]: { alpha: 1.234 } }),
    code('E_FIELD', /alpha: 1.234 has more than two decimals/),
  );
  assert.throws(
    () => indexesFromOptions(t, { [VAMANA_COSINE]: { buildList: 8 } }),
    code('E_FIELD', /build list 8 must be an integer from the degree \(32\)/),
  );
  assert.throws(
    () => indexesFromOptions(t, { [VAMANA_COSINE]: { beam: 4 } }),
    code('E_FIELD', /beam: unknown option/),
  );
  assert.throws(
    () => indexesFromOptions(t, { [VAMANA_COSINE]: { subspaces: DIM + 1 } }),
    code('E_FIELD', /subspaces: 25 must be an integer from 1 to the dimension 24/),
  );
  assert.equal(
    vamanaCosine.readParams(
      indexesFromOptions(t, { [VAMANA_COSINE]: { subspaces: 6 } })[VAMANA_COSINE]!.params,
      'p',
    ).subspaces,
    6,
  );
  const custom = indexesFromOptions(t, { [VAMANA_COSINE]: { degree: 16, alpha: 1.1 } });
  assert.equal(vamanaCosine.readParams(custom[VAMANA_COSINE]!.params, 'p').alphaPercent, 110);

  const session = open();
  const main = await write(session, undefined, dataset(50, 11), 0);
  await createRef(session, 'heads/x', 'main');
  await assert.rejects(
    search(session, main, { timeline: 's1', track: 'emb', vector: dataset(1, 12)[0]!, k: 3, probes: 2 }),
    code('E_BAD_REQUEST', /probes apply to dreamdb.lsh-cosine/),
  );
  // Another writer's track under other graph parameters: the merge is refused, and main stays.
  const other = open();
  await write(other, undefined, dataset(20, 13), 0);
  await write(other, undefined, dataset(20, 14), 100, 'heads/b', custom);
  const before = await other.store.readRef('main');
  await assert.rejects(
    merge(other, { into: 'main', from: ['heads/b'] }),
    code('E_LINEAGE', /incompatible indexes .*R 32, L 64, alpha 1.2.*R 16, L 64, alpha 1.1/),
  );
  assert.deepEqual(await other.store.readRef('main'), before);
});

test('a segment larger than the build budget is built over partitions at publish: found as well, checked by fsck, kept by collect', async () => {
  // 24 components a row: 96 bytes in the kernel; a budget of 1,500 rows makes 5,000 rows 7 shards.
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'), {
    graphBuild: { buildBytes: 96 * 1500 },
  });
  const data = dataset(5000, 21);
  const main = await write(session, undefined, data, 0);
  const [segment] = graph(emb(main)).segments;
  assert.equal(segment!.count, 5000);
  const params = graphParamsFromCbor(graph(emb(main)).params, 'p');
  const index = decodeGraphIndex(await session.store.getObject(segment!.object), params);
  // Built over partitions: with codes (every partitioned segment carries them) and its layers.
  assert.ok(index.compressed, 'a partitioned segment has codes');
  assert.equal(index.upper[0]!.n, Math.floor(5000 / 16));
  assert.ok((await recallOf(session, main, dataset(30, 22))) >= 0.95);
  // The same rows, the same segment: partitioning is deterministic.
  const again = await write(
    new Session(new SpaceStore(new MemoryStore(), 'lab'), { graphBuild: { buildBytes: 96 * 1500 } }),
    undefined,
    data,
    0,
  );
  assert.equal(multihashToHex(graph(emb(again)).segments[0]!.object), multihashToHex(segment!.object));
  assert.deepEqual((await fsck(session.store.store)).problems, []);
  await collect(session, { graceMs: 0 });
  assert.deepEqual((await fsck(session.store.store)).problems, []);
  assert.ok((await recallOf(new Session(session.store), main, dataset(10, 23))) >= 0.95);
});
