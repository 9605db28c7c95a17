import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { openVectorCompressor } from '../../format/vector-compressor.js';
import type { Track } from '../../model/track.js';
import { encodeVector, search } from '../../queries/search.js';
import { type Resolved, Session } from '../../session/session.js';
import { CountingStore } from '../../store/counting-store.js';
import { objectKey } from '../../store/keys.js';
import { MemoryStore } from '../../store/memory-store.js';
import { SpaceStore } from '../../store/space-store.js';
import { clusteredVectors } from '../../testing/vectors.js';
import { collect } from '../../versions/collect.js';
import { fsck } from '../../versions/fsck.js';
import { publish } from '../../writes/publish.js';
import { Writer } from '../../writes/writer.js';
import { loadGraph } from './load.js';
import { BEAM_WIDTH, PagedGraph } from './paged.js';
import { defaultGraphParams, VAMANA_COSINE } from './params.js';
import { decodeGraphIndex } from './segment.js';
import { VamanaSearcher } from './vamana.js';
import { COMPRESS_MIN_NODES } from './write.js';

const DIM = 24;
const SECOND = 1_000_000_000n;
const N = 6000;
const code = (c: string, text?: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === c && (!text || text.test(e.message));
const dataset = (count: number, seed: number) =>
  clusteredVectors(count, { dim: DIM, seed, centres: 40, noise: 0.45, scaled: true });

async function published(store: MemoryStore, data: Float32Array[]) {
  const session = new Session(new SpaceStore(store, 'lab'));
  const track: Track = {
    timeline: 's1',
    name: 'emb',
    kind: 'event',
    modality: `vector.f32;dim=${DIM}`,
    bucketDuration: 600n * SECOND,
  };
  const writer = new Writer(undefined);
  writer.timeline({ name: 's1', genesis: 0n }).track(track);
  writer.write(
    's1',
    'emb',
    data.map((v, i) => ({ tick: BigInt(i) * SECOND, payload: { vector: encodeVector(v) } })),
  );
  return publish(session, writer, { ref: 'main' });
}

const segmentOf = (r: Resolved) =>
  r.manifest.tracks.find((t) => t.name === 'emb')!.indexes![VAMANA_COSINE]!.segments[0]!;
const params = defaultGraphParams(DIM);
/** A session that pages every segment with codes (its resident budget 0, out-edges never held), over a store that counts GETs. */
const pagedSession = (store: MemoryStore) => {
  const counting = new CountingStore(store);
  return {
    counting,
    session: new Session(new SpaceStore(counting, 'lab'), { graphResidentBytes: 0, graphHoldLinks: false }),
  };
};

test('a segment of at least COMPRESS_MIN_NODES carries PQ codes and its VectorCompressor; smaller ones none', async () => {
  assert.ok(N >= COMPRESS_MIN_NODES);
  const store = new MemoryStore();
  const main = await published(store, dataset(N, 1));
  const session = new Session(new SpaceStore(store, 'lab'));
  const bytes = await session.store.getObject(segmentOf(main).object);
  const index = decodeGraphIndex(bytes, params);
  assert.ok(index.compressed);
  // Codes of another M answer for another index: refused as another lineage.
  assert.throws(
    () => decodeGraphIndex(bytes, { ...params, subspaces: 6 }),
    code('E_LINEAGE', /subspaces 12.*6/),
  );
  assert.equal(index.compressed.codes.length, N * params.subspaces);
  const { params: trained, books } = openVectorCompressor(
    await session.store.getObject(index.compressed.compressor),
  );
  assert.equal(trained.subspaces, params.subspaces);
  assert.equal(books.dimension, DIM);
  // collect keeps the compressor (the kind follows it) and fsck finds nothing wrong.
  await collect(session, { graceMs: 0 });
  assert.ok(await store.head(objectKey('lab', index.compressed.compressor)));
  assert.deepEqual((await fsck(store)).problems, []);
  const other = new MemoryStore();
  const small = await published(other, dataset(300, 1));
  const smallIndex = decodeGraphIndex(
    await new SpaceStore(other, 'lab').getObject(segmentOf(small).object),
    params,
  );
  assert.equal(smallIndex.compressed, undefined);
});

test('paged search: codes walk, pages by range in beams, exact re-rank; recall and scores as the resident index', async () => {
  const store = new MemoryStore();
  const data = dataset(N, 3);
  const main = await published(store, data);
  const resident = new Session(new SpaceStore(store, 'lab'));
  const { counting, session } = pagedSession(store);
  const ref = segmentOf(main);
  const whole = await loadGraph(resident, params, ref);
  const paged = await loadGraph(session, params, ref);
  assert.ok(whole.searcher instanceof VamanaSearcher);
  assert.ok(paged.searcher instanceof PagedGraph);
  const queries = dataset(40, 4);
  let agree = 0;
  let agreeResident = 0;
  let rounds = 0;
  let expanded = 0;
  for (const [qi, vector] of queries.entries()) {
    const q = { timeline: 's1', track: 'emb', vector, k: 10 };
    // The segment's own counters, cold for the first query: pages read in rounds of a beam of BEAM_WIDTH.
    const unit = new Float32Array(DIM);
    const norm = Math.hypot(...vector);
    for (let i = 0; i < DIM; i++) unit[i] = vector[i]! / norm;
    const run = await (paged.searcher as PagedGraph).search(unit, 10, 64);
    if (qi === 0) {
      assert.ok(
        // (+1: the first round expands only the layers' starting nodes, fewer than a beam)
        run.rounds >= run.expanded / BEAM_WIDTH - 1 && run.rounds <= Math.ceil(run.expanded / BEAM_WIDTH) + 1,
        `${run.rounds} rounds for ${run.expanded} expanded`,
      );
      assert.ok(run.pagesRead > run.rounds && run.pagesRead <= run.expanded, `${run.pagesRead} pages`);
    }
    rounds += run.rounds;
    expanded += run.expanded;
    const exact = await search(resident, main, { ...q, exact: true });
    const hits = await search(session, main, q);
    const truth = new Map(exact.map((h) => [h.tick, h.score]));
    for (const h of await search(resident, main, q)) agreeResident += truth.has(h.tick) ? 1 : 0;
    for (const h of hits) {
      if (truth.has(h.tick)) assert.equal(h.score, truth.get(h.tick));
      agree += truth.has(h.tick) ? 1 : 0;
    }
  }
  // 12 bytes a 24-d vector cost little recall against the full vectors (0.925 against 0.9275 here).
  const recall = agree / (queries.length * 10);
  const residentRecall = agreeResident / (queries.length * 10);
  assert.ok(
    recall >= 0.88 && recall >= residentRecall - 0.05,
    `paged recall@10 ${recall}, resident ${residentRecall}`,
  );
  // Rounds of a beam: about 1/BEAM_WIDTH as many as expansions, each query at least the list's length.
  assert.ok(expanded >= 64 * queries.length, `${expanded} expansions`);
  assert.ok(
    rounds <= Math.ceil(expanded / BEAM_WIDTH) + queries.length,
    `${rounds} rounds for ${expanded} expansions`,
  );
  // Warm: every page the queries need is held; a repeat reads nothing.
  const searcher = paged.searcher as PagedGraph;
  const unit = new Float32Array(DIM).fill(1 / Math.sqrt(DIM));
  await searcher.search(unit, 10, 64);
  const again = await searcher.search(unit, 10, 64);
  assert.equal(again.pagesRead, 0);
  assert.equal(again.rounds, 0);
  // A narrow window is scanned exactly from one ranged read of its run of pages.
  const gets = counting.counts.get;
  const window = {
    timeline: 's1',
    track: 'emb',
    vector: queries[0]!,
    k: 5,
    t0: 5000n * SECOND,
    t1: 5400n * SECOND,
  };
  const windowed = await search(session, main, window);
  const truth = await search(resident, main, { ...window, exact: true });
  assert.deepEqual(
    windowed.map((h) => h.tick),
    truth.map((h) => h.tick),
  );
  // One ranged read for the pages, then one read per hit's item.
  assert.ok(counting.counts.get - gets <= 1 + 5 + 2, `${counting.counts.get - gets} GETs`);
});

test('a paged page that does not match its hash is refused, never searched as good', async () => {
  const store = new MemoryStore();
  const main = await published(store, dataset(N, 5));
  const index = decodeGraphIndex(
    await new SpaceStore(store, 'lab').getObject(segmentOf(main).object),
    params,
  );
  const key = objectKey('lab', index.pages[0]!);
  const body = (await store.get(key)).body.slice();
  // Flip a byte in every page's first record: whichever page the walk reads first is bent.
  for (let at = index.pageOffsets[0]!; at < body.length; at += index.layout.pageBytes)
    body[at + 1] = body[at + 1]! ^ 0x40;
  await store.put(key, body);
  const { session } = pagedSession(store);
  await assert.rejects(
    search(session, main, { timeline: 's1', track: 'emb', vector: dataset(1, 6)[0]!, k: 3 }),
    code('E_HASH_MISMATCH', /does not match its hash/),
  );
  assert.ok((await fsck(store)).problems.some((p) => p.includes(multihashToHex(index.pages[0]!))));
});

test('concurrent paged searches (each awaiting its pages) answer as they would one at a time', async () => {
  const store = new MemoryStore();
  const main = await published(store, dataset(N, 7));
  const { session } = pagedSession(store);
  const paged = (await loadGraph(session, params, segmentOf(main))).searcher as PagedGraph;
  const queries = dataset(12, 8).map((v) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const alone = [];
  for (const q of queries) {
    paged.forget();
    alone.push(await paged.search(q, 10, 48));
  }
  paged.forget();
  const together = await Promise.all(queries.map((q) => paged.search(q, 10, 48)));
  assert.deepEqual(
    together.map((h) => [...h.ids]),
    alone.map((h) => [...h.ids]),
  );
});

test('with its out-edges held, a cold paged query reads its list’s pages in one round', async () => {
  const store = new MemoryStore();
  const main = await published(store, dataset(N, 9));
  const resident = new Session(new SpaceStore(store, 'lab'));
  const { counting, session } = pagedSession(store);
  const paged = (await loadGraph(session, params, segmentOf(main))).searcher as PagedGraph;
  assert.equal(paged.holdsLinks, false);
  const before = counting.counts.get;
  await paged.holdLinks((object) => session.store.getObject(object));
  assert.equal(paged.holdsLinks, true);
  assert.equal(
    counting.counts.get - before,
    decodeGraphIndex(await resident.store.getObject(segmentOf(main).object), params).pages.length,
  );
  let agree = 0;
  const queries = dataset(30, 10);
  for (const vector of queries) {
    const norm = Math.hypot(...vector);
    const unit = vector.map((x) => x / norm);
    paged.forget();
    const gets = counting.counts.get;
    const run = await paged.search(unit, 10, 64);
    assert.equal(run.rounds, 1);
    // At most one GET a page (fewer when the store's own cache still holds a range).
    assert.ok(run.pagesRead <= 64 && counting.counts.get - gets <= run.pagesRead, `${run.pagesRead} pages`);
    const exact = await search(resident, main, { timeline: 's1', track: 'emb', vector, k: 10, exact: true });
    const truth = new Set(exact.map((h) => h.tick));
    agree += [...run.ids].filter((id) => truth.has(BigInt(id) * SECOND)).length;
  }
  const recall = agree / (queries.length * 10);
  assert.ok(recall >= 0.88, `recall@10 ${recall} with the out-edges held`);
  // A window: the walk keeps only its nodes, and the answer holds no other.
  paged.forget();
  const inside = await paged.search(
    queries[0]!.map((x) => x / Math.hypot(...queries[0]!)),
    10,
    64,
    (i) => i >= 1000 && i < 4000,
  );
  assert.ok(inside.ids.length === 10 && [...inside.ids].every((i) => i >= 1000 && i < 4000));
});
