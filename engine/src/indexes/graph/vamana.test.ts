import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../errors.js';
import { random } from '../../testing/random.js';
import { buildVamana, checkVamanaParams, upperLayers, VamanaSearcher } from './vamana.js';

/** n unit rows of dim in clusters (normalize(center + noise)), and the exact top k of some queries. */
function clustered(n: number, dim: number, clusters: number, seed: number) {
  const rng = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, gauss));
  const rows = new Float32Array(n * dim);
  const unit = (x: number[], out: Float32Array, at: number) => {
    const norm = Math.hypot(...x);
    for (let d = 0; d < dim; d++) out[at + d] = x[d]! / norm;
  };
  for (let i = 0; i < n; i++) {
    const c = centers[i % clusters]!;
    unit(
      c.map((x) => x + 0.35 * gauss()),
      rows,
      i * dim,
    );
  }
  return { rows, gauss, centers, unit };
}

function exactTop(rows: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const n = rows.length / dim;
  const scored = Array.from({ length: n }, (_, i) => {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += q[d]! * rows[i * dim + d]!;
    return { i, d: 1 - dot };
  });
  return scored
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, k)
    .map((s) => s.i);
}

const PARAMS = { degree: 16, buildList: 48, alpha: 1.2, seed: 7 };

test('a Vamana graph finds the exact 10 nearest of clustered vectors with recall >= 0.95, visiting a few hundred nodes', () => {
  const dim = 32;
  const { rows, centers, gauss, unit } = clustered(4000, dim, 40, 1);
  const graph = buildVamana(rows, dim, PARAMS);
  assert.ok(graph.counts.every((c) => c >= 1 && c <= PARAMS.degree));
  const searcher = new VamanaSearcher(graph, rows);
  let found = 0;
  let expanded = 0;
  const Q = 100;
  for (let q = 0; q < Q; q++) {
    const query = new Float32Array(dim);
    unit(
      centers[q % centers.length]!.map((x) => x + 0.35 * gauss()),
      query,
      0,
    );
    const truth = new Set(exactTop(rows, dim, query, 10));
    const hits = searcher.search(query, 10, 64);
    found += [...hits.ids].filter((i) => truth.has(i)).length;
    expanded += hits.expanded;
    for (let i = 1; i < hits.distances.length; i++) assert.ok(hits.distances[i - 1]! <= hits.distances[i]!);
  }
  const recall = found / (Q * 10);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
  assert.ok(expanded / Q < 400, `${expanded / Q} nodes expanded per query`);
  // The navigation layer: every 16th node, half the degree, alpha 1, linked only within itself; none above it.
  const upper = graph.upper!;
  assert.equal(upper.n, 250);
  assert.equal(upper.degree, 8);
  assert.equal(upper.upper, undefined);
  assert.ok(upper.counts.every((c) => c >= 1 && c <= 8));
  assert.ok(upper.neighbors.every((nb) => nb >= -1 && nb < 250));
  assert.deepEqual(
    upper,
    buildVamana(
      rows.filter((_, i) => Math.floor(i / dim) % 16 === 0),
      dim,
      { ...PARAMS, degree: 8, buildList: 24, alpha: 1 },
    ),
  );
  // Starting from the layer's nearest nodes, a short list finds what a long walk from the medoid finds.
  const query = rows.slice(77 * dim, 78 * dim);
  assert.equal(searcher.search(query, 1, 8).ids[0], 77);
  assert.equal(
    buildVamana(rows.subarray(0, 2047 * dim), dim, PARAMS).upper,
    undefined,
    'under 2048 nodes: no layer',
  );
});

test('the same vectors and parameters give the same graph; another seed another', () => {
  const dim = 16;
  const { rows } = clustered(1500, dim, 15, 2);
  const a = buildVamana(rows, dim, PARAMS);
  const b = buildVamana(rows, dim, PARAMS);
  assert.deepEqual(a.neighbors, b.neighbors);
  assert.equal(a.medoid, b.medoid);
  const c = buildVamana(rows, dim, { ...PARAMS, seed: 8 });
  assert.notDeepEqual(a.neighbors, c.neighbors);
});

test('a filter applies inside the walk: only kept nodes are answered, the best of those measured', () => {
  const dim = 16;
  const { rows } = clustered(3000, dim, 30, 3);
  const graph = buildVamana(rows, dim, PARAMS);
  const searcher = new VamanaSearcher(graph, rows);
  const query = rows.slice(5 * dim, 6 * dim);
  // Half the nodes of every cluster (blocks of 32 ids), as a time window keeps part of each cluster.
  const even = (i: number) => (i >> 5) % 2 === 0;
  const hits = searcher.search(query, 10, 64, even);
  assert.equal(hits.ids.length, 10);
  assert.ok([...hits.ids].every(even));
  const truth = new Set(exactTop(rows, dim, query, 40).filter(even).slice(0, 10));
  const got = [...hits.ids].filter((i) => truth.has(i)).length;
  assert.ok(got >= 8, `${got} of the 10 best kept nodes`);
});

test('bad parameters are refused, naming the parameter', () => {
  const refused = (p: Partial<typeof PARAMS>, word: RegExp) =>
    assert.throws(
      () => checkVamanaParams({ ...PARAMS, ...p }),
      (e: unknown) => e instanceof EngineError && e.code === 'E_FIELD' && word.test(e.message),
    );
  refused({ degree: 1 }, /degree/);
  refused({ buildList: 8 }, /build list/);
  refused({ alpha: 0.9 }, /alpha/);
  refused({ seed: -1 }, /seed/);
});

test('every navigation layer has the first layer’s degree: a layer above a layer is not thinner', () => {
  const params = { degree: 32, buildList: 64, alpha: 1.2, seed: 7 };
  assert.deepEqual(upperLayers(1_000_000, params), [
    { n: 62_500, degree: 16 },
    { n: 3906, degree: 16 },
    { n: 244, degree: 16 },
  ]);
  assert.deepEqual(upperLayers(2047, params), []);
  // Built: 33,000 nodes have two layers (2062 and 128 nodes), both of degree 4 under degree 8.
  const dim = 4;
  const { rows } = clustered(33_000, dim, 40, 5);
  const graph = buildVamana(rows, dim, { degree: 8, buildList: 16, alpha: 1.2, seed: 3 });
  assert.deepEqual(
    [graph.upper!.n, graph.upper!.degree, graph.upper!.upper!.n, graph.upper!.upper!.degree],
    [2062, 4, 128, 4],
  );
  assert.equal(graph.upper!.upper!.upper, undefined);
  assert.ok(graph.upper!.upper!.counts.every((c) => c >= 1 && c <= 4));
});
