import { hyperplaneSigns, type LshParams } from './lsh.js';

type KeysFunction = (
  signs: Float32Array,
  vector: Float32Array,
  vectorOffset: number,
  keys: Uint32Array,
  offset: number,
  stride: number,
) => void;

const unrolledCache = new Map<string, KeysFunction>();

/**
 * The key loop written out for one (tables, bits, dimension): each hyperplane's accumulator is a local
 * variable and each step `a = fround(a + s·x)`, which engines keep in registers (3x faster than an
 * accumulator array here). Generated once per shape; the steps are the reference's, in its order.
 */
function unrolledKeys({ tables, bits, dimension }: LshParams): KeysFunction {
  const shape = `${tables}/${bits}/${dimension}`;
  let fn = unrolledCache.get(shape);
  if (fn) return fn;
  const j = Array.from({ length: bits }, (_, n) => n);
  const body = [
    'const f = Math.fround;',
    `for (let t = 0, s = 0; t < ${tables}; t++) {`,
    `  let ${j.map((n) => `a${n} = 0`).join(', ')};`,
    `  for (let i = 0; i < ${dimension}; i++, s += ${bits}) {`,
    '    const x = vector[vectorOffset + i];',
    ...j.map((n) => `    a${n} = f(a${n} + signs[s + ${n}] * x);`),
    '  }',
    '  let key = 0;',
    ...j.map((n) => `  if (a${n} >= 0) key |= ${2 ** n};`),
    '  keys[offset + t * stride] = key >>> 0;',
    '}',
  ].join('\n');
  fn = new Function('signs', 'vector', 'vectorOffset', 'keys', 'offset', 'stride', body) as KeysFunction;
  unrolledCache.set(shape, fn);
  return fn;
}

/**
 * The fast path of spec 0004 §4: the same keys as `tableKeys` (the scalar reference), bit for bit, for
 * many vectors. Every hyperplane keeps its own f32 accumulator and sums components in order i = 0
 * upwards, exactly as the reference does; what changes is only the loop order (all hyperplanes of a
 * table advance together over one component) and that the signs are ±1 floats instead of bits.
 * Storing into a Float32Array rounds like Math.fround, and ±x is exact, so each step is the reference's.
 */
export class LshHasher {
  /** signs[t][i·bits + j] = ±1: hyperplane j of table t, component i (dimension-major per table). */
  private readonly signs: Float32Array;
  private readonly acc: Float32Array;

  constructor(readonly params: LshParams) {
    const { tables, bits, dimension } = params;
    const packed = hyperplaneSigns(params);
    this.signs = new Float32Array(tables * bits * dimension);
    for (let t = 0; t < tables; t++)
      for (let j = 0; j < bits; j++)
        for (let i = 0; i < dimension; i++) {
          const n = (t * bits + j) * dimension + i;
          const negative = (packed[n >>> 3]! >>> (n & 7)) & 1;
          this.signs[t * bits * dimension + i * bits + j] = negative ? -1 : 1;
        }
    this.acc = new Float32Array(bits);
    this.unrolled = unrolledKeys(params);
  }

  /** The bulk path: one accumulator per hyperplane in a local variable (see unrolledKeys). */
  private readonly unrolled: KeysFunction;

  /**
   * Keys of one vector (f32 values, already checked) into `keys[offset + t·stride]` for each table t;
   * with `margins`, each bit's |dot| into margins[t·bits + j].
   */
  keysInto(
    vector: Float32Array,
    vectorOffset: number,
    keys: Uint32Array,
    offset: number,
    stride: number,
    margins?: Float32Array,
  ): void {
    if (!margins) {
      this.unrolled(this.signs, vector, vectorOffset, keys, offset, stride);
      return;
    }
    const { tables, bits, dimension } = this.params;
    const acc = this.acc;
    const signs = this.signs;
    for (let t = 0; t < tables; t++) {
      acc.fill(0);
      let s = t * bits * dimension;
      for (let i = 0; i < dimension; i++) {
        const x = vector[vectorOffset + i]!;
        for (let j = 0; j < bits; j++, s++) acc[j] = acc[j]! + signs[s]! * x;
      }
      let key = 0;
      for (let j = 0; j < bits; j++) {
        // A dot product of exactly 0 (including −0) counts as 1.
        if (acc[j]! >= 0) key |= 1 << j;
        margins[t * bits + j] = Math.abs(acc[j]!);
      }
      keys[offset + t * stride] = key >>> 0;
    }
  }

  /** Keys of `count` vectors stored row-major in `vectors`, table-major: keys[t·count + n]. */
  keysOf(vectors: Float32Array, count: number): Uint32Array {
    const keys = new Uint32Array(this.params.tables * count);
    const d = this.params.dimension;
    for (let n = 0; n < count; n++) this.keysInto(vectors, n * d, keys, n, count);
    return keys;
  }
}
