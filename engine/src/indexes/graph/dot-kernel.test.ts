import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../../testing/random.js';
import { DotKernel, dotKernelBytes } from './dot-kernel.js';

test('the dot kernel gives the same bits in WebAssembly SIMD and in JavaScript, in the order spec 0013 §1 states', () => {
  assert.ok(WebAssembly.validate(dotKernelBytes()));
  const rng = random(5);
  for (const dim of [1, 6, 8, 13, 128, 771]) {
    const n = 50;
    const rows = Float32Array.from({ length: n * dim }, () => rng() * 2 - 1);
    const wasm = new DotKernel(n, dim, rows);
    const js = new DotKernel(n, dim, rows, { wasm: false });
    assert.equal(wasm.backend, 'wasm-simd');
    assert.equal(js.backend, 'js');
    const query = Float32Array.from({ length: dim }, () => rng() * 2 - 1);
    for (const kernel of [wasm, js]) {
      kernel.setQuery(query);
      for (let j = 0; j < n; j++) kernel.ids[j] = n - 1 - j;
      kernel.dots(n);
    }
    assert.deepEqual(wasm.out.subarray(0, n), js.out.subarray(0, n), `dim ${dim}`);
    // The stated order, written out once more: f32 products into partial sums i mod 8.
    const f = Math.fround;
    for (let j = 0; j < n; j++) {
      const r = n - 1 - j;
      const p = new Array(8).fill(0);
      for (let i = 0; i < dim; i++) p[i % 8] = f(p[i % 8] + f(query[i]! * rows[r * dim + i]!));
      const s = [0, 1, 2, 3].map((k) => f(p[k] + p[k + 4]));
      assert.equal(wasm.out[j], f(f(s[0]! + s[1]!) + f(s[2]! + s[3]!)));
      const exact = rows.subarray(r * dim, (r + 1) * dim).reduce((a, x, i) => a + x * query[i]!, 0);
      assert.ok(Math.abs(wasm.out[j]! - exact) < 1e-4 * Math.sqrt(dim));
    }
    // A row as the query: the kernel reads it in place.
    wasm.queryRow(3);
    wasm.ids[0] = 3;
    wasm.dots(1);
    const self = rows.subarray(3 * dim, 4 * dim).reduce((a, x) => a + x * x, 0);
    assert.ok(Math.abs(wasm.out[0]! - self) < 1e-4 * dim);
  }
});
