/**
 * The estimated dot products of product-quantization codes with a query (spec 0010 §2): a query's table
 * (M × 256 f32) and the codes (M bytes a row) in WebAssembly memory, summed by a hand-assembled kernel,
 * or by a JavaScript loop that gives the same bits where WebAssembly is missing. The sum is a float32
 * left fold over m ascending, the order the spec states.
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   ;; table: M × 256 f32 (subspace m at table + 1024·m); codes: rows of M bytes; ids: `count` u32 rows;
 *   ;; out: `count` f32. count >= 1, M >= 1.
 *   (func (export "codeDots")
 *     (param $table i32) (param $codes i32) (param $m i32) (param $ids i32) (param $count i32)
 *     (param $out i32)
 *     (local $p i32) (local $end i32) (local $t i32) (local $acc f32)
 *     (loop $row
 *       (local.set $p (i32.add (local.get $codes) (i32.mul (i32.load (local.get $ids)) (local.get $m))))
 *       (local.set $end (i32.add (local.get $p) (local.get $m)))
 *       (local.set $t (local.get $table))
 *       (local.set $acc (f32.const 0))
 *       (loop $sub
 *         (local.set $acc (f32.add (local.get $acc) (f32.load (i32.add (local.get $t)
 *           (i32.shl (i32.load8_u (local.get $p)) (i32.const 2))))))
 *         (local.set $t (i32.add (local.get $t) (i32.const 1024)))
 *         (br_if $sub (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end))))
 *       (f32.store (local.get $out) (local.get $acc))
 *       (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
 *       (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *       (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 * ```
 */

import { type Codebooks, PQ_CENTROIDS, pqTable } from '../../vectors/pq.js';
import {
  BR_IF,
  compileIfValid,
  END,
  F32,
  F32_ADD,
  F32_LOAD,
  F32_STORE,
  F32_ZERO,
  functionBody,
  get,
  I32,
  I32_ADD,
  I32_LOAD,
  I32_LOAD8_U,
  I32_LT_U,
  I32_MUL,
  I32_SHL,
  i32,
  instanceWithMemory,
  LOOP,
  mem,
  nextRow,
  set,
  singleFunctionModule,
  tee,
  VOID,
} from '../lsh/wasm-asm.js';
import { UPPER_EVERY } from './vamana.js';

type CodeDotsFunction = (
  table: number,
  codes: number,
  m: number,
  ids: number,
  count: number,
  out: number,
) => void;

/** The body of `codeDots`, instruction for instruction the text above. */
function codeDotsBody(): number[] {
  const [table, codes, m, ids, count, out] = [0, 1, 2, 3, 4, 5];
  const [p, end, t, acc] = [6, 7, 8, 9];
  const step = (local: number, by: number) => [...get(local), ...i32(by), I32_ADD];
  const code = [
    LOOP,
    VOID, // $row
    ...get(codes),
    ...get(ids),
    I32_LOAD,
    ...mem(2, 0),
    ...get(m),
    I32_MUL,
    I32_ADD,
    ...tee(p),
    ...get(m),
    I32_ADD,
    ...set(end),
    ...get(table),
    ...set(t),
    ...F32_ZERO,
    ...set(acc),
    LOOP,
    VOID, // $sub
    ...get(acc),
    ...get(t),
    ...get(p),
    I32_LOAD8_U,
    ...mem(0, 0),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    F32_LOAD,
    ...mem(2, 0),
    F32_ADD,
    ...set(acc),
    ...step(t, 4 * PQ_CENTROIDS),
    ...set(t),
    ...step(p, 1),
    ...tee(p),
    ...get(end),
    I32_LT_U,
    BR_IF,
    0, // $sub
    END,
    ...get(out),
    ...get(acc),
    F32_STORE,
    ...mem(2, 0),
    ...nextRow(ids, out, count), // $row
    END, // the function
  ];
  return functionBody(
    [
      [3, I32],
      [1, F32],
    ],
    code,
  );
}

/** The module's bytes (see the text above). */
export function codeKernelBytes(): Uint8Array<ArrayBuffer> {
  return singleFunctionModule('codeDots', 6, codeDotsBody());
}

let compiled: WebAssembly.Module | null | undefined;

/** Row ids scored per call. */
export const CODE_BATCH = 8192;

/**
 * `n` codes of M bytes under some codebooks, and a query's table: `setQuery`, write row ids into `ids`,
 * call `dots(count)`, read `out`.
 */
export class CodeKernel {
  readonly backend: 'wasm' | 'js';
  /** Every code, M bytes a row. */
  readonly codes: Uint8Array;
  /** The query's table: M × 256 f32. */
  readonly table: Float32Array;
  readonly ids: Uint32Array;
  readonly out: Float32Array;
  private readonly call: CodeDotsFunction | null;
  private readonly at: { table: number; codes: number; ids: number; out: number };

  readonly subspaces: number;
  /** For a sample (an upper layer's codes): the kernel whose table it copies instead of computing its own. */
  private readonly root: CodeKernel | undefined;

  /** Room for `n` codes under `books`, copied from `codes` when given. */
  constructor(
    readonly books: Codebooks,
    readonly n: number,
    codes?: Uint8Array,
    options: { wasm?: boolean; root?: CodeKernel } = {},
  ) {
    const { subspaces } = books;
    this.subspaces = subspaces;
    const tableBytes = 4 * subspaces * PQ_CENTROIDS;
    const idsAt = tableBytes;
    const outAt = idsAt + 4 * CODE_BATCH;
    const codesAt = outAt + 4 * CODE_BATCH;
    const total = codesAt + n * subspaces;
    if (options.wasm !== false && compiled === undefined) compiled = compileIfValid(codeKernelBytes());
    const instance = options.wasm === false || !compiled ? null : instanceWithMemory(compiled, total);
    const buffer = instance ? instance.memory.buffer : new ArrayBuffer(total);
    this.call = instance ? (instance.exports.codeDots as CodeDotsFunction) : null;
    this.backend = instance ? 'wasm' : 'js';
    this.at = { table: 0, codes: codesAt, ids: idsAt, out: outAt };
    this.table = new Float32Array(buffer, 0, subspaces * PQ_CENTROIDS);
    this.ids = new Uint32Array(buffer, idsAt, CODE_BATCH);
    this.out = new Float32Array(buffer, outAt, CODE_BATCH);
    this.codes = new Uint8Array(buffer, codesAt, n * subspaces);
    if (codes) this.codes.set(codes.subarray(0, n * subspaces));
    this.root = options.root;
  }

  /**
   * Score against `query` (`dimension` components) from now on: its table of subvector · centroid dots.
   * A sample copies its root's table instead: set the root's query first (one table a query, whatever
   * the number of layers).
   */
  setQuery(query: Float32Array): void {
    if (this.root) this.table.set(this.root.table);
    else pqTable(this.books, query, this.table);
  }

  /** The codes of rows 0, every, 2·every, … (`count` of them) in a kernel of their own, its table its root's. */
  sample(count: number, every = UPPER_EVERY): CodeKernel {
    const out = new CodeKernel(this.books, count, undefined, { root: this.root ?? this });
    const m = this.subspaces;
    for (let i = 0; i < count; i++)
      out.codes.set(this.codes.subarray(i * every * m, (i * every + 1) * m), i * m);
    return out;
  }

  /** out[j] = the estimated dot of code ids[j] with the table's query, for j < count (<= CODE_BATCH). */
  dots(count: number): void {
    if (count <= 0) return;
    const { at } = this;
    if (this.call) {
      this.call(at.table, at.codes, this.subspaces, at.ids, count, at.out);
      return;
    }
    const { codes, table, ids, out, subspaces } = this;
    for (let j = 0; j < count; j++) {
      let acc = 0;
      for (let m = 0, p = ids[j]! * subspaces; m < subspaces; m++)
        acc = Math.fround(acc + table[(m << 8) | codes[p + m]!]!);
      out[j] = acc;
    }
  }
}
