import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../errors.js';
import { checkVector, hyperplaneSigns, type LshParams, probeKeys, tableKeys } from './lsh.js';

const params = (over: Partial<LshParams> = {}): LshParams => ({
  dimension: 64,
  tables: 16,
  bits: 16,
  probes: 3,
  seed: new Uint8Array(32).fill(9),
  ...over,
});

/** A deterministic pseudo-Gaussian vector (sum of uniforms), so the test needs no random seed. */
function vector(dimension: number, seed: number): Float32Array {
  let s = seed;
  const uniform = () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Float32Array.from({ length: dimension }, () => uniform() + uniform() + uniform() + uniform());
}

const bitsSet = (x: number) => {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
};

test('hyperplane signs are balanced and depend on the seed', () => {
  const a = hyperplaneSigns(params());
  let ones = 0;
  for (const byte of a) ones += bitsSet(byte);
  const total = a.length * 8;
  assert.ok(Math.abs(ones / total - 0.5) < 0.01, `${ones} of ${total} bits set`);
  const b = hyperplaneSigns(params({ seed: new Uint8Array(32).fill(10) }));
  assert.notDeepEqual(a, b);
});

test('keys collide as SimHash predicts: a bit agrees with probability 1 − θ/π', () => {
  const p = params();
  const signs = hyperplaneSigns(p);
  let agree = 0;
  let expected = 0;
  let bits = 0;
  for (let k = 0; k < 200; k++) {
    const x = vector(p.dimension, 2 * k + 1);
    const noise = vector(p.dimension, 2 * k + 2);
    const y = x.map((xi, i) => xi + (k / 200) * 2 * noise[i]!);
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let i = 0; i < p.dimension; i++) {
      dot += x[i]! * y[i]!;
      nx += x[i]! * x[i]!;
      ny += y[i]! * y[i]!;
    }
    const theta = Math.acos(Math.min(1, dot / Math.sqrt(nx * ny)));
    const kx = tableKeys(p, signs, x);
    const ky = tableKeys(p, signs, y);
    for (let t = 0; t < p.tables; t++) agree += p.bits - bitsSet(kx[t]!.key ^ ky[t]!.key);
    bits += p.tables * p.bits;
    expected += p.tables * p.bits * (1 - theta / Math.PI);
  }
  assert.ok(
    Math.abs(agree - expected) / bits < 0.02,
    `agree ${agree}, expected ${expected.toFixed(0)} of ${bits}`,
  );
});

test('probes: the key first, then single flips of the lowest-margin bits', () => {
  const p = params({ tables: 1, bits: 8, probes: 4 });
  const [key] = tableKeys(p, hyperplaneSigns(p), vector(p.dimension, 5));
  const probes = probeKeys(key!, p.probes);
  assert.equal(probes.length, 4);
  assert.equal(probes[0], key!.key);
  const flipped = probes.slice(1).map((q) => Math.log2(q ^ key!.key));
  const margins = flipped.map((j) => key!.margins[j]!);
  assert.deepEqual(
    margins,
    [...margins].sort((a, b) => a - b),
  );
  for (let j = 0; j < p.bits; j++) if (!flipped.includes(j)) assert.ok(key!.margins[j]! >= margins[2]!);
  // A 32-bit key stays an unsigned number when its top bit is set or flipped.
  const wide = params({ tables: 1, bits: 32, probes: 33 });
  const [top] = tableKeys(wide, hyperplaneSigns(wide), vector(64, 11));
  for (const q of probeKeys(top!, 33)) assert.ok(q >= 0 && q < 2 ** 32);
});

test('bad vectors are refused, naming the problem', () => {
  const refused = (values: number[], pattern: RegExp) =>
    assert.throws(
      () => checkVector(values, 3),
      (e: unknown) => e instanceof EngineError && e.code === 'E_FIELD' && pattern.test(e.message),
    );
  refused([1, 2], /has 2 components; the index wants 3/);
  refused([1, Number.NaN, 2], /component 1 is NaN/);
  refused([1, 2, Number.NEGATIVE_INFINITY], /component 2 is -Infinity/);
  refused([0, 0, 0], /zero vector/);
  // A component too small for f32 becomes 0; all of them: still a zero vector.
  refused([1e-50, 0, 0], /zero vector/);
});
