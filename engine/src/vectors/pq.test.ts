import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashParts } from '../address/multihash.js';
import { joinParts } from '../bytes.js';
import { openVectorCompressor, sealVectorCompressor } from '../format/vector-compressor.js';
import { clusteredVectors } from '../testing/vectors.js';
import { scaleToUnit } from './cosine.js';
import {
  decodePq,
  defaultPqParams,
  defaultSubspaces,
  encodePq,
  type PqParams,
  pqDot,
  pqTable,
  subspaceBounds,
  trainingSample,
  trainPq,
} from './pq.js';

/** n unit rows of dim (clustered, as the graph tests use). */
function unitRows(n: number, dim: number, seed: number): Float32Array {
  const rows = new Float32Array(n * dim);
  const unit = new Float32Array(dim);
  for (const [i, v] of clusteredVectors(n, { dim, seed, centres: 20, noise: 0.4 }).entries()) {
    scaleToUnit(v, 0, unit);
    rows.set(unit, i * dim);
  }
  return rows;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('subspace bounds split the dimensions evenly and refuse more subspaces than dimensions', () => {
  assert.deepEqual([...subspaceBounds(10, 4)], [0, 2, 5, 7, 10]);
  assert.equal(defaultSubspaces(128), 64);
  assert.equal(defaultSubspaces(24), 12);
  assert.equal(defaultSubspaces(768), 192);
  assert.throws(() => subspaceBounds(4, 5), /5 subspaces do not fit 4 dimensions/);
});

test('the training sample is every row up to trainRows, else a seeded partial shuffle of distinct rows', () => {
  const p: PqParams = { ...defaultPqParams(8), trainRows: 100 };
  assert.deepEqual(
    [...trainingSample(50, p)],
    Array.from({ length: 50 }, (_, i) => i),
  );
  const a = trainingSample(1000, p);
  assert.equal(a.length, 100);
  assert.equal(new Set(a).size, 100);
  assert.deepEqual([...a], [...trainingSample(1000, p)]);
  assert.notDeepEqual([...a], [...trainingSample(1000, { ...p, seed: 1 })]);
});

test('codes stand for their rows: the estimated dot tracks the exact one, far better than random codes', () => {
  const dim = 32;
  const n = 3000;
  const rows = unitRows(n, dim, 7);
  const params: PqParams = { ...defaultPqParams(dim), trainRows: 2000 };
  const books = trainPq(rows, n, params);
  const codes = encodePq(books, rows, n);
  assert.equal(codes.length, n * params.subspaces);
  const query = rows.slice(0, dim);
  const table = pqTable(books, query, new Float32Array(params.subspaces * 256));
  let err = 0;
  let randomErr = 0;
  const back = new Float32Array(dim);
  const scrambled = codes.map((_, i) => (i * 2654435761) >>> 24);
  for (let r = 0; r < n; r++) {
    const exact = dot(query, rows.subarray(r * dim, (r + 1) * dim));
    const estimate = pqDot(table, codes, r, params.subspaces);
    // The table's sum is the dot with the decoded row.
    assert.ok(Math.abs(estimate - dot(query, decodePq(books, codes, r, back))) < 1e-5);
    err += (estimate - exact) ** 2;
    randomErr += (pqDot(table, scrambled, r, params.subspaces) - exact) ** 2;
  }
  const rms = Math.sqrt(err / n);
  assert.ok(rms < 0.05, `rms error of the estimated dot ${rms}`);
  assert.ok(
    rms < Math.sqrt(randomErr / n) / 5,
    `rms ${rms} against random codes ${Math.sqrt(randomErr / n)}`,
  );
});

test('the same rows and parameters give the same codebooks and codes; another seed other ones', () => {
  const dim = 16;
  const rows = unitRows(1500, dim, 3);
  const params: PqParams = { ...defaultPqParams(dim), trainRows: 600, iterations: 4 };
  const a = trainPq(rows, 1500, params);
  const b = trainPq(rows, 1500, params);
  assert.deepEqual(a.centroids, b.centroids);
  assert.deepEqual(encodePq(a, rows, 1500), encodePq(b, rows, 1500));
  assert.notDeepEqual(trainPq(rows, 1500, { ...params, seed: 9 }).centroids, a.centroids);
});

test('fewer rows than centroids still train (centroids repeat rows) and encode each row exactly', () => {
  const dim = 8;
  const rows = unitRows(10, dim, 5);
  const params = defaultPqParams(dim);
  const books = trainPq(rows, 10, params);
  const codes = encodePq(books, rows, 10);
  const back = new Float32Array(dim);
  for (let r = 0; r < 10; r++)
    assert.deepEqual(decodePq(books, codes, r, back), rows.slice(r * dim, (r + 1) * dim));
});

test('a VectorCompressor object round-trips, hashes the same twice and refuses a bad shape', async () => {
  const dim = 12;
  const rows = unitRows(400, dim, 11);
  const params: PqParams = { ...defaultPqParams(dim), subspaces: 5, iterations: 3 };
  const books = trainPq(rows, 400, params);
  const parts = sealVectorCompressor(params, books);
  assert.deepEqual(
    await hashParts(parts),
    await hashParts(sealVectorCompressor(params, trainPq(rows, 400, params))),
  );
  const opened = openVectorCompressor(joinParts(parts));
  assert.deepEqual(opened.params, params);
  assert.deepEqual(opened.books.centroids, books.centroids);
  assert.deepEqual([...opened.books.bounds], [...books.bounds]);
  const short = joinParts(parts).subarray(0, joinParts(parts).length - 4);
  assert.throws(() => openVectorCompressor(short), /payload of \d+ bytes, not 12 × 256 float32/);
  const nan = joinParts(parts).slice();
  nan.set([0, 0, 0xc0, 0x7f], nan.length - 4);
  assert.throws(() => openVectorCompressor(nan), /non-finite/);
});
