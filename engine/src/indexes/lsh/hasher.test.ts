import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHex } from '../../cbor/json-form.js';
import { loadVectorFiles } from '../../node/vectors.js';
import { LshHasher } from './hasher.js';
import { lshWasmBytes, lshWasmModule, MAX_ACCUMULATORS } from './hasher-wasm.js';
import { hyperplaneSigns, type LshParams, tableKeys } from './lsh.js';

const params = (dimension: number, tables: number, bits: number, seed = 7): LshParams => ({
  dimension,
  tables,
  bits,
  probes: 1,
  seed: new Uint8Array(32).fill(seed),
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

/**
 * The three paths on `count` vectors (row-major in `vectors`): the reference tableKeys, the WebAssembly
 * kernel and the JavaScript kernel give the same keys, and the same margins by Object.is, through
 * keysOf (bulk) and keysInto with and without margins.
 */
function assertPathsAgree(p: LshParams, vectors: Float32Array, count: number, label: string): void {
  const { tables, bits, dimension } = p;
  const signs = hyperplaneSigns(p);
  const wasm = new LshHasher(p);
  const js = new LshHasher(p, { wasm: false });
  assert.equal(wasm.backend, 'wasm-simd');
  assert.equal(js.backend, 'js');
  const bulk = { wasm: wasm.keysOf(vectors, count), js: js.keysOf(vectors, count) };
  for (let n = 0; n < count; n++) {
    const vector = vectors.subarray(n * dimension, (n + 1) * dimension);
    const reference = tableKeys(p, signs, vector);
    for (const [name, hasher] of [
      ['wasm', wasm],
      ['js', js],
    ] as const) {
      const at = `${label}, vector ${n}, ${name}`;
      // With margins, into a strided array at an offset; the vector read at an offset in `vectors`.
      const keys = new Uint32Array(3 * tables + 1).fill(0xdeadbeef);
      const margins = new Float32Array(tables * bits).fill(Number.NaN);
      hasher.keysInto(vectors, n * dimension, keys, 1, 3, margins);
      const plain = new Uint32Array(tables);
      hasher.keysInto(vector, 0, plain, 0, 1);
      reference.forEach((r, t) => {
        assert.equal(keys[1 + 3 * t], r.key, `${at}: key of table ${t} (with margins)`);
        assert.equal(plain[t], r.key, `${at}: key of table ${t}`);
        assert.equal(bulk[name][t * count + n], r.key, `${at}: key of table ${t} (keysOf)`);
        r.margins.forEach((m, j) => {
          const got = margins[t * bits + j]!;
          assert.ok(Object.is(got, m), `${at}: margin of table ${t} bit ${j}: ${got}, reference ${m}`);
        });
      });
      assert.equal(keys[0], 0xdeadbeef, `${at}: keysInto wrote outside its slots`);
    }
  }
}

/** `count` Gaussian vectors of `dimension` components. */
function gaussians(dimension: number, count: number, seed: number): Float32Array {
  const { gaussian } = random(seed);
  return Float32Array.from({ length: dimension * count }, gaussian);
}

test('the WebAssembly module is SIMD, validates, compiles here, and its bytes are deterministic', () => {
  const bytes = lshWasmBytes();
  assert.ok(WebAssembly.validate(bytes));
  assert.deepEqual(lshWasmBytes(), bytes);
  assert.ok(bytes.length < 4096, `${bytes.length} bytes`);
  const module = lshWasmModule();
  assert.ok(module);
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  assert.deepEqual(names, ['memory', ...Array.from({ length: MAX_ACCUMULATORS }, (_, k) => `dots${k + 1}`)]);
  // The SIMD opcode prefix is there: without SIMD support, validate() refuses the module.
  assert.ok(bytes.includes(0xfd));
});

test('every lsh-keys vector of spec/vectors/lsh.json gives the reference keys and margins on every path', async () => {
  const file = (await loadVectorFiles()).get('lsh.json');
  assert.ok(file);
  const cases = file.vectors.filter((v) => v.op === 'lsh-keys' && v.error === undefined);
  assert.ok(cases.length >= 8, `${cases.length} lsh-keys vectors`);
  for (const v of cases) {
    const input = v.input!;
    const p: LshParams = {
      dimension: Number(input.dimension),
      tables: Number(input.tables),
      bits: Number(input.bits),
      probes: Number(input.probes),
      seed: fromHex(String(input.seed)),
    };
    const vector = Float32Array.from((input.vector as unknown[]).map(Number));
    assertPathsAgree(p, vector, 1, v.name);
    const expected = v.output?.keys as number[] | undefined;
    if (expected) assert.deepEqual([...new LshHasher(p).keysOf(vector, 1)], expected, v.name);
  }
});

test('Gaussian vectors give identical keys and margins at dims 1 to 4096, bits 1 to 32 and tables 1 to 24', () => {
  const dims = [1, 3, 5, 128, 768, 4096];
  const widths = [1, 3, 16, 31, 32];
  let k = 0;
  for (const dimension of dims)
    for (const bits of widths) {
      const tables = 1 + ((k * 5) % 24);
      const count = dimension >= 4096 ? 2 : dimension >= 768 ? 4 : 12;
      assertPathsAgree(
        params(dimension, tables, bits, k),
        gaussians(dimension, count, 100 + k),
        count,
        `${dimension}-d, ${tables} x ${bits}`,
      );
      k++;
    }
});

test('every table count from 1 to 24 agrees, whatever group of 32 hyperplanes a table straddles', () => {
  for (let tables = 1; tables <= 24; tables++)
    for (const [dimension, bits] of [
      [5, 3],
      [17, 31],
      [64, 16],
      [9, 32],
      [2, 1],
    ] as const)
      assertPathsAgree(
        params(dimension, tables, bits, tables),
        gaussians(dimension, 3, tables * 7 + bits),
        3,
        `${dimension}-d, ${tables} x ${bits}`,
      );
});

test('vectors of mixed magnitudes, from subnormal to near the f32 maximum, round as the reference does', () => {
  const { uniform, gaussian } = random(99);
  for (const dimension of [3, 40, 128]) {
    const count = 40;
    // Each component a Gaussian scaled by 2^e, e from −150 to 120: sums overflow, cancel, go subnormal.
    const vectors = Float32Array.from(
      { length: dimension * count },
      () => gaussian() * 2 ** Math.floor(uniform() * 270 - 150),
    );
    assertPathsAgree(params(dimension, 9, 31, dimension), vectors, count, `${dimension}-d mixed scales`);
  }
});

test('huge, tiny and subnormal components, −0 and exact-zero dot products give the reference keys', () => {
  const cases: [string, number[]][] = [
    ['huge', [3e38, 3e38, -3e38, 1e38, -2e38, 3.4e38]],
    ['huge and one', [3.4e38, 1, -3.4e38, 1, 3.4e38, -1]],
    ['tiny', [1e-38, -1.2e-38, 1e-38, 2e-38, -1e-38, 1e-38]],
    ['subnormal', [1e-45, 1.4e-45, -2.8e-45, 1e-40, -1e-40, 5e-41]],
    ['subnormal to normal', [1.1754942e-38, 1e-45, 1.1754942e-38, -1e-45, 1e-45, -1.1754942e-38]],
    ['cancelling', [1e30, 1, -1e30, -1, 1e30, 1]],
    ['minus zero', [-0, 1, -0, -1, -0, 0.5]],
    ['minus zero but one', [-0, -0, -0, 2, -0, -0]],
    ['equal ones', [1, 1, 1, 1, 1, 1]],
  ];
  for (const [label, vector] of cases)
    for (const [tables, bits] of [
      [4, 32],
      [24, 3],
    ] as const)
      assertPathsAgree(params(vector.length, tables, bits, 3), Float32Array.from(vector), 1, label);
});

test('an exact-zero dot product counts as 1 on every path (v = [1, 1] with signs +1, −1)', () => {
  const p = params(2, 8, 32, 11);
  const vector = Float32Array.of(1, 1);
  const reference = tableKeys(p, hyperplaneSigns(p), vector);
  // About half the 256 hyperplanes have signs (+1, −1) or (−1, +1): their dot is exactly 0.
  const zeros = reference.flatMap((r) => [...r.margins].filter((m) => m === 0)).length;
  assert.ok(zeros > 50, `${zeros} zero dot products`);
  for (const r of reference)
    r.margins.forEach((m, j) => {
      if (m === 0) assert.equal((r.key >>> j) & 1, 1);
    });
  assertPathsAgree(p, vector, 1, 'v = [1, 1]');
  const dots = Float32Array.of(-0, 1);
  assertPathsAgree(p, dots, 1, 'v = [−0, 1]');
});

test('keysOf over many blocks of vectors (1024 at a time, fewer at large dimensions) gives the JavaScript keys', () => {
  for (const [dimension, count, tables, bits] of [
    [128, 2500, 16, 16],
    [4096, 150, 2, 7],
    [1, 3000, 3, 32],
  ] as const) {
    const p = params(dimension, tables, bits, 5);
    const vectors = gaussians(dimension, count, dimension);
    const wasm = new LshHasher(p).keysOf(vectors, count);
    const js = new LshHasher(p, { wasm: false }).keysOf(vectors, count);
    assert.deepEqual(wasm, js, `${dimension}-d, ${count} vectors`);
    // And a few against the reference, from the last block.
    const signs = hyperplaneSigns(p);
    for (const n of [0, count - 1]) {
      const keys = tableKeys(p, signs, vectors.subarray(n * dimension, (n + 1) * dimension));
      keys.forEach((k, t) => {
        assert.equal(wasm[t * count + n], k.key);
      });
    }
  }
});

test('the JavaScript fallback runs when the WebAssembly kernel is turned off with { wasm: false }', () => {
  const p = params(16, 4, 16);
  assert.equal(new LshHasher(p).backend, 'wasm-simd');
  const fallback = new LshHasher(p, { wasm: false });
  assert.equal(fallback.backend, 'js');
  const vectors = gaussians(16, 20, 1);
  assert.deepEqual(fallback.keysOf(vectors, 20), new LshHasher(p).keysOf(vectors, 20));
});

test('hashers of different shapes keep their own memory: interleaved calls do not disturb each other', () => {
  const a = params(32, 6, 20, 1);
  const b = params(7, 30, 9, 2);
  const ha = new LshHasher(a);
  const hb = new LshHasher(b);
  const va = gaussians(32, 50, 3);
  const vb = gaussians(7, 50, 4);
  const ka = ha.keysOf(va, 50);
  hb.keysOf(vb, 50);
  assert.deepEqual(ha.keysOf(va, 50), ka);
  assert.deepEqual(ka, new LshHasher(a, { wasm: false }).keysOf(va, 50));
});
