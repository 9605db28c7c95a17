/**
 * The dot products of the graph index (spec 0013 §1): f32 rows in WebAssembly memory, scored against one
 * query row in batches of row ids by a hand-assembled SIMD kernel (no toolchain, no dependency), or by a
 * JavaScript loop that gives the same bits where WebAssembly SIMD is missing.
 *
 * The order of the arithmetic is normative, so that every implementation reaches the same prune
 * decisions: rows are padded with zeros to a multiple of 8 components; component i is multiplied in f32
 * and added in f32 into partial sum i mod 8 (two f32x4 accumulators, a left fold each); the partials
 * join as s_j = p_j + p_{j+4} (j < 4), then (s0 + s1) + (s2 + s3), every step rounded to f32.
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   ;; rows: f32 rows of `stride` bytes (a multiple of 32) from `base`; query: one such row, 16-aligned;
 *   ;; ids: `count` u32 row numbers; out: `count` f32 dot products. count >= 1, stride >= 32.
 *   (func (export "dots")
 *     (param $base i32) (param $stride i32) (param $query i32) (param $ids i32) (param $count i32)
 *     (param $out i32)
 *     (local $p i32) (local $end i32) (local $q i32) (local $a v128) (local $b v128)
 *     (local $zero v128)                                         ;; never set: locals start at 0
 *     (local $rowEnd i32)
 *     ;; First touch every 64-byte line of every row (loads that wait on nothing, so the rows' cache
 *     ;; misses overlap: WebAssembly has no prefetch; +30-45% queries a second at 100k and 1M x 128).
 *     (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $count) (i32.const 2))))
 *     (local.set $q (local.get $ids))
 *     (loop $touch
 *       (local.set $p (i32.add (local.get $base)
 *         (i32.mul (i32.load (local.get $q)) (local.get $stride))))
 *       (local.set $rowEnd (i32.add (local.get $p) (local.get $stride)))
 *       (loop $line
 *         (drop (i32.load (local.get $p)))
 *         (br_if $line (i32.lt_u
 *           (local.tee $p (i32.add (local.get $p) (i32.const 64))) (local.get $rowEnd))))
 *       (br_if $touch (i32.lt_u
 *         (local.tee $q (i32.add (local.get $q) (i32.const 4))) (local.get $end))))
 *     (loop $row
 *       (local.set $p (i32.add (local.get $base)
 *         (i32.mul (i32.load (local.get $ids)) (local.get $stride))))
 *       (local.set $end (i32.add (local.get $p) (local.get $stride)))
 *       (local.set $q (local.get $query))
 *       (local.set $a (local.get $zero))
 *       (local.set $b (local.get $zero))
 *       (loop $chunk                                              ;; 8 components per turn
 *         (local.set $a (f32x4.add (local.get $a) (f32x4.mul
 *           (v128.load offset=0 (local.get $p)) (v128.load offset=0 (local.get $q)))))
 *         (local.set $b (f32x4.add (local.get $b) (f32x4.mul
 *           (v128.load offset=16 (local.get $p)) (v128.load offset=16 (local.get $q)))))
 *         (local.set $q (i32.add (local.get $q) (i32.const 32)))
 *         (br_if $chunk (i32.lt_u
 *           (local.tee $p (i32.add (local.get $p) (i32.const 32))) (local.get $end))))
 *       (local.set $a (f32x4.add (local.get $a) (local.get $b)))
 *       (f32.store (local.get $out) (f32.add
 *         (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
 *         (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
 *       (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
 *       (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *       (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 * ```
 *
 * `f32x4.mul` and `f32x4.add` round each lane to f32 (round-to-nearest-even, subnormals kept), which is
 * what `Math.fround` of the f64 product or sum of two f32 values gives, so the JavaScript loop matches.
 */

import {
  compileIfValid,
  F32_ADD,
  F32_STORE,
  F32X4_ADD,
  F32X4_EXTRACT_LANE,
  F32X4_MUL,
  get,
  instanceWithMemory,
  mem,
  rowScoresBody,
  set,
  singleFunctionModule,
  V128_LOAD,
} from '../lsh/wasm-asm.js';

type DotsFunction = (
  base: number,
  stride: number,
  query: number,
  ids: number,
  count: number,
  out: number,
) => void;

/** The body of `dots`, instruction for instruction the text above. */
function dotsBody(): number[] {
  return rowScoresBody({
    accumulate: (acc, half, { p, q }) => [
      ...get(acc),
      ...get(p),
      ...V128_LOAD,
      ...mem(4, 16 * half),
      ...get(q),
      ...V128_LOAD,
      ...mem(4, 16 * half),
      ...F32X4_MUL,
      ...F32X4_ADD,
      ...set(acc),
    ],
    rowBytes: 32,
    addVectors: F32X4_ADD,
    extractLane: F32X4_EXTRACT_LANE,
    addScalars: F32_ADD,
    store: F32_STORE,
    touch: 64,
  });
}

/** The module's bytes (see the text above). */
export function dotKernelBytes(): Uint8Array<ArrayBuffer> {
  return singleFunctionModule('dots', 6, dotsBody());
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module (once per process), or null where WebAssembly SIMD is missing or not allowed. */
function dotKernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileIfValid(dotKernelBytes());
  return compiled;
}

/** Row ids scored per kernel call: the id and result buffers hold this many. */
export const DOT_BATCH = 8192;

/** Components per row as stored: the dimension rounded up to a multiple of 8. */
export const paddedDimension = (dim: number): number => Math.ceil(dim / 8) * 8;

/**
 * `n` rows of `dim` f32 components and a query slot, scored by `dots`: write row ids into `ids`, call
 * `dots(count)`, read `out`. The query is a row (`queryRow`) or any vector (`setQuery`).
 */
export class DotKernel {
  /** Which path runs. */
  readonly backend: 'wasm-simd' | 'js';
  /** Components per row (padded to a multiple of 8; the pad is 0). */
  readonly stride: number;
  /** Every row, `stride` apart, then the query slot. */
  readonly rows: Float32Array;
  /** Row ids of the next `dots` call. */
  readonly ids: Uint32Array;
  /** The dot products of the last `dots` call, in the order of `ids`. */
  readonly out: Float32Array;
  private readonly call: DotsFunction | null;
  private readonly idsAt: number;
  private readonly outAt: number;
  private queryAt: number;
  private readonly slotAt: number;

  /** Room for `n` rows of `dim` components, copied from `vectors` (row-major, packed) when given. */
  constructor(
    readonly n: number,
    readonly dim: number,
    vectors?: Float32Array,
    options: { wasm?: boolean } = {},
  ) {
    const stride = paddedDimension(dim);
    this.stride = stride;
    const rowBytes = (n + 1) * stride * 4;
    this.idsAt = rowBytes;
    this.outAt = rowBytes + 4 * DOT_BATCH;
    const total = this.outAt + 4 * DOT_BATCH;
    const module = options.wasm === false ? null : dotKernelModule();
    const instance = module && instanceWithMemory(module, total);
    const buffer = instance ? instance.memory.buffer : new ArrayBuffer(total);
    this.call = instance ? (instance.exports.dots as DotsFunction) : null;
    this.backend = instance ? 'wasm-simd' : 'js';
    this.rows = new Float32Array(buffer, 0, (n + 1) * stride);
    this.ids = new Uint32Array(buffer, this.idsAt, DOT_BATCH);
    this.out = new Float32Array(buffer, this.outAt, DOT_BATCH);
    this.slotAt = n * stride;
    this.queryAt = this.slotAt;
    if (vectors) for (let i = 0; i < n; i++) this.setRow(i, vectors.subarray(i * dim, (i + 1) * dim));
  }

  /** Store row i (its `dim` components; the pad stays 0). */
  setRow(i: number, row: Float32Array): void {
    this.rows.set(row.subarray(0, this.dim), i * this.stride);
  }

  /** Score against a copy of `query` (`dim` components) from now on. */
  setQuery(query: Float32Array): void {
    this.rows.set(query.subarray(0, this.dim), this.slotAt);
    this.queryAt = this.slotAt;
  }

  /** Score against row i from now on. */
  queryRow(i: number): void {
    this.queryAt = i * this.stride;
  }

  /** out[j] = query · row ids[j] for j < count (count <= DOT_BATCH). */
  dots(count: number): void {
    if (count <= 0) return;
    if (this.call) {
      this.call(0, this.stride * 4, this.queryAt * 4, this.idsAt, count, this.outAt);
      return;
    }
    const { rows, ids, out, stride } = this;
    for (let j = 0; j < count; j++) out[j] = orderedDot(rows, this.queryAt, rows, ids[j]! * stride, stride);
  }
}

/**
 * The f32 dot of a[aAt..aAt+length) and b[bAt..) in the kernel's order (spec 0013 §1): partial sums
 * i mod 8, then (p0+p4 + p1+p5) + (p2+p6 + p3+p7). Components past `length` count as the zero pad.
 */
export function orderedDot(
  a: Float32Array,
  aAt: number,
  b: Float32Array,
  bAt: number,
  length: number,
): number {
  const f = Math.fround;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  let p4 = 0;
  let p5 = 0;
  let p6 = 0;
  let p7 = 0;
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    p0 = f(p0 + f(a[aAt + i]! * b[bAt + i]!));
    p1 = f(p1 + f(a[aAt + i + 1]! * b[bAt + i + 1]!));
    p2 = f(p2 + f(a[aAt + i + 2]! * b[bAt + i + 2]!));
    p3 = f(p3 + f(a[aAt + i + 3]! * b[bAt + i + 3]!));
    p4 = f(p4 + f(a[aAt + i + 4]! * b[bAt + i + 4]!));
    p5 = f(p5 + f(a[aAt + i + 5]! * b[bAt + i + 5]!));
    p6 = f(p6 + f(a[aAt + i + 6]! * b[bAt + i + 6]!));
    p7 = f(p7 + f(a[aAt + i + 7]! * b[bAt + i + 7]!));
  }
  const tail = [p0, p1, p2, p3, p4, p5, p6, p7];
  for (; i < length; i++) tail[i & 7] = f(tail[i & 7]! + f(a[aAt + i]! * b[bAt + i]!));
  const t = (j: number) => tail[j]!;
  return f(f(f(t(0) + t(4)) + f(t(1) + t(5))) + f(f(t(2) + t(6)) + f(t(3) + t(7))));
}
