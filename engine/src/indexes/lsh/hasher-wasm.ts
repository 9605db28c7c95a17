/**
 * The WebAssembly SIMD kernel of the LSH key path (spec 0004 §4), hand-assembled: no toolchain, no
 * runtime dependency, about 2.3 KiB of bytes built once per process.
 *
 * Bit-identity with the reference `tableKeys`: each hyperplane's dot product is still an f32 left fold
 * over components i = 0 upwards. SIMD runs across hyperplanes, never across components: 4 lanes hold 4
 * hyperplanes, all advancing over the same component i. A lane's step is `acc = f32(acc + (±v_i))`:
 * `±v_i` is v_i with its sign bit XORed by the hyperplane's sign mask (exactly JavaScript's unary minus,
 * and cheaper than multiplying by ±1.0), and `f32x4.add` rounds each lane to f32 with IEEE
 * round-to-nearest-even and keeps subnormals, which is what `Math.fround(acc + s·v)` does (an f64 sum
 * of two f32 values rounded once to f32 is the correctly rounded f32 sum). Bit j of a key is `acc >= 0`
 * as `f32x4.ge` computes it (−0 >= 0 holds, NaN >= 0 does not), as in the reference.
 *
 * The module exports `memory` and `dots1` … `dots8`; `dotsK` keeps K f32x4 accumulators (4K
 * hyperplanes, a "group") in v128 locals and runs one group over `count` vectors:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   ;; signs: the group's sign masks, [i][4K lanes] as u32 (0 for +1, 0x80000000 for −1), 16-aligned.
 *   ;; vecs: count vectors of dim f32 each, row-major. bits: per vector one u32, bit h = hyperplane h of
 *   ;; the group has dot >= 0 (bits 4K.. are 0); dots: per vector the 4K f32 dot products (16-aligned),
 *   ;; or 0 for none. count >= 1 and dim >= 1.
 *   (func (export "dotsK")
 *     (param $signs i32) (param $dim i32) (param $vecs i32) (param $count i32)
 *     (param $bits i32) (param $bitsStride i32) (param $dots i32) (param $dotsStride i32)
 *     (local $p i32) (local $v i32) (local $end i32) (local $x v128)
 *     (local $zero v128)                                         ;; never set: locals start at 0
 *     (local $a0 v128) … (local $aK-1 v128)
 *     (local.set $end (local.get $vecs))
 *     (loop $vector
 *       (local.set $a0 (local.get $zero)) …                       ;; every accumulator +0
 *       (local.set $p (local.get $signs))
 *       (local.set $v (local.get $end))                          ;; this vector starts where the last ended
 *       (local.set $end (i32.add (local.get $v) (i32.shl (local.get $dim) (i32.const 2))))
 *       (loop $component
 *         (local.set $x (v128.load32_splat (local.get $v)))    ;; v_i in every lane
 *         (local.set $a0 (f32x4.add (local.get $a0)
 *           (v128.xor (local.get $x) (v128.load offset=0 (local.get $p))))) …   ;; offset=16k for $ak
 *         (local.set $p (i32.add (local.get $p) (i32.const 16K)))
 *         (br_if $component (i32.lt_u
 *           (local.tee $v (i32.add (local.get $v) (i32.const 4))) (local.get $end))))
 *       (i32.store (local.get $bits)                             ;; the group's sign bits, 4 per accumulator
 *         (i32.or (i32x4.bitmask (f32x4.ge (local.get $a0) (local.get $zero)))
 *           (i32.or (i32.shl (i32x4.bitmask (f32x4.ge (local.get $a1) (local.get $zero)))
 *             (i32.const 4)) …)))
 *       (local.set $bits (i32.add (local.get $bits) (local.get $bitsStride)))
 *       (if (local.get $dots) (then
 *         (v128.store offset=0 (local.get $dots) (local.get $a0)) …   ;; offset=16k for $ak
 *         (local.set $dots (i32.add (local.get $dots) (local.get $dotsStride)))))
 *       (br_if $vector (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 * ```
 */

import {
  BR_IF,
  compileIfValid,
  END,
  F32X4_ADD,
  F32X4_GE,
  functionBody,
  get,
  I32,
  I32_ADD,
  I32_LT_U,
  I32_OR,
  I32_SHL,
  I32_STORE,
  I32_SUB,
  I32X4_BITMASK,
  IF,
  i32,
  instanceWithMemory,
  LOOP,
  MODULE_HEADER,
  mem,
  name,
  section,
  set,
  tee,
  uleb,
  V128,
  V128_LOAD,
  V128_LOAD32_SPLAT,
  V128_STORE,
  V128_XOR,
  VOID,
  vec,
} from './wasm-asm.js';

/** Accumulators of the widest kernel: 8 × f32x4 = 32 hyperplanes per pass. */
export const MAX_ACCUMULATORS = 8;

/** A `dotsK` export: see the module text above. */
export type DotsFunction = (
  signs: number,
  dim: number,
  vecs: number,
  count: number,
  bits: number,
  bitsStride: number,
  dots: number,
  dotsStride: number,
) => void;

/** The exports of an instance. */
export interface LshWasmExports {
  readonly memory: WebAssembly.Memory;
  /** dots[K − 1] is `dotsK`. */
  readonly dots: readonly DotsFunction[];
}

/** The body of `dotsK` (K accumulators), instruction for instruction the text above. */
function dotsBody(k: number): number[] {
  // Parameters 0-7 as named above; then locals.
  const [signs, dim, vecs, count, bits, bitsStride, dots, dotsStride] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [p, v, end, x, zero] = [8, 9, 10, 11, 12];
  const a = (n: number) => 13 + n;
  const lanes = Array.from({ length: k }, (_, n) => n);
  const code: number[] = [
    ...get(vecs),
    ...set(end),
    LOOP,
    VOID, // $vector
    ...lanes.flatMap((n) => [...get(zero), ...set(a(n))]),
    ...get(signs),
    ...set(p),
    ...get(end),
    ...set(v),
    ...get(v),
    ...get(dim),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    ...set(end),
    LOOP,
    VOID, // $component
    ...get(v),
    ...V128_LOAD32_SPLAT,
    ...mem(2, 0),
    ...set(x),
    ...lanes.flatMap((n) => [
      ...get(a(n)),
      ...get(x),
      ...get(p),
      ...V128_LOAD,
      ...mem(4, 16 * n),
      ...V128_XOR,
      ...F32X4_ADD,
      ...set(a(n)),
    ]),
    ...get(p),
    ...i32(16 * k),
    I32_ADD,
    ...set(p),
    ...get(v),
    ...i32(4),
    I32_ADD,
    ...tee(v),
    ...get(end),
    I32_LT_U,
    BR_IF,
    0, // $component
    END,
    ...get(bits),
    ...lanes.flatMap((n) => [
      ...get(a(n)),
      ...get(zero),
      ...F32X4_GE,
      ...I32X4_BITMASK,
      ...(n > 0 ? [...i32(4 * n), I32_SHL, I32_OR] : []),
    ]),
    I32_STORE,
    ...mem(2, 0),
    ...get(bits),
    ...get(bitsStride),
    I32_ADD,
    ...set(bits),
    ...get(dots),
    IF,
    VOID,
    ...lanes.flatMap((n) => [...get(dots), ...get(a(n)), ...V128_STORE, ...mem(4, 16 * n)]),
    ...get(dots),
    ...get(dotsStride),
    I32_ADD,
    ...set(dots),
    END,
    ...get(count),
    ...i32(1),
    I32_SUB,
    ...tee(count),
    BR_IF,
    0, // $vector
    END,
    END, // the function
  ];
  // Local declarations: 3 i32 ($p $v $end), then 2 + K v128 ($x $zero $a0…).
  return functionBody(
    [
      [3, I32],
      [...uleb(2 + k), V128],
    ],
    code,
  );
}

/** The module's bytes (see the text above). Deterministic: the same bytes on every call. */
export function lshWasmBytes(): Uint8Array<ArrayBuffer> {
  const kernels = Array.from({ length: MAX_ACCUMULATORS }, (_, n) => n + 1);
  const bytes = [
    ...MODULE_HEADER,
    // Types: 0 = (i32 × 8) → ().
    ...section(1, vec([[0x60, ...vec(new Array(8).fill([I32])), ...vec([])]])),
    // Functions: dots1 … dots8, all of type 0.
    ...section(3, vec(kernels.map(() => [0]))),
    // Memory 0: at least 1 page, no maximum.
    ...section(5, vec([[0x00, 1]])),
    // Exports: memory, dots1 … dots8.
    ...section(
      7,
      vec([[...name('memory'), 0x02, 0], ...kernels.map((k) => [...name(`dots${k}`), 0x00, ...uleb(k - 1)])]),
    ),
    ...section(10, vec(kernels.map(dotsBody))),
  ];
  return Uint8Array.from(bytes);
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled module, or null where WebAssembly or its SIMD is missing (WebAssembly.validate refuses
 * the bytes) or compiling is not allowed (e.g. a Content-Security-Policy without 'wasm-unsafe-eval').
 * Compiled synchronously once per process: the module is under the 4 KiB Chrome once allowed on the main
 * thread.
 */
export function lshWasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileIfValid(lshWasmBytes());
  return compiled;
}

/** A fresh instance (its own memory, grown to `bytes`), or null where the module is unavailable. */
export function lshWasmInstance(bytes: number): LshWasmExports | null {
  const module = lshWasmModule();
  // Memory refused (an address-space limit): null, and the JavaScript path still works.
  const instance = module && instanceWithMemory(module, bytes);
  if (!instance) return null;
  const dots = Array.from(
    { length: MAX_ACCUMULATORS },
    (_, n) => instance.exports[`dots${n + 1}`] as DotsFunction,
  );
  return { memory: instance.memory, dots };
}
