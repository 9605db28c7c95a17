import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../../testing/random.js';
import { defaultPqParams, encodePq, pqDot, pqTable, trainPq } from '../../vectors/pq.js';
import { CodeKernel } from './code-kernel.js';

test('the code kernel sums a code’s table entries as pqDot does, in WebAssembly and in JavaScript alike', () => {
  const rng = random(5);
  const dim = 20;
  const n = 700;
  const rows = Float32Array.from({ length: n * dim }, () => rng() - 0.5);
  const books = trainPq(rows, n, { ...defaultPqParams(dim), iterations: 3 });
  const codes = encodePq(books, rows, n);
  const wasm = new CodeKernel(books, n, codes);
  const js = new CodeKernel(books, n, codes, { wasm: false });
  assert.equal(wasm.backend, 'wasm');
  assert.equal(js.backend, 'js');
  const query = Float32Array.from({ length: dim }, () => rng() - 0.5);
  const table = pqTable(books, query, new Float32Array(books.subspaces * 256));
  for (const k of [wasm, js]) {
    k.setQuery(query);
    for (let j = 0; j < n; j++) k.ids[j] = n - 1 - j;
    k.dots(n);
  }
  for (let j = 0; j < n; j++) {
    assert.equal(wasm.out[j], js.out[j]);
    assert.equal(wasm.out[j], pqDot(table, codes, n - 1 - j, books.subspaces));
  }
  // A sample (an upper layer's codes) scores its rows with its root's table, set once.
  const sample = wasm.sample(40);
  sample.setQuery(query);
  for (let i = 0; i < 40; i++) sample.ids[i] = i;
  sample.dots(40);
  for (let i = 0; i < 40; i++) assert.equal(sample.out[i], pqDot(table, codes, 16 * i, books.subspaces));
});
