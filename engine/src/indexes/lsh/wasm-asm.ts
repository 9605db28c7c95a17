/**
 * What the hand-assembled WebAssembly kernels (hasher-wasm.ts, scorer-wasm.ts) share: LEB128 and
 * section encoding, the opcodes they use (core 2.0 with fixed-width SIMD), and compiling and
 * instantiating where the platform validates the bytes. No toolchain, no dependency.
 */

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};

/** Signed LEB128, for i32.const. */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
/** The magic number and version 1. */
export const MODULE_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export const LOOP = 0x03;
export const IF = 0x04;
export const END = 0x0b;
export const DROP = 0x1a;
export const BR_IF = 0x0d;
export const VOID = 0x40;
export const I32_LOAD = 0x28;
export const F32_LOAD = 0x2a;
export const I32_LOAD8_U = 0x2d;
export const I32_STORE = 0x36;
export const I32_LT_U = 0x49;
export const I32_ADD = 0x6a;
export const I32_SUB = 0x6b;
export const I32_MUL = 0x6c;
export const I32_OR = 0x72;
export const I32_SHL = 0x74;
export const F32_ADD = 0x92;
export const F32_STORE = 0x38;
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
export const V128_LOAD = simd(0x00);
export const V128_LOAD8X8_S = simd(0x01);
export const V128_LOAD32_SPLAT = simd(0x09);
export const V128_STORE = simd(0x0b);
export const F32X4_GE = simd(0x46);
export const V128_XOR = simd(0x51);
export const I32X4_EXTRACT_LANE = simd(0x1b);
export const I32X4_BITMASK = simd(0xa4);
export const I32X4_ADD = simd(0xae);
export const I32X4_DOT_I16X8_S = simd(0xba);
export const F32X4_ADD = simd(0xe4);
export const F32X4_MUL = simd(0xe6);
export const F32X4_EXTRACT_LANE = simd(0x1f);

/** memarg: alignment exponent, then offset. */
export const mem = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];
export const get = (local: number): number[] => [0x20, ...uleb(local)];
export const set = (local: number): number[] => [0x21, ...uleb(local)];
export const tee = (local: number): number[] => [0x22, ...uleb(local)];
export const i32 = (n: number): number[] => [0x41, ...sleb(n)];
/** f32.const 0. */
export const F32_ZERO = [0x43, 0, 0, 0, 0];

/** A function body: its local declarations ([count, type] runs), then its code, length first. */
export function functionBody(locals: number[][], code: number[]): number[] {
  const body = [...vec(locals), ...code];
  return [...uleb(body.length), ...body];
}

/**
 * Compile module bytes, or null where WebAssembly or its SIMD is missing (WebAssembly.validate refuses
 * the bytes) or compiling is not allowed (a Content-Security-Policy without 'wasm-unsafe-eval').
 */
export function compileIfValid(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  try {
    const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (wasm?.validate(bytes)) return new wasm.Module(bytes);
  } catch {
    // not allowed here: the callers' JavaScript paths compute the same results
  }
  return null;
}

/**
 * A fresh instance whose exported memory is grown to at least `bytes`, or null where the memory is
 * refused (an address-space limit) or `bytes` exceeds what wasm32 addresses.
 */
export function instanceWithMemory(
  module: WebAssembly.Module,
  bytes: number,
): { exports: Record<string, unknown>; memory: WebAssembly.Memory } | null {
  if (!(bytes <= 2 ** 32)) return null;
  try {
    const exports = new WebAssembly.Instance(module).exports as Record<string, unknown>;
    const memory = exports.memory as WebAssembly.Memory;
    const pages = Math.ceil(bytes / 65536);
    const have = memory.buffer.byteLength / 65536;
    if (pages > have) memory.grow(pages - have);
    return { exports, memory };
  } catch {
    return null;
  }
}

/**
 * The bytes of a module that exports `memory` (one page at first, growable) and one function `fn` taking
 * `params` i32 parameters and returning nothing, whose body is `body` (functionBody's output).
 */
export function singleFunctionModule(fn: string, params: number, body: number[]): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    ...MODULE_HEADER,
    // Types: 0 = (i32 × params) → ().
    ...section(1, vec([[0x60, ...vec(new Array(params).fill([I32])), ...vec([])]])),
    // Functions: one, of type 0.
    ...section(3, vec([[0]])),
    // Memory 0: at least 1 page, no maximum.
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0],
        [...name(fn), 0x00, 0],
      ]),
    ),
    ...section(10, vec([body])),
  ]);
}

/**
 * The end of a per-row loop over `count` ids (locals `ids`, `out`, `count`): step to the next u32 id and
 * 4-byte result, count down, and branch back to the loop (label 0) while rows are left; then close it.
 */
export function nextRow(ids: number, out: number, count: number): number[] {
  const step = (local: number) => [...get(local), ...i32(4), I32_ADD, ...set(local)];
  return [...step(ids), ...step(out), ...get(count), ...i32(1), I32_SUB, ...tee(count), BR_IF, 0, END];
}

/** How a row-scoring kernel (rowScoresBody) accumulates and joins one row's score. */
export interface RowScoreOps {
  /** Add the chunk at p (offset `half` · rowBytes/2) times the query at q into accumulator local `acc`. */
  readonly accumulate: (acc: number, half: 0 | 1, locals: { p: number; q: number }) => number[];
  /** Bytes of the row one chunk turn covers (both halves); the query advances 32 bytes a turn. */
  readonly rowBytes: number;
  /** The lane-wise add of two accumulators, the lane extract, the scalar add and the store of the result. */
  readonly addVectors: number[];
  readonly extractLane: number[];
  readonly addScalars: number;
  readonly store: number;
  /**
   * When set, a first pass loads every `touch`-th byte of each row before any is scored: the loads do
   * not wait on one another, so the rows' cache misses overlap (WebAssembly has no prefetch).
   */
  readonly touch?: number;
}

/** The touch pass of rowScoresBody: each row's bytes every `touch` loaded (and dropped), ids in order. */
function touchRows(
  touch: number,
  l: {
    base: number;
    stride: number;
    ids: number;
    count: number;
    p: number;
    end: number;
    q: number;
    rowEnd: number;
  },
): number[] {
  return [
    ...get(l.ids),
    ...get(l.count),
    ...i32(2),
    I32_SHL,
    I32_ADD,
    ...set(l.end),
    ...get(l.ids),
    ...set(l.q),
    LOOP,
    VOID, // $touch: one row
    ...get(l.base),
    ...get(l.q),
    I32_LOAD,
    ...mem(2, 0),
    ...get(l.stride),
    I32_MUL,
    I32_ADD,
    ...set(l.p),
    ...get(l.p),
    ...get(l.stride),
    I32_ADD,
    ...set(l.rowEnd),
    LOOP,
    VOID, // $line
    ...get(l.p),
    I32_LOAD,
    ...mem(2, 0),
    DROP,
    ...get(l.p),
    ...i32(touch),
    I32_ADD,
    ...tee(l.p),
    ...get(l.rowEnd),
    I32_LT_U,
    BR_IF,
    0,
    END,
    ...get(l.q),
    ...i32(4),
    I32_ADD,
    ...tee(l.q),
    ...get(l.end),
    I32_LT_U,
    BR_IF,
    0,
    END,
  ];
}

/**
 * The body the row-scoring kernels share, with parameters (base, stride, query, ids, count, out): for each
 * of `count` u32 row ids, two v128 accumulators over the row's chunks (`ops.accumulate`), joined lane-wise,
 * then (lane 0 + lane 1) + (lane 2 + lane 3) stored as the row's 4-byte result. count >= 1.
 */
export function rowScoresBody(ops: RowScoreOps): number[] {
  const [base, stride, query, ids, count, out] = [0, 1, 2, 3, 4, 5];
  const [p, end, q, a, b, zero] = [6, 7, 8, 9, 10, 11];
  const lane = (n: number) => [...get(a), ...ops.extractLane, n];
  const step = (local: number, bytes: number) => [...get(local), ...i32(bytes), I32_ADD];
  const rowEnd = 12;
  const code: number[] = [
    ...(ops.touch ? touchRows(ops.touch, { base, stride, ids, count, p, end, q, rowEnd }) : []),
    LOOP,
    VOID, // $row
    ...get(base),
    ...get(ids),
    I32_LOAD,
    ...mem(2, 0),
    ...get(stride),
    I32_MUL,
    I32_ADD,
    ...set(p),
    ...get(p),
    ...get(stride),
    I32_ADD,
    ...set(end),
    ...get(query),
    ...set(q),
    ...get(zero),
    ...set(a),
    ...get(zero),
    ...set(b),
    LOOP,
    VOID, // $chunk
    ...ops.accumulate(a, 0, { p, q }),
    ...ops.accumulate(b, 1, { p, q }),
    ...step(q, 32),
    ...set(q),
    ...step(p, ops.rowBytes),
    ...tee(p),
    ...get(end),
    I32_LT_U,
    BR_IF,
    0, // $chunk
    END,
    ...get(a),
    ...get(b),
    ...ops.addVectors,
    ...set(a),
    ...get(out),
    ...lane(0),
    ...lane(1),
    ops.addScalars,
    ...lane(2),
    ...lane(3),
    ops.addScalars,
    ops.addScalars,
    ops.store,
    ...mem(2, 0),
    ...nextRow(ids, out, count), // $row
    END, // the function
  ];
  // Local declarations: 3 i32 ($p $end $q), then 3 v128 ($a $b $zero), then with a touch pass 1 i32 ($rowEnd).
  return functionBody([[3, I32], [3, V128], ...(ops.touch ? [[1, I32]] : [])], code);
}
