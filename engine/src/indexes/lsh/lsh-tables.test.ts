import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineAt, foldNorm, foldSquares } from '../../vectors/cosine.js';
import type { LshParams } from './lsh.js';
import { LshTables } from './lsh-tables.js';
import { CodeScorer, queryLimit, scorerWasmBytes, scorerWasmModule } from './scorer-wasm.js';

const params = (dimension: number, tables = 8, bits = 10, probes = 5): LshParams => ({
  dimension,
  tables,
  bits,
  probes,
  seed: new Uint8Array(32).fill(3),
});

/** A deterministic generator: uniform in [0, 1) and standard Gaussian (Box-Muller). */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, gaussian };
}

const gaussians = (length: number, seed: number): Float32Array => {
  const { gaussian } = random(seed);
  return Float32Array.from({ length }, gaussian);
};

const normsOf = (vectors: Float32Array, count: number, d: number): Float32Array =>
  Float32Array.from({ length: count }, (_, n) => foldNorm(foldSquares(vectors, n * d, d)));

/** `count` vectors around `clusters` random centres (unit-variance noise scaled by `sigma`). */
function clustered(count: number, d: number, clusters: number, sigma: number, seed: number): Float32Array {
  const { uniform, gaussian } = random(seed);
  const centres = Float32Array.from({ length: clusters * d }, gaussian);
  const vectors = new Float32Array(count * d);
  for (let n = 0; n < count; n++) {
    const c = Math.floor(uniform() * clusters);
    for (let i = 0; i < d; i++) vectors[n * d + i] = centres[c * d + i]! + sigma * gaussian();
  }
  return vectors;
}

test('the scorer kernel validates as WebAssembly SIMD and is built the same every time', () => {
  assert.ok(WebAssembly.validate(scorerWasmBytes()));
  assert.deepEqual(scorerWasmBytes(), scorerWasmBytes());
  assert.ok(scorerWasmModule());
});

test('the WebAssembly and JavaScript scorers give identical approximate cosines on random data', () => {
  for (const d of [1, 7, 16, 128, 768]) {
    const count = 600;
    const vectors = gaussians(count * d, d);
    // Awkward rows: all zero, one huge component, tiny values, all equal.
    vectors.fill(0, 0, d);
    vectors[d] = 1e30;
    vectors.fill(1e-20, 2 * d, 3 * d);
    vectors.fill(-2, 3 * d, 4 * d);
    const norms = normsOf(vectors, count, d);
    const wasm = new CodeScorer(vectors, count, d, norms);
    const js = new CodeScorer(vectors, count, d, norms, { wasm: false });
    assert.equal(wasm.backend, 'wasm-simd');
    assert.equal(js.backend, 'js');
    assert.equal(wasm.stride % 16, 0);
    // More candidates than one kernel batch (4096), with repeats, in no order.
    const { uniform } = random(d + 1);
    const candidates = Uint32Array.from({ length: 5000 }, () => Math.floor(uniform() * count));
    for (let k = 0; k < 4; k++) {
      const query = gaussians(d, 1000 * d + k);
      if (k === 3) query.fill(0);
      const qNorm = foldNorm(foldSquares(query));
      wasm.setQuery(query, qNorm);
      js.setQuery(query, qNorm);
      const a = new Float64Array(candidates.length);
      const b = new Float64Array(candidates.length);
      wasm.scores(candidates, candidates.length, a);
      js.scores(candidates, candidates.length, b);
      for (let c = 0; c < candidates.length; c++) {
        const o = candidates[c]!;
        assert.ok(Object.is(a[c], b[c]), `dim ${d}, query ${k}, row ${o}: wasm ${a[c]} js ${b[c]}`);
        if (k === 3 || norms[o] === 0) assert.equal(a[c], 0);
        else if (d >= 16) {
          // An estimate of the cosine: 8-bit rows, 16-bit query.
          const exact = cosineAt(query, qNorm, vectors, o * d, norms[o]!);
          assert.ok(Math.abs(a[c]! - exact) < 0.05, `dim ${d}, row ${o}: ${a[c]} vs ${exact}`);
        }
      }
    }
  }
});

test('the integer dot product stays exact at its largest magnitude', () => {
  for (const d of [128, 768, 5000]) {
    const limit = queryLimit(d);
    assert.ok(d * 127 * limit < 2 ** 31, `dim ${d}`);
    const vectors = new Float32Array(2 * d);
    vectors.fill(1, 0, d);
    vectors.fill(-1, d, 2 * d);
    const norms = normsOf(vectors, 2, d);
    const query = new Float32Array(d).fill(-3);
    for (const wasm of [true, false]) {
      const scorer = new CodeScorer(vectors, 2, d, norms, { wasm });
      scorer.setQuery(query, foldNorm(foldSquares(query)));
      const out = new Float64Array(2);
      scorer.scores(Uint32Array.of(0, 1), 2, out);
      assert.ok(Math.abs(out[0]! + 1) < 1e-6 && Math.abs(out[1]! - 1) < 1e-6, `dim ${d}: ${out}`);
    }
  }
});

test('search gives identical hits with WebAssembly on and off, with and without rerank', () => {
  for (const d of [7, 48]) {
    const count = 3000;
    const vectors = clustered(count, d, 40, 0.4, d);
    const p = params(d);
    const wasm = LshTables.fromVectors(p, vectors, count);
    const js = LshTables.fromVectors(p, vectors, count, { wasm: false });
    assert.equal(wasm.backend, 'wasm-simd');
    assert.equal(js.backend, 'js');
    const queries = clustered(20, d, 40, 0.5, d);
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * d, (q + 1) * d);
      for (const rerank of [undefined, 10, 37, 200]) {
        const options = { k: 10, ...(rerank !== undefined && { rerank }) };
        assert.deepEqual(wasm.search(query, options), js.search(query, options), `dim ${d}, query ${q}`);
      }
    }
  }
});

test('search with rerank of at least the candidates equals search without rerank', () => {
  const d = 32;
  const count = 800;
  const vectors = clustered(count, d, 10, 0.5, 5);
  const tables = LshTables.fromVectors(params(d), vectors, count);
  const queries = gaussians(10 * d, 6);
  for (let q = 0; q < 10; q++) {
    const query = queries.subarray(q * d, (q + 1) * d);
    // widenBelow the track size in both: the same candidates (every row), none dropped by rerank.
    const plain = tables.search(query, { k: 10, widenBelow: count });
    assert.deepEqual(tables.search(query, { k: 10, widenBelow: count, rerank: count }), plain);
    assert.deepEqual(tables.search(query, { k: 10, widenBelow: count, rerank: 5 * count }), plain);
  }
});

test('search with rerank keeps the true neighbours of clustered data', () => {
  const d = 64;
  const count = 20_000;
  // The last 30 rows, around the same centres, are the queries (not indexed).
  const both = clustered(count + 30, d, 100, 0.8, 11);
  const vectors = both.subarray(0, count * d);
  const queries = both.subarray(count * d);
  const norms = normsOf(vectors, count, d);
  const tables = LshTables.fromVectors(params(d, 16, 12, 9), vectors, count);
  let found = 0;
  let foundAll = 0;
  for (let q = 0; q < 30; q++) {
    const query = queries.subarray(q * d, (q + 1) * d);
    const qNorm = foldNorm(foldSquares(query));
    const exact = Array.from({ length: count }, (_, o) => ({
      o,
      s: cosineAt(query, qNorm, vectors, o * d, norms[o]!),
    }))
      .sort((a, b) => b.s - a.s || a.o - b.o)
      .slice(0, 10)
      .map((h) => h.o);
    const hits = tables.search(query, { k: 10, rerank: 40 }).map((h) => h.ordinal);
    const all = tables.search(query, { k: 10 }).map((h) => h.ordinal);
    found += hits.filter((o) => exact.includes(o)).length;
    foundAll += all.filter((o) => exact.includes(o)).length;
  }
  assert.ok(foundAll / 300 >= 0.8, `recall without rerank ${foundAll / 300}`);
  assert.ok(
    found / 300 >= foundAll / 300 - 0.03,
    `recall with rerank 40: ${found / 300} vs ${foundAll / 300}`,
  );
});
