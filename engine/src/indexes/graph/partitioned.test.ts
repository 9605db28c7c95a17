import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '../../address/multihash.js';
import { joinParts } from '../../bytes.js';
import { Session } from '../../session/session.js';
import { MemoryStore } from '../../store/memory-store.js';
import { SpaceStore } from '../../store/space-store.js';
import { random } from '../../testing/random.js';
import { vamanaCosine } from './kind.js';
import { defaultGraphParams } from './params.js';
import {
  buildPartitioned,
  memorySpill,
  type PartitionedGraph,
  type RowSource,
  shardCount,
  shardDegree,
  sphericalKMeans,
} from './partitioned.js';
import {
  decodeGraphIndex,
  encodeGraphSegment,
  forEachPage,
  heldRecords,
  readGraphIndex,
  readPage,
} from './segment.js';
import { buildVamana, type VamanaGraph, VamanaSearcher } from './vamana.js';

const concat = joinParts;

const PARAMS = { degree: 16, buildList: 48, alpha: 1.2, seed: 7 };

/** n rows of dim in clusters, not of unit length (the build scales them), and some queries near the centers. */
function clustered(n: number, dim: number, clusters: number, seed: number) {
  const rng = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, gauss));
  const rows = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[Math.floor(rng() * clusters)]!;
    for (let d = 0; d < dim; d++) rows[i * dim + d] = 3 * (c[d]! + 0.35 * gauss());
  }
  const unitRows = new Float32Array(rows.length);
  for (let i = 0; i < n; i++) {
    const norm = Math.hypot(...rows.subarray(i * dim, (i + 1) * dim));
    for (let d = 0; d < dim; d++) unitRows[i * dim + d] = rows[i * dim + d]! / norm;
  }
  const queries = Array.from({ length: 60 }, (_, q) => {
    const x = centers[q % clusters]!.map((v) => v + 0.35 * gauss());
    const norm = Math.hypot(...x);
    return Float32Array.from(x, (v) => v / norm);
  });
  return { rows, unitRows, queries };
}

/** A source over rows in memory, counting the rows it is asked for. */
function memorySource(rows: Float32Array, dim: number): RowSource & { read: number } {
  const source = {
    count: rows.length / dim,
    dimension: dim,
    read: 0,
    async rows(from: number, to: number) {
      source.read += to - from;
      return rows.slice(from * dim, to * dim);
    },
  };
  return source;
}

/** A partitioned graph held whole (its edges read back from the spill), to search and compare. */
async function held(graph: PartitionedGraph): Promise<VamanaGraph> {
  const { neighbors, counts } = await graph.edges(0, graph.n);
  return {
    n: graph.n,
    dim: graph.dim,
    degree: graph.degree,
    neighbors,
    counts,
    medoid: graph.medoid,
    ...(graph.upper && { upper: graph.upper }),
  };
}

function recall(graph: VamanaGraph, unitRows: Float32Array, dim: number, queries: Float32Array[]): number {
  const searcher = new VamanaSearcher(graph, unitRows);
  let found = 0;
  for (const q of queries) {
    const exact = searcher.scan(q, 10, 0, graph.n);
    const truth = new Set(exact.ids);
    found += [...searcher.search(q, 10, 64).ids].filter((i) => truth.has(i)).length;
  }
  return found / (queries.length * 10);
}

test('a graph built over 4 shards finds what the graph built whole finds, and is the same graph twice', async () => {
  const dim = 24;
  const n = 6000;
  const { rows, unitRows, queries } = clustered(n, dim, 30, 3);
  const source = memorySource(rows, dim);
  const options = { shardNodes: 3000, spill: memorySpill(), chunk: 1000 };
  const built = await buildPartitioned(source, PARAMS, options);
  assert.equal(built.shards, shardCount(n, 3000));
  assert.equal(built.shards, 4);
  // Each row is read once to sample, once to assign: the build never asks for more.
  assert.equal(source.read, 2 * n);
  assert.ok(built.largestShard < n, `largest shard ${built.largestShard}`);
  const graph = await held(built);
  for (let i = 0; i < n; i++) {
    const c = graph.counts[i]!;
    assert.ok(c >= 1 && c <= PARAMS.degree, `node ${i} has ${c} out-edges`);
    const out = graph.neighbors.subarray(i * PARAMS.degree, i * PARAMS.degree + c);
    assert.equal(new Set(out).size, c, `node ${i} repeats an out-edge`);
    for (const j of out) assert.ok(j >= 0 && j < n && j !== i, `node ${i} -> ${j}`);
  }
  // The layers are those of the whole graph's rule: every 16th node (6000 / 16 = 375).
  assert.equal(graph.upper?.n, 375);
  const whole = recall(buildVamana(unitRows, dim, PARAMS), unitRows, dim, queries);
  const parted = recall(graph, unitRows, dim, queries);
  assert.ok(parted >= 0.95 && parted >= whole - 0.03, `partitioned recall ${parted}, whole ${whole}`);

  const again = await held(
    await buildPartitioned(memorySource(rows, dim), PARAMS, { ...options, spill: memorySpill() }),
  );
  assert.deepEqual(again.neighbors, graph.neighbors);
  assert.equal(again.medoid, graph.medoid);
  assert.deepEqual(again.upper?.neighbors, graph.upper?.neighbors);
});

test('a shard holds each row near its centroids: 2 shards a row, degree 2R/3 before the merge', async () => {
  assert.equal(shardDegree(32), 22);
  assert.equal(shardDegree(16), 11);
  const dim = 8;
  const { rows } = clustered(800, dim, 4, 9);
  // A spill that counts the bytes written to each file.
  const inner = memorySpill();
  const written = new Map<string, number>();
  const spill = {
    ...inner,
    writer(name: string) {
      const w = inner.writer(name);
      return {
        append: async (bytes: Uint8Array) => {
          written.set(name, (written.get(name) ?? 0) + bytes.length);
          await w.append(bytes);
        },
        close: () => w.close(),
      };
    },
  };
  const built = await buildPartitioned(memorySource(rows, dim), PARAMS, { shardNodes: 400, spill });
  assert.equal(built.shards, 4);
  // 800 rows in 2 shards each: 1600 unit rows spilled; each shard's edges at degree 2R/3.
  let rowBytes = 0;
  let edgeBytes = 0;
  for (let s = 0; s < built.shards; s++) {
    const r = written.get(`shard-${s}.rows`) ?? 0;
    rowBytes += r;
    edgeBytes += written.get(`shard-${s}.edges`) ?? 0;
    assert.ok(r > 0, `shard ${s} is empty`);
  }
  assert.equal(rowBytes, 1600 * dim * 4);
  assert.equal(edgeBytes, 1600 * shardDegree(PARAMS.degree) * 4);
  assert.equal(written.get('merged-edges'), 800 * PARAMS.degree * 4);
});

test('spherical k-means puts centroids on the clusters of the sample', () => {
  const dim = 16;
  const { unitRows } = clustered(2000, dim, 4, 5);
  const centroids = sphericalKMeans(unitRows, 2000, dim, 4, 1);
  for (let c = 0; c < 4; c++) {
    const norm = Math.hypot(...centroids.subarray(c * dim, (c + 1) * dim));
    assert.ok(Math.abs(norm - 1) < 1e-5, `centroid ${c} norm ${norm}`);
  }
  // Every row is near (cosine > 0.8) some centroid: the clusters' noise is small against their spread.
  let far = 0;
  for (let i = 0; i < 2000; i++) {
    let best = -1;
    for (let c = 0; c < 4; c++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += unitRows[i * dim + d]! * centroids[c * dim + d]!;
      best = Math.max(best, dot);
    }
    if (best < 0.8) far++;
  }
  assert.ok(far < 20, `${far} rows far from every centroid`);
});

test('a partitioned build refuses a row of NaN, infinite or zero length by its number, and short reads', async () => {
  const dim = 4;
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0]) {
    const rows = new Float32Array(40 * dim).fill(1);
    rows.fill(bad, 17 * dim, bad === 0 ? 18 * dim : 17 * dim + 1);
    await assert.rejects(
      buildPartitioned(memorySource(rows, dim), PARAMS, { shardNodes: 20, spill: memorySpill() }),
      /E_FIELD: row 17: not a finite vector of non-zero length/,
    );
  }
  const short: RowSource = { count: 10, dimension: dim, rows: async () => new Float32Array(3) };
  await assert.rejects(
    buildPartitioned(short, PARAMS, { shardNodes: 20, spill: memorySpill() }),
    /E_FIELD: rows 0\.\.10: 3 components/,
  );
});

test('a partitioned graph is written as GraphPage objects one at a time, and reads back as built', async () => {
  const dim = 16;
  const n = 3000;
  const { rows } = clustered(n, dim, 10, 4);
  const built = await buildPartitioned(memorySource(rows, dim), PARAMS, {
    shardNodes: 2000,
    spill: memorySpill(),
  });
  const params = {
    ...defaultGraphParams(dim),
    degree: PARAMS.degree,
    buildList: PARAMS.buildList,
    seed: PARAMS.seed,
  };
  const objects = new Map<string, Uint8Array>();
  let puts = 0;
  const segment = {
    timeline: 't',
    track: 'emb',
    params,
    ticks: BigUint64Array.from({ length: n }, (_, i) => BigInt(i * 10)),
    graph: {
      n,
      medoid: built.medoid,
      ...(built.upper && { upper: built.upper }),
      async nodes(from: number, to: number) {
        return { vectors: rows.subarray(from * dim, to * dim), ...(await built.edges(from, to)) };
      },
    },
    compressed: {
      compressor: new Uint8Array([0x1e, 0x20, ...new Array(32).fill(7)]),
      codes: new Uint8Array(n * params.subspaces).map((_, i) => i % 251),
    },
  };
  const index = await encodeGraphSegment(segment, async (page) => {
    puts++;
    objects.set(multihashToHex(page.hash), concat(page.parts));
  });
  assert.equal(puts, 1);
  const decoded = decodeGraphIndex(concat(index.parts), params, 'test');
  assert.equal(decoded.medoid, built.medoid);
  assert.equal(decoded.upper.length, 1);
  const vectors = new Float32Array(n * dim);
  const into = {
    neighbors: new Int32Array(n * PARAMS.degree),
    counts: new Uint16Array(n),
    setRow: (node: number, row: Float32Array) => vectors.set(row, node * dim),
  };
  await forEachPage(
    decoded,
    async (object) => objects.get(multihashToHex(object))!,
    (page, bytes, what) => readPage(decoded, page, bytes, into, what),
  );
  const edges = await built.edges(0, n);
  assert.deepEqual(into.counts, edges.counts);
  for (let i = 0; i < n; i++)
    assert.deepEqual(
      into.neighbors.subarray(i * PARAMS.degree, i * PARAMS.degree + into.counts[i]!),
      edges.neighbors.subarray(i * PARAMS.degree, i * PARAMS.degree + edges.counts[i]!),
    );
  assert.deepEqual(vectors, rows);
});

test('a GraphIndex whose payload is too long lies in GraphBody objects, read back as the same index', async () => {
  const dim = 8;
  const n = 2500;
  const { rows } = clustered(n, dim, 10, 6);
  const graph = buildVamana(rows, dim, PARAMS);
  const params = {
    ...defaultGraphParams(dim),
    degree: PARAMS.degree,
    buildList: PARAMS.buildList,
    seed: PARAMS.seed,
  };
  const segment = {
    timeline: 't',
    track: 'emb',
    params,
    ticks: BigUint64Array.from({ length: n }, (_, i) => BigInt(3 * i + 1)),
    graph: heldRecords(graph, rows),
    compressed: {
      compressor: new Uint8Array([0x1e, 0x20, ...new Array(32).fill(9)]),
      codes: new Uint8Array(n * params.subspaces).map((_, i) => (i * 7) % 256),
    },
  };
  const stored = new Map<string, Uint8Array>();
  const put = async (o: { parts: Uint8Array[]; hash: Uint8Array }) => {
    stored.set(multihashToHex(o.hash), concat(o.parts));
  };
  const inline = await encodeGraphSegment(segment, put);
  const pagesOnly = stored.size;
  const split = await encodeGraphSegment(segment, put, { inline: 16_384, body: 10_000 });
  // 2500 ticks (20,000 bytes) alone pass the inline limit: the payload is cut into parts of 10,000 bytes.
  const bodies = stored.size - pagesOnly;
  const payload = concat(inline.parts).length - concat(split.parts).length;
  assert.equal(bodies, Math.ceil(payload / 10_000));
  assert.ok(bodies >= 3, `${bodies} GraphBody objects`);
  const get = async (o: Uint8Array) => stored.get(multihashToHex(o)) ?? assert.fail('no such object');
  stored.set(multihashToHex(inline.hash), concat(inline.parts));
  stored.set(multihashToHex(split.hash), concat(split.parts));
  const a = await readGraphIndex(get, inline.hash, params);
  const b = await readGraphIndex(get, split.hash, params);
  assert.equal(a.body.length, 0);
  assert.equal(b.body.length, bodies);
  assert.deepEqual({ ...b, body: [] }, a);
  // Without its body the index does not decode as if it had none, and parts out of order are refused.
  assert.throws(
    () => decodeGraphIndex(concat(split.parts), params),
    /E_FIELD: .*lists \d+ GraphBody objects: read them first/,
  );
  const swapped = async (o: Uint8Array) =>
    multihashToHex(o) === multihashToHex(b.body[0]!) ? get(b.body[1]!) : get(o);
  await assert.rejects(readGraphIndex(swapped, split.hash, params), /E_FIELD: .*part 1 listed at 0/);
  // collect keeps what the index names: its GraphBody objects too.
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  for (const bytes of stored.values()) await session.store.putObject(bytes);
  const kept = await vamanaCosine.follow!(
    session,
    { object: split.hash, count: n, first: 1n, last: BigInt(3 * n - 2) },
    params,
  );
  const names = new Set(kept.map(multihashToHex));
  for (const body of b.body) assert.ok(names.has(multihashToHex(body)), 'a GraphBody object is kept');
  for (const page of b.pages) assert.ok(names.has(multihashToHex(page)));
});

test('wide rows: a GraphPage object holds 64 MiB of pages at most, so stores under 100 MiB take them', async () => {
  // 1024 components: a record of 4228 bytes, pages of 8192 bytes, so 8192 pages (nodes) an object.
  const dim = 1024;
  const n = 8200;
  const rows = new Float32Array(n * dim).map((_, i) => ((i * 7919) % 1000) / 1000 + 0.001);
  const degree = 4;
  const neighbors = new Int32Array(n * degree).map((_, i) => (Math.floor(i / degree) + 1 + (i % degree)) % n);
  // Its navigation layer (8200 / 16 nodes of degree 2): a ring.
  const upper = {
    n: 512,
    dim,
    degree: 2,
    neighbors: new Int32Array(1024).map((_, i) => (Math.floor(i / 2) + 1 + (i % 2)) % 512),
    counts: new Uint16Array(512).fill(2),
    medoid: 0,
  };
  const graph = { n, dim, degree, neighbors, counts: new Uint16Array(n).fill(degree), medoid: 0, upper };
  const params = { ...defaultGraphParams(dim), degree, buildList: 8 };
  const stored = new Map<string, Uint8Array>();
  const index = await encodeGraphSegment(
    {
      timeline: 't',
      track: 'emb',
      params,
      ticks: BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
      graph: heldRecords(graph, rows),
    },
    async (o) => {
      const bytes = concat(o.parts);
      assert.ok(bytes.length <= 64 * 2 ** 20 + 4096, `a GraphPage object of ${bytes.length} bytes`);
      stored.set(multihashToHex(o.hash), bytes);
    },
  );
  const decoded = decodeGraphIndex(concat(index.parts), params);
  assert.equal(decoded.layout.pageBytes, 8192);
  assert.equal(decoded.layout.perObject, 8192);
  assert.equal(decoded.pages.length, 2);
  const back = new Float32Array(n * dim);
  const into = {
    neighbors: new Int32Array(n * degree),
    counts: new Uint16Array(n),
    setRow: (node: number, row: Float32Array) => back.set(row, node * dim),
  };
  await forEachPage(
    decoded,
    async (o) => stored.get(multihashToHex(o))!,
    (page, bytes, what) => readPage(decoded, page, bytes, into, what),
  );
  assert.deepEqual(into.neighbors, neighbors);
  assert.deepEqual(back, rows);
});
