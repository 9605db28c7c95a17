import { type LshWasmExports, lshWasmInstance, MAX_ACCUMULATORS } from './hasher-wasm.js';
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

/** Which kernel an LshHasher runs: WebAssembly SIMD, or the JavaScript loops (the fallback). */
export type LshBackend = 'wasm-simd' | 'js';

export interface LshHasherOptions {
  /**
   * `false`: never use the WebAssembly SIMD kernel, only the JavaScript paths (for tests and benches,
   * or to rule the kernel out). Default: use it wherever WebAssembly with SIMD is available.
   */
  readonly wasm?: boolean;
}

/** Vectors per WebAssembly block: at most 1024, and a block of at most 1 MiB of components. */
const blockSize = (dimension: number) => Math.max(1, Math.min(1024, Math.floor(2 ** 20 / (dimension * 4))));
const align16 = (n: number) => (n + 15) & ~15;

/**
 * The WebAssembly SIMD path (hasher-wasm.ts). Hyperplane h = t·bits + j, numbered across tables, and
 * hyperplanes go in groups of 32 (the last group: the rest, padded to a multiple of 4 lanes); one
 * kernel call runs one group over a block of vectors. Memory, grown once at construction:
 * the sign masks of every group ([group][i][lane] u32), a block of vectors, per vector one u32 of key
 * bits per group, and the dot products of one vector (for margins).
 */
class WasmKeys {
  private readonly exports: LshWasmExports;
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;
  /** Groups of 32 hyperplanes, and 4-lane columns in all (ceil(tables·bits / 4)). */
  private readonly groups: number;
  private readonly columns: number;
  readonly block: number;
  private readonly vecAt: number;
  private readonly bitsAt: number;
  private readonly dotsAt: number;
  private readonly mask: number;

  private constructor(
    private readonly params: LshParams,
    exports: LshWasmExports,
    layout: { groups: number; columns: number; block: number; vecAt: number; bitsAt: number; dotsAt: number },
  ) {
    this.exports = exports;
    ({
      groups: this.groups,
      columns: this.columns,
      block: this.block,
      vecAt: this.vecAt,
      bitsAt: this.bitsAt,
      dotsAt: this.dotsAt,
    } = layout);
    this.f32 = new Float32Array(exports.memory.buffer);
    this.u32 = new Uint32Array(exports.memory.buffer);
    this.mask = 2 ** params.bits - 1;
  }

  /** The path for these parameters, or null where WebAssembly SIMD is unavailable. */
  static create(params: LshParams, packed: Uint8Array): WasmKeys | null {
    const { tables, bits, dimension } = params;
    const planes = tables * bits;
    const groups = Math.ceil(planes / 32);
    const columns = Math.ceil(planes / 4);
    const block = blockSize(dimension);
    const vecAt = align16(dimension * 16 * columns);
    const bitsAt = align16(vecAt + block * dimension * 4);
    const dotsAt = align16(bitsAt + block * groups * 4);
    const exports = lshWasmInstance(dotsAt + groups * 128);
    if (!exports) return null;
    const path = new WasmKeys(params, exports, { groups, columns, block, vecAt, bitsAt, dotsAt });
    // Sign masks: lane l of group g is hyperplane h = 32g + l; padding lanes (h >= planes) stay +.
    const u32 = path.u32;
    for (let g = 0; g < groups; g++) {
      const lanes = 4 * Math.min(MAX_ACCUMULATORS, columns - MAX_ACCUMULATORS * g);
      const base = g * dimension * 32;
      for (let l = 0; l < lanes; l++) {
        const h = 32 * g + l;
        if (h >= planes) break;
        for (let i = 0, n = h * dimension; i < dimension; i++, n++)
          if ((packed[n >>> 3]! >>> (n & 7)) & 1) u32[base + i * lanes + l] = 0x80000000;
      }
    }
    return path;
  }

  /** Runs every group over the `count` vectors at vecAt; with `dots`, stores vector 0's dot products. */
  private run(count: number, dots: boolean): void {
    const { dimension } = this.params;
    const { groups, columns } = this;
    for (let g = 0; g < groups; g++) {
      const k = Math.min(MAX_ACCUMULATORS, columns - MAX_ACCUMULATORS * g);
      this.exports.dots[k - 1]!(
        g * dimension * 128,
        dimension,
        this.vecAt,
        count,
        this.bitsAt + 4 * g,
        4 * groups,
        dots ? this.dotsAt + 128 * g : 0,
        128 * groups,
      );
    }
  }

  /** Keys of vector n of the last run into keys[offset + t·stride]: bits t·bits … of its bit string. */
  private unpack(n: number, keys: Uint32Array, offset: number, stride: number): void {
    const { tables, bits } = this.params;
    const u32 = this.u32;
    const base = (this.bitsAt >>> 2) + n * this.groups;
    for (let t = 0, o = 0; t < tables; t++, o += bits) {
      const w = base + (o >>> 5);
      const s = o & 31;
      let key = u32[w]! >>> s;
      if (s + bits > 32) key |= u32[w + 1]! << (32 - s);
      keys[offset + t * stride] = key & this.mask;
    }
  }

  keysInto(
    vector: Float32Array,
    vectorOffset: number,
    keys: Uint32Array,
    offset: number,
    stride: number,
    margins?: Float32Array,
  ): void {
    const { dimension, tables, bits } = this.params;
    this.f32.set(vector.subarray(vectorOffset, vectorOffset + dimension), this.vecAt >>> 2);
    this.run(1, margins !== undefined);
    this.unpack(0, keys, offset, stride);
    if (margins) {
      const f32 = this.f32;
      const at = this.dotsAt >>> 2;
      for (let h = 0; h < tables * bits; h++) margins[h] = Math.abs(f32[at + h]!);
    }
  }

  keysOf(vectors: Float32Array, count: number): Uint32Array {
    const { dimension, tables } = this.params;
    const keys = new Uint32Array(tables * count);
    for (let start = 0; start < count; start += this.block) {
      const n = Math.min(this.block, count - start);
      this.f32.set(vectors.subarray(start * dimension, (start + n) * dimension), this.vecAt >>> 2);
      this.run(n, false);
      for (let m = 0; m < n; m++) this.unpack(m, keys, start + m, count);
    }
    return keys;
  }
}

/** The JavaScript paths: the unrolled loop for keys, an accumulator array when margins are wanted. */
class JsKeys {
  /** signs[t][i·bits + j] = ±1: hyperplane j of table t, component i (dimension-major per table). */
  private readonly signs: Float32Array;
  private readonly acc: Float32Array;
  /** The bulk path: one accumulator per hyperplane in a local variable (see unrolledKeys). */
  private readonly unrolled: KeysFunction;

  constructor(
    private readonly params: LshParams,
    packed: Uint8Array,
  ) {
    const { tables, bits, dimension } = params;
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

  keysOf(vectors: Float32Array, count: number): Uint32Array {
    const keys = new Uint32Array(this.params.tables * count);
    const d = this.params.dimension;
    for (let n = 0; n < count; n++) this.keysInto(vectors, n * d, keys, n, count);
    return keys;
  }
}

/**
 * The fast path of spec 0004 §4: the same keys as `tableKeys` (the scalar reference), bit for bit, for
 * many vectors. Every hyperplane keeps its own f32 accumulator and sums components in order i = 0
 * upwards, exactly as the reference does; what changes is only the loop order (hyperplanes advance
 * together over one component) and that the signs are ±1 floats or sign masks instead of bits.
 *
 * Two kernels, the same results: WebAssembly SIMD (hasher-wasm.ts: 4 hyperplanes per f32x4 lane group,
 * up to 32 per pass, vectors in blocks of at most 1024) wherever WebAssembly validates the module's SIMD
 * instructions, else JavaScript (an unrolled loop per shape; storing into a Float32Array rounds like
 * Math.fround, and ±x is exact, so each step is the reference's). `options.wasm: false` forces the
 * JavaScript kernel; `backend` says which one runs.
 */
export class LshHasher {
  /** Which kernel runs. */
  readonly backend: LshBackend;
  private readonly kernel: WasmKeys | JsKeys;

  constructor(
    readonly params: LshParams,
    options: LshHasherOptions = {},
  ) {
    const packed = hyperplaneSigns(params);
    const wasm = options.wasm === false ? null : WasmKeys.create(params, packed);
    this.kernel = wasm ?? new JsKeys(params, packed);
    this.backend = wasm ? 'wasm-simd' : 'js';
  }

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
    this.kernel.keysInto(vector, vectorOffset, keys, offset, stride, margins);
  }

  /** Keys of `count` vectors stored row-major in `vectors`, table-major: keys[t·count + n]. */
  keysOf(vectors: Float32Array, count: number): Uint32Array {
    return this.kernel.keysOf(vectors, count);
  }
}
