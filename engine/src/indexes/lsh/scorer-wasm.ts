/**
 * The approximate scorer of an LSH query's pre-rank (LshTables.search with `rerank`): each row kept as
 * 8-bit codes, the query quantized once to 16-bit integers, and per candidate the integer dot product
 * Σ code_i·q_i, which a WebAssembly SIMD kernel computes where it validates and a JavaScript loop
 * elsewhere. The sum is exact integer arithmetic on both paths (it never leaves the i32 range, see
 * `queryLimit`), and both then scale it by the same f64 multiplications in JavaScript, so the
 * approximate scores, hence the candidates kept, are the same on every platform.
 *
 * The kernel, hand-assembled like hasher-wasm.ts (no toolchain, no dependency, about 200 bytes):
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   ;; codes: rows of `stride` bytes (a multiple of 16; the pad is 0), i8 each. query: stride i16 values
 *   ;; (the pad is 0), 16-aligned. rows: `count` u32 row indices. out: `count` i32 dot products.
 *   ;; count >= 1.
 *   (func (export "dots")
 *     (param $codes i32) (param $stride i32) (param $query i32) (param $rows i32) (param $count i32)
 *     (param $out i32)
 *     (local $p i32) (local $end i32) (local $q i32) (local $a v128) (local $b v128)
 *     (local $zero v128)                                         ;; never set: locals start at 0
 *     (loop $row
 *       (local.set $p (i32.add (local.get $codes)
 *         (i32.mul (i32.load (local.get $rows)) (local.get $stride))))
 *       (local.set $end (i32.add (local.get $p) (local.get $stride)))
 *       (local.set $q (local.get $query))
 *       (local.set $a (local.get $zero))
 *       (local.set $b (local.get $zero))
 *       (loop $chunk                                              ;; 16 components per turn
 *         (local.set $a (i32x4.add (local.get $a) (i32x4.dot_i16x8_s
 *           (v128.load8x8_s offset=0 (local.get $p)) (v128.load offset=0 (local.get $q)))))
 *         (local.set $b (i32x4.add (local.get $b) (i32x4.dot_i16x8_s
 *           (v128.load8x8_s offset=8 (local.get $p)) (v128.load offset=16 (local.get $q)))))
 *         (local.set $q (i32.add (local.get $q) (i32.const 32)))
 *         (br_if $chunk (i32.lt_u
 *           (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
 *       (local.set $a (i32x4.add (local.get $a) (local.get $b)))
 *       (i32.store (local.get $out) (i32.add
 *         (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
 *         (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))
 *       (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
 *       (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *       (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 * ```
 *
 * Every product is at most 127 · 32767 in magnitude and `queryLimit` bounds Σ|code_i|·|q_i| below 2^31,
 * so no lane, pair sum (i32x4.dot_i16x8_s) or partial sum wraps, whatever the order of the additions.
 */

import {
  compileIfValid,
  get,
  I32_ADD,
  I32_STORE,
  I32X4_ADD,
  I32X4_DOT_I16X8_S,
  I32X4_EXTRACT_LANE,
  instanceWithMemory,
  mem,
  rowScoresBody,
  set,
  singleFunctionModule,
  V128_LOAD,
  V128_LOAD8X8_S,
} from './wasm-asm.js';

/** The `dots` export: see the module text above. */
export type ScoreDotsFunction = (
  codes: number,
  stride: number,
  query: number,
  rows: number,
  count: number,
  out: number,
) => void;

export interface ScorerWasmExports {
  readonly memory: WebAssembly.Memory;
  readonly dots: ScoreDotsFunction;
}

/** The body of `dots`, instruction for instruction the text above. */
function dotsBody(): number[] {
  return rowScoresBody({
    accumulate: (acc, half, { p, q }) => [
      ...get(acc),
      ...get(p),
      ...V128_LOAD8X8_S,
      ...mem(3, 8 * half),
      ...get(q),
      ...V128_LOAD,
      ...mem(4, 16 * half),
      ...I32X4_DOT_I16X8_S,
      ...I32X4_ADD,
      ...set(acc),
    ],
    rowBytes: 16,
    addVectors: I32X4_ADD,
    extractLane: I32X4_EXTRACT_LANE,
    addScalars: I32_ADD,
    store: I32_STORE,
  });
}

/** The module's bytes (see the text above). Deterministic: the same bytes on every call. */
export function scorerWasmBytes(): Uint8Array<ArrayBuffer> {
  return singleFunctionModule('dots', 6, dotsBody());
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled module, or null where WebAssembly or its SIMD is missing (WebAssembly.validate refuses
 * the bytes) or compiling is not allowed. Compiled synchronously once per process (a few hundred bytes).
 */
export function scorerWasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileIfValid(scorerWasmBytes());
  return compiled;
}

/**
 * A fresh instance whose memory is grown to at least `bytes`, or null where the module is unavailable,
 * `bytes` exceeds what wasm32 addresses, or the memory is refused (an address-space limit).
 */
export function scorerWasmInstance(bytes: number): ScorerWasmExports | null {
  const module = scorerWasmModule();
  const instance = module && instanceWithMemory(module, bytes);
  return instance && { memory: instance.memory, dots: instance.exports.dots as ScoreDotsFunction };
}

/**
 * The largest |q_i| of a quantized query of `dimension` components: 32767 (i16), or less where
 * dimension · 127 · 32767 would reach 2^31, so that Σ|code_i|·|q_i| stays an exact i32 on every path.
 */
export const queryLimit = (dimension: number): number =>
  Math.max(1, Math.min(32_767, Math.floor((2 ** 31 - 1) / (127 * dimension))));

/** Candidates scored per kernel call: the kernel's row and result buffers hold this many. */
const BATCH = 4096;

export interface CodeScorerOptions {
  /** false: the JavaScript loop even where WebAssembly SIMD runs (the scores are the same). */
  readonly wasm?: boolean;
}

interface WasmState {
  readonly dots: ScoreDotsFunction;
  readonly queryAt: number;
  readonly rowsAt: number;
  readonly outAt: number;
  readonly rows: Uint32Array;
  readonly out: Int32Array;
}

/**
 * Rows as 8-bit codes, code_i = round(127·v_i / max|v|), and per row the scale max|v| / 127 / |v|; a query
 * as 16-bit integers q_i = round(L·x_i / max|x|) (L = queryLimit) with the scale max|x| / L / |x|. The
 * approximate cosine of a row is (Σ code_i·q_i) · rowScale · queryScale: the integer sum is exact, the
 * two multiplications are f64 in JavaScript, so the WebAssembly kernel (rows padded to a multiple of 16
 * bytes in its memory) and the JavaScript loop (rows packed) give the same numbers.
 */
export class CodeScorer {
  /** Which kernel runs. */
  readonly backend: 'wasm-simd' | 'js';
  /** Bytes from one row's codes to the next. */
  readonly stride: number;
  private readonly codes: Int8Array;
  private readonly scales: Float64Array;
  private readonly query: Int16Array;
  private queryScale = 0;
  private readonly wasm: WasmState | null;

  /** @param norms the f32 norm of each row (foldNorm); a row of norm 0 scores 0. */
  constructor(
    vectors: Float32Array,
    readonly count: number,
    readonly dimension: number,
    norms: Float32Array,
    options: CodeScorerOptions = {},
  ) {
    const d = dimension;
    const padded = Math.ceil(d / 16) * 16;
    // Memory: the codes, then the query (i16), the row indices and the results of one batch.
    const codeBytes = count * padded;
    const queryAt = codeBytes;
    const rowsAt = queryAt + 2 * padded;
    const outAt = rowsAt + 4 * BATCH;
    const instance = options.wasm === false || d < 1 ? null : scorerWasmInstance(outAt + 4 * BATCH);
    if (instance) {
      const buffer = instance.memory.buffer;
      this.stride = padded;
      this.codes = new Int8Array(buffer, 0, codeBytes);
      this.query = new Int16Array(buffer, queryAt, padded);
      this.wasm = {
        dots: instance.dots,
        queryAt,
        rowsAt,
        outAt,
        rows: new Uint32Array(buffer, rowsAt, BATCH),
        out: new Int32Array(buffer, outAt, BATCH),
      };
      this.backend = 'wasm-simd';
    } else {
      this.stride = d;
      this.codes = new Int8Array(count * d);
      this.query = new Int16Array(d);
      this.wasm = null;
      this.backend = 'js';
    }
    this.scales = new Float64Array(count);
    const codes = this.codes;
    for (let n = 0; n < count; n++) {
      let max = 0;
      for (let i = n * d; i < (n + 1) * d; i++) max = Math.max(max, Math.abs(vectors[i]!));
      if (max === 0 || norms[n] === 0) continue;
      for (let i = 0, at = n * this.stride, v = n * d; i < d; i++)
        codes[at + i] = Math.round((127 * vectors[v + i]!) / max);
      this.scales[n] = max / 127 / norms[n]!;
    }
  }

  /** Quantize the query the next `scores` calls compare against (f32 values, already checked). */
  setQuery(query: Float32Array, queryNorm: number): void {
    const d = this.dimension;
    const limit = queryLimit(d);
    let max = 0;
    for (let i = 0; i < d; i++) max = Math.max(max, Math.abs(query[i]!));
    const q = this.query;
    if (!(max > 0 && queryNorm > 0 && Number.isFinite(max))) {
      q.fill(0);
      this.queryScale = 0;
      return;
    }
    for (let i = 0; i < d; i++) q[i] = Math.round((limit * query[i]!) / max);
    this.queryScale = max / limit / queryNorm;
  }

  /** The approximate cosine of rows candidates[0..count) into out[0..count). */
  scores(candidates: Uint32Array, count: number, out: Float64Array): void {
    const scales = this.scales;
    const queryScale = this.queryScale;
    const wasm = this.wasm;
    if (wasm) {
      for (let start = 0; start < count; start += BATCH) {
        const n = Math.min(BATCH, count - start);
        wasm.rows.set(candidates.subarray(start, start + n));
        wasm.dots(0, this.stride, wasm.queryAt, wasm.rowsAt, n, wasm.outAt);
        const dots = wasm.out;
        for (let j = 0; j < n; j++) out[start + j] = dots[j]! * scales[candidates[start + j]!]! * queryScale;
      }
      return;
    }
    const codes = this.codes;
    const q = this.query;
    const d = this.dimension;
    const stride = this.stride;
    for (let c = 0; c < count; c++) {
      const o = candidates[c]!;
      let dot = 0;
      for (let i = 0, at = o * stride; i < d; i++, at++) dot += codes[at]! * q[i]!;
      out[c] = dot * scales[o]! * queryScale;
    }
  }
}
