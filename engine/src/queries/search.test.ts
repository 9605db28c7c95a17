import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { LSH_COSINE } from '../indexes/lsh/lsh.js';
import { type SpatialIndex, spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { type Resolved, Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { random } from '../testing/random.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { encodeVector, type SearchQuery, search } from './search.js';

const SECOND = 1_000_000_000n;
const DIM = 16;
const code = (c: string, text?: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === c && (!text || text.test(e.message));

interface Stored {
  tick: bigint;
  vector: Float32Array;
}

const f = Math.fround;

/** The reference: the same float32 left-fold cosine, written out plainly, over every stored vector. */
function reference(stored: readonly Stored[], query: Float32Array, k: number, t0 = 0n, t1 = 1n << 64n) {
  let qq = 0;
  for (const x of query) qq = f(qq + f(x * x));
  const scored = [];
  for (const { tick, vector } of stored) {
    if (tick < t0 || tick >= t1) continue;
    let dot = 0;
    let vv = 0;
    for (let i = 0; i < DIM; i++) {
      dot = f(dot + f(query[i]! * vector[i]!));
      vv = f(vv + f(vector[i]! * vector[i]!));
    }
    if (vv === 0) continue;
    const cos = f(dot / f(f(Math.sqrt(qq)) * f(Math.sqrt(vv))));
    scored.push({ tick, score: Math.min(1, Math.max(-1, cos)) });
  }
  scored.sort((a, b) => b.score - a.score || (a.tick < b.tick ? -1 : 1));
  return scored.slice(0, k);
}

/** float64 cosine, to check the float32 scores are the cosine they claim to be. */
function cosine64(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

/** A track definition's indexes: one dreamdb.lsh-cosine index of these parameters. */
const lshIndexes = (index: SpatialIndex) => ({
  [LSH_COSINE]: { params: spatialIndexToCbor(index), segments: [] },
});

/** An index whose one table of one bit is probed both ways: every vector is a candidate, so it is exact. */
const COMPLETE = {
  index: {
    scheme: 'dreamdb.lsh-cosine' as const,
    dimension: DIM,
    tables: 2,
    bits: 1,
    probes: 2,
    seed: new Uint8Array(32).fill(5),
  },
  segments: [],
};

/**
 * 400 random vectors at increasing ticks over ~7 minutes, every other one stored as a map with a label,
 * a few duplicated at later ticks (ties); plus a track that is not a vector track. The vector track's
 * spatial index makes every vector a candidate, so the indexed path must give the exact answer.
 */
async function fixture(): Promise<{
  session: Session;
  main: Resolved;
  stored: Stored[];
  next: () => number;
}> {
  const next = random(6);
  const writer = new Writer()
    .timeline({ name: 's1', genesis: 0n })
    .track({
      timeline: 's1',
      name: 'emb',
      kind: 'event',
      modality: `vector.f32;dim=${DIM}`,
      bucketDuration: 60n * SECOND,
      indexes: lshIndexes(COMPLETE.index),
    })
    .track({
      timeline: 's1',
      name: 'det',
      kind: 'event',
      modality: 'event.detection',
      bucketDuration: 60n * SECOND,
    })
    .track({
      timeline: 's1',
      name: 'old',
      kind: 'event',
      modality: 'vector.f32;dim=4',
      bucketDuration: 60n * SECOND,
    });
  const stored: Stored[] = [];
  let tick = 0n;
  for (let i = 0; i < 400; i++) {
    tick += BigInt(Math.floor(next() * 2e9)) + 1n;
    const vector =
      i % 37 === 36
        ? stored[i - 20]!.vector // the same vector again, later: a tie broken by tick
        : Float32Array.from({ length: DIM }, () => next() * 2 - 1);
    stored.push({ tick, vector });
  }
  writer.write(
    's1',
    'emb',
    stored.map(({ tick, vector }, i) => ({
      tick,
      payload: i % 2 ? encodeVector(vector) : { label: `v${i}`, vector: encodeVector(vector) },
    })),
  );
  writer.write('s1', 'det', [{ tick: 0n, payload: { label: 'person' } }]);
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const main = await publish(session, writer, { ref: 'main' });
  return { session, main, stored, next };
}

test('search returns the k nearest by float32 cosine, as the brute-force reference does, exact and indexed', async () => {
  const { session, main, stored, next } = await fixture();
  const last = stored[stored.length - 1]!.tick;
  const windows: [bigint | undefined, bigint | undefined][] = [
    [undefined, undefined],
    [last / 4n, (last * 3n) / 4n],
    [stored[100]!.tick, undefined],
    [undefined, stored[10]!.tick + 1n],
    [stored[200]!.tick, stored[200]!.tick], // empty
  ];
  let checked = 0;
  for (let q = 0; q < 8; q++) {
    // Half the queries are stored vectors (their own item scores ~1, and duplicates tie).
    const query =
      q % 2 ? stored[35 + q * 37]!.vector : Float32Array.from({ length: DIM }, () => next() * 2 - 1);
    for (const [t0, t1] of windows) {
      for (const [k, exact] of [1, 7, 50, 1000].flatMap(
        (k) =>
          [
            [k, true],
            [k, false],
          ] as const,
      )) {
        const hits = await search(session, main, {
          timeline: 's1',
          track: 'emb',
          vector: q === 2 ? Array.from(query) : query,
          k,
          exact,
          // Every candidate re-ranked exactly: the indexed path must then give the exact answer.
          ...(!exact && { rerank: 1000 }),
          ...(t0 !== undefined && { t0 }),
          ...(t1 !== undefined && { t1 }),
        });
        const expected = reference(stored, query, k, t0, t1);
        assert.deepEqual(
          hits.map((h) => [h.tick, h.score]),
          expected.map((e) => [e.tick, e.score]),
          `query ${q}, k ${k}, window ${t0}..${t1}, exact ${exact}`,
        );
        for (const hit of hits) {
          const vector = stored.find((s) => s.tick === hit.tick)!.vector;
          assert.ok(Math.abs(hit.score - cosine64(query, vector)) < 1e-5);
          assert.equal(hit.track, 'emb');
          assert.equal(hit.address.end - hit.address.start > DIM * 4, true);
        }
        checked += hits.length;
      }
    }
  }
  assert.ok(checked > 10000);

  // Ties go to the earlier tick; the whole payload comes back, in either form.
  const twin = stored[16]!; // stored again at index 36
  const [first, second] = await search(session, main, {
    timeline: 's1',
    track: 'emb',
    vector: twin.vector,
    k: 2,
  });
  assert.equal(first!.score, second!.score);
  assert.deepEqual([first!.tick, second!.tick], [twin.tick, stored[36]!.tick]);
  assert.equal((first!.payload as { label: string }).label, 'v16');
  assert.deepEqual(second!.payload, { label: 'v36', vector: encodeVector(twin.vector) });
  const raw = await search(session, main, { timeline: 's1', track: 'emb', vector: stored[17]!.vector, k: 1 });
  assert.deepEqual(raw[0]!.payload, encodeVector(stored[17]!.vector));
  const all = await search(session, main, { timeline: 's1', track: 'emb', vector: twin.vector, k: 1000 });
  assert.equal(all.length, 400);
});

test('search refuses bad queries and tracks that are not vector tracks; writes refuse bad vectors', async () => {
  const { session, main } = await fixture();
  const ones = new Array(DIM).fill(1);
  const ask = (q: Partial<SearchQuery>) =>
    search(session, main, { timeline: 's1', track: 'emb', vector: ones, k: 3, ...q });

  await assert.rejects(ask({ vector: [1, 2, 3] }), code('E_BAD_REQUEST', /3 components.*16-dimensional/));
  await assert.rejects(ask({ vector: [] }), code('E_BAD_REQUEST', /0 components/));
  await assert.rejects(
    ask({ vector: [...ones.slice(1), Number.NaN] }),
    code('E_BAD_REQUEST', /component 15 is NaN/),
  );
  await assert.rejects(
    ask({ vector: Float32Array.from(ones).fill(Number.POSITIVE_INFINITY, 2, 3) }),
    code('E_BAD_REQUEST', /component 2 is Infinity/),
  );
  await assert.rejects(ask({ vector: [1e39, ...ones.slice(1)] }), code('E_BAD_REQUEST', /overflows float32/));
  await assert.rejects(ask({ vector: [1e20, ...ones.slice(1)] }), code('E_BAD_REQUEST', /too long/));
  await assert.rejects(ask({ vector: new Array(DIM).fill(0) }), code('E_BAD_REQUEST', /zero/));
  await assert.rejects(ask({ vector: new Array(DIM).fill(1e-30) }), code('E_BAD_REQUEST', /zero/));
  await assert.rejects(
    ask({ vector: ['1', ...ones.slice(1)] as never }),
    code('E_BAD_REQUEST', /component 0/),
  );
  await assert.rejects(ask({ vector: 'abc' as never }), code('E_BAD_REQUEST', /not an array/));
  for (const k of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3' as never])
    await assert.rejects(ask({ k }), code('E_BAD_REQUEST', /^E_BAD_REQUEST: k .* is not a positive integer/));
  await assert.rejects(ask({ t0: -1n }), code('E_TICK_RANGE', /t0/));

  await assert.rejects(ask({ track: 'nope' }), code('E_NOT_FOUND', /s1\/nope/));
  await assert.rejects(
    ask({ track: 'det' }),
    code('E_BAD_REQUEST', /s1\/det \(event, event.detection\) is not a vector track/),
  );
  await assert.rejects(ask({ probes: 4 }), code('E_BAD_REQUEST', /probes 4 must be an integer from 1 to 2/));
  await assert.rejects(
    ask({ rerank: 2 }),
    code('E_BAD_REQUEST', /rerank 2 must be an integer of at least k \(3\)/),
  );
  await assert.rejects(
    ask({ index: hashBytes(Uint8Array.of(1)) }),
    code(
      'E_LINEAGE',
      /indexed under spatial index 1e20[0-9a-f]{64}, not 1e20[0-9a-f]{64}: results would not be comparable/,
    ),
  );

  // Vectors are checked when written: the whole write is refused, naming the item and the problem.
  const writer = new Writer(main);
  const refused = (payload: unknown, why: RegExp) =>
    assert.throws(
      () =>
        writer.write('s1', 'old', [
          { tick: 1n, payload: encodeVector([1, 0, 0, 0]) },
          { tick: 2n, payload },
        ]),
      code('E_FIELD', why),
    );
  refused(encodeVector([1, 2, 3]), /s1\/old\[1\]: vector has 12 bytes; .* 4 float32 values \(16 bytes\)/);
  refused({ vector: encodeVector([1, Number.NaN, 3, 4]) }, /s1\/old\[1\]: vector component 1 is NaN/);
  refused({ vector: 'not bytes' }, /s1\/old\[1\]: payload .* neither/);
  refused(encodeVector([0, 0, 0, 0]), /zero vector has no direction/);
  refused(encodeVector([1e30, 1, 1, 1]), /squared length overflows/);
  refused(encodeVector([1e-30, 1e-30, 0, 0]), /squared length underflows float32 to 0/);
  assert.equal(writer.size, 0);
  assert.throws(
    () =>
      writer.track({
        timeline: 's1',
        name: 'nodim',
        kind: 'event',
        modality: 'vector.f32',
        bucketDuration: SECOND,
      }),
    code('E_BAD_REQUEST', /s1\/nodim .* needs a dim=N/),
  );
  assert.throws(
    () =>
      writer.track({
        timeline: 's1',
        name: 'emb',
        kind: 'event',
        modality: `vector.f32;dim=${DIM}`,
        bucketDuration: SECOND,
        indexes: lshIndexes({ ...COMPLETE.index, bits: 2 }),
      }),
    code('E_LINEAGE', /s1\/emb has items indexed by .*; its indexes cannot change/),
  );
});
