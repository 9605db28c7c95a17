/**
 * LSH key throughput (spec 0004 §4): the keys of 100k 128-d vectors at 16 tables x 16 bits by the scalar
 * reference (`tableKeys`), the unrolled JavaScript loop (LshHasher with `wasm: false`) and the WebAssembly
 * SIMD kernel (LshHasher's default), in one run; every path's keys checked against the reference's.
 * Figure: seconds per million vectors per table (lower is better).
 * Run: npm run bench -- lsh-keys
 *   DREAMDB_BENCH_LSH_N=20000 for a quicker run; DREAMDB_BENCH_LSH_SHAPE="16x16x128" (tables x bits x
 *   dimension) for another shape.
 */
import { hyperplaneSigns, LshHasher, type LshParams, tableKeys } from '@dreamdb/engine/indexes/lsh';
import { best } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_LSH_N ?? 100_000);
const [TABLES, BITS, DIM] = (process.env.DREAMDB_BENCH_LSH_SHAPE ?? '16x16x128').split('x').map(Number) as [
  number,
  number,
  number,
];
const params: LshParams = {
  dimension: DIM,
  tables: TABLES,
  bits: BITS,
  probes: 1,
  seed: new Uint8Array(32).fill(42),
};

/** Pseudo-Gaussian components (sum of 4 uniforms), deterministic. */
const vectors = new Float32Array(N * DIM);
let state = 12345;
const uniform = () => {
  state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
  return state / 2 ** 32 - 0.5;
};
for (let i = 0; i < vectors.length; i++) vectors[i] = uniform() + uniform() + uniform() + uniform();

const perMillion = (seconds: number) => (seconds * 1e6) / N / TABLES;

// The reference: one TableKey[] per vector, gathered table-major like keysOf.
const signs = hyperplaneSigns(params);
const reference = new Uint32Array(TABLES * N);
const refSeconds = await best(1, () => {
  for (let n = 0; n < N; n++) {
    const keys = tableKeys(params, signs, vectors.subarray(n * DIM, (n + 1) * DIM));
    for (let t = 0; t < TABLES; t++) reference[t * N + n] = keys[t]!.key;
  }
});

const same = (keys: Uint32Array) =>
  keys.length === reference.length && keys.every((k, i) => k === reference[i]);

const js = new LshHasher(params, { wasm: false });
let jsKeys: Uint32Array = new Uint32Array(0);
const jsSeconds = await best(3, () => {
  jsKeys = js.keysOf(vectors, N);
});

const wasm = new LshHasher(params);
let wasmKeys: Uint32Array = new Uint32Array(0);
const wasmSeconds = await best(5, () => {
  wasmKeys = wasm.keysOf(vectors, N);
});

const rows = [
  { name: 'reference tableKeys (scalar, bit by bit)', seconds: refSeconds, note: 'the reference' },
  {
    name: `LshHasher, unrolled JS (backend ${js.backend})`,
    seconds: jsSeconds,
    note: same(jsKeys) ? 'keys equal' : 'KEYS DIFFER',
  },
  {
    name: `LshHasher, WebAssembly SIMD (backend ${wasm.backend})`,
    seconds: wasmSeconds,
    note: same(wasmKeys) ? 'keys equal' : 'KEYS DIFFER',
  },
];

console.log(`\nLSH keys of ${N} ${DIM}-d vectors at ${TABLES} tables x ${BITS} bits (one core)`);
console.log(
  `${'path'.padEnd(50)}${'s per M vec per table'.padStart(22)}${'vs reference'.padStart(14)}${'vs unrolled JS'.padStart(16)}`,
);
for (const r of rows) {
  const s = perMillion(r.seconds);
  const speedup = (base: number) => `${(base / r.seconds).toFixed(2)}x`;
  console.log(
    `${r.name.padEnd(50)}${s.toFixed(3).padStart(22)}${speedup(refSeconds).padStart(14)}${speedup(jsSeconds).padStart(16)}  ${r.note}`,
  );
}
console.log('(vs: how many times faster than that path; best of 1 / 3 / 5 runs)');
if (rows.some((r) => r.note === 'KEYS DIFFER')) process.exitCode = 1;
