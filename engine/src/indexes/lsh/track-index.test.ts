import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import type { Track } from '../../model/track.js';
import { encodeVector, search } from '../../queries/search.js';
import { type Resolved, Session } from '../../session/session.js';
import { MemoryStore } from '../../store/memory-store.js';
import { SpaceStore } from '../../store/space-store.js';
import { clusteredVectors } from '../../testing/vectors.js';
import { publish } from '../../writes/publish.js';
import { Writer } from '../../writes/writer.js';
import { LSH_COSINE } from './lsh.js';
import { decodeSpatialSegment, encodeSpatialSegment } from './segment.js';
import {
  defaultSpatialIndex,
  spatialIndexFromCbor,
  spatialIndexHash,
  spatialIndexToCbor,
} from './spatial-index.js';

const DIM = 32;
const SECOND = 1_000_000_000n;
const code = (c: string, text?: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === c && (!text || text.test(e.message));

const dataset = (count: number, seed: number) =>
  clusteredVectors(count, { dim: DIM, seed, centres: 40, noise: 0.35 });

const track = (): Track => ({
  timeline: 's1',
  name: 'emb',
  kind: 'event',
  modality: `vector.f32;dim=${DIM}`,
  bucketDuration: 60n * SECOND,
  // Named: a vector track's default index is the graph (spec 0013).
  indexes: { [LSH_COSINE]: { params: spatialIndexToCbor(defaultSpatialIndex(DIM)), segments: [] } },
});

/** Publish `vectors` at ticks 1 s apart starting at `from`, on top of `base`. */
async function write(session: Session, base: Resolved | undefined, vectors: Float32Array[], from: number) {
  const writer = new Writer(base);
  if (!base) writer.timeline({ name: 's1', genesis: 0n }).track(track());
  writer.write(
    's1',
    'emb',
    vectors.map((v, i) => ({ tick: BigInt(from + i) * SECOND, payload: { vector: encodeVector(v) } })),
  );
  return publish(session, writer, { ref: 'main' });
}

const emb = (r: Resolved) => r.manifest.tracks.find((t) => t.name === 'emb')!;
/** A track's dreamdb.lsh-cosine index: its parameters (the SpatialIndex record) and segments. */
const lsh = (track: Track) => {
  const record = track.indexes![LSH_COSINE]!;
  return { index: spatialIndexFromCbor(record.params), segments: record.segments };
};

test('a vector track naming dreamdb.lsh-cosine gets its default parameters, and an indexed search finds near neighbours', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const data = dataset(3000, 1);
  const main = await write(session, undefined, data, 0);
  const spatial = lsh(emb(main));
  assert.deepEqual(spatial.index, defaultSpatialIndex(DIM));
  assert.equal(
    spatial.segments.reduce((n, s) => n + s.count, 0),
    3000,
  );
  const queries = dataset(40, 2);
  let recall = 0;
  for (const vector of queries) {
    const exact = await search(session, main, { timeline: 's1', track: 'emb', vector, k: 10, exact: true });
    const indexed = await search(session, main, { timeline: 's1', track: 'emb', vector, k: 10 });
    const truth = new Map(exact.map((h) => [h.tick, h.score]));
    for (const hit of indexed) {
      // A hit found by the index has the score an exact scan gives it, bit for bit, and the same item.
      if (truth.has(hit.tick)) assert.equal(hit.score, truth.get(hit.tick));
      recall += truth.has(hit.tick) ? 1 : 0;
    }
    for (let i = 1; i < indexed.length; i++) assert.ok(indexed[i - 1]!.score >= indexed[i]!.score);
  }
  recall /= queries.length * 10;
  assert.ok(recall >= 0.8, `recall@10 ${recall}`);
  // A stored vector finds itself first: it lands in the same buckets as its query.
  const [self] = await search(session, main, { timeline: 's1', track: 'emb', vector: data[1234]!, k: 1 });
  assert.equal(self!.tick, 1234n * SECOND);
  assert.ok(self!.score > 0.99999 && self!.score <= 1, `a vector scores ${self!.score} with itself`);
  const payload = self!.payload as { vector: Uint8Array };
  assert.deepEqual(payload.vector, encodeVector(data[1234]!));
  // A window keeps every hit inside it.
  const windowed = await search(session, main, {
    timeline: 's1',
    track: 'emb',
    vector: data[10]!,
    k: 20,
    t0: 1000n * SECOND,
    t1: 1500n * SECOND,
  });
  assert.equal(windowed.length, 20);
  assert.ok(windowed.every((h) => h.tick >= 1000n * SECOND && h.tick < 1500n * SECOND));
});

test('appends write new segments and merge tiers of 8; the index answers as one built at once', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const data = dataset(2000, 3);
  let main: Resolved | undefined;
  const written = new Set<string>();
  for (let i = 0; i < 20; i++) {
    main = await write(session, main, data.slice(i * 100, (i + 1) * 100), i * 100);
    for (const s of lsh(emb(main)).segments) written.add(multihashToHex(s.object));
  }
  const segments = lsh(emb(main!)).segments;
  assert.equal(
    segments.reduce((n, s) => n + s.count, 0),
    2000,
  );
  assert.ok(segments.length < 8, `${segments.length} segments after 20 appends`);
  for (let i = 1; i < segments.length; i++) assert.ok(segments[i - 1]!.first < segments[i]!.first);
  // Each append wrote one segment, and the merges a few more: each vector was rewritten O(log n) times.
  assert.ok(written.size <= 20 + 3, `${written.size} segments written`);

  const once = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const whole = await write(once, undefined, data, 0);
  assert.equal(lsh(emb(whole)).segments.length, 1);
  for (const vector of dataset(20, 4)) {
    const a = await search(session, main!, { timeline: 's1', track: 'emb', vector, k: 10 });
    const b = await search(once, whole, { timeline: 's1', track: 'emb', vector, k: 10 });
    assert.deepEqual(
      a.map((h) => [h.tick, h.score]),
      b.map((h) => [h.tick, h.score]),
    );
  }
});

test('writing a tick again rebuilds the segments: the new vector is found, the old one is gone', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const data = dataset(500, 5);
  const first = await write(session, undefined, data, 0);
  const replacement = dataset(1, 99)[0]!;
  const second = await write(session, first, [replacement], 7);
  assert.equal(
    lsh(emb(second)).segments.reduce((n, s) => n + s.count, 0),
    500,
  );
  const [hit] = await search(session, second, { timeline: 's1', track: 'emb', vector: replacement, k: 1 });
  assert.equal(hit!.tick, 7n * SECOND);
  const old = await search(session, second, { timeline: 's1', track: 'emb', vector: data[7]!, k: 3 });
  assert.ok(!old.some((h) => h.tick === 7n * SECOND && h.score > 0.99999));
  // The version before still answers as it did: time travel keeps its segments.
  const [before] = await search(session, first, { timeline: 's1', track: 'emb', vector: data[7]!, k: 1 });
  assert.equal(before!.tick, 7n * SECOND);
});

test('a segment decodes only under the lineage it was built with, and tampering is refused', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const main = await write(session, undefined, dataset(50, 6), 0);
  const spatial = lsh(emb(main));
  const bytes = await session.store.getObject(spatial.segments[0]!.object);
  const lineage = spatialIndexHash(spatial.index);
  const segment = decodeSpatialSegment(bytes, lineage);
  assert.equal(segment.count, 50);
  // A Node Buffer from a pool (what a file store returns) decodes the same.
  const pooled = Buffer.concat([Buffer.from('padding'), bytes]).subarray(7);
  assert.deepEqual(decodeSpatialSegment(pooled, lineage).ticks, segment.ticks);
  const again = Buffer.concat(encodeSpatialSegment(segment));
  assert.deepEqual(new Uint8Array(again), bytes);
  const other = spatialIndexHash({ ...spatial.index, seed: new Uint8Array(32).fill(1) });
  assert.throws(() => decodeSpatialSegment(bytes, other), code('E_LINEAGE', /another spatial index/));
  assert.throws(
    () => decodeSpatialSegment(bytes.subarray(0, bytes.length - 4), lineage),
    code('E_FIELD', /payload/),
  );
  const flipped = bytes.slice();
  const vectorsAt = bytes.length - 50 * DIM * 4;
  new DataView(flipped.buffer).setFloat32(vectorsAt, Number.NaN, true);
  assert.throws(() => decodeSpatialSegment(flipped, lineage), code('E_FIELD', /non-finite/));
  // Searching with the lineage the caller expects: the track's own passes, another is refused.
  const vector = dataset(1, 7)[0]!;
  const ok = await search(session, main, { timeline: 's1', track: 'emb', vector, k: 1, index: lineage });
  assert.equal(ok.length, 1);
  await assert.rejects(
    search(session, main, { timeline: 's1', track: 'emb', vector, k: 1, index: other }),
    code('E_LINEAGE', new RegExp(`indexed under spatial index ${multihashToHex(lineage)}`)),
  );
});

test('vectors written as lists of numbers are stored as float32 bytes, plain or in a map', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const writer = new Writer().timeline({ name: 's1', genesis: 0n }).track(track());
  const [a, b] = dataset(2, 8).map((v) => Array.from(v));
  writer.write('s1', 'emb', [
    { tick: 1n, payload: a },
    { tick: 2n, payload: { vector: b, label: 'second' } },
  ]);
  const main = await publish(session, writer, { ref: 'main' });
  const [first] = await search(session, main, { timeline: 's1', track: 'emb', vector: a!, k: 1 });
  assert.deepEqual(first!.payload, encodeVector(a!));
  const [second] = await search(session, main, { timeline: 's1', track: 'emb', vector: b!, k: 1 });
  assert.deepEqual(second!.payload, { vector: encodeVector(b!), label: 'second' });
  assert.throws(
    () => new Writer(main).write('s1', 'emb', [{ tick: 3n, payload: [1, 2] }]),
    code('E_FIELD', /vector has 8 bytes; the track holds 32 float32 values/),
  );
});
