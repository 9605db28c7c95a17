import { chacha20 } from '@noble/ciphers/chacha.js';
import { EngineError } from '../../errors.js';

/** The scheme name of DreamDB's cosine LSH (spec 0004). */
export const LSH_COSINE = 'dreamdb.lsh-cosine';

/** Parameters of a `dreamdb.lsh-cosine` spatial index (what its SpatialIndex object records). */
export interface LshParams {
  /** Components per vector, 1..4096. */
  readonly dimension: number;
  /** Independent hash tables, 1..64. */
  readonly tables: number;
  /** Hyperplanes (key bits) per table, 1..32. */
  readonly bits: number;
  /** Buckets looked up per table at query time (the key, then single-bit flips), 1..bits+1. */
  readonly probes: number;
  /** 32 bytes: the ChaCha20 key the hyperplanes are drawn from. */
  readonly seed: Uint8Array;
}

/** Refuse parameters outside the ranges of spec 0004, naming the field (under `path` when given). */
export function assertLshParams(p: LshParams, path?: string): LshParams {
  const int = (name: keyof LshParams, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new EngineError(
        'E_FIELD',
        `${path ? `${path}.${name}: ` : ''}lsh ${name} ${value} must be an integer from ${min} to ${max}`,
      );
  };
  int('dimension', p.dimension, 1, 4096);
  int('tables', p.tables, 1, 64);
  int('bits', p.bits, 1, 32);
  int('probes', p.probes, 1, p.bits + 1);
  if (!(p.seed instanceof Uint8Array) || p.seed.length !== 32)
    throw new EngineError(
      'E_FIELD',
      `${path ? `${path}.seed: ` : ''}lsh seed must be 32 bytes, not ${p.seed?.length ?? typeof p.seed}`,
    );
  return p;
}

/**
 * The hyperplanes of an index as sign bits: hyperplane j of table t has component i = −1 when bit
 * ((t·bits + j)·dimension + i) of the ChaCha20 keystream (RFC 8439: key = seed, nonce = 12 zero bytes,
 * counter from 0; bits LSB first within a byte) is 1, else +1. Signs rather than Gaussian draws keep
 * every component exact on every platform (no log, sin or cos), and ±1 projections preserve angles as
 * well as Gaussian ones at the dimensions embeddings have.
 */
export function hyperplaneSigns(p: LshParams): Uint8Array {
  assertLshParams(p);
  const count = p.tables * p.bits * p.dimension;
  return chacha20(p.seed, new Uint8Array(12), new Uint8Array(Math.ceil(count / 8)));
}

/** A vector checked for use: the right dimension, finite components, not all zero; as f32 values. */
export function checkVector(values: ArrayLike<number>, dimension: number): Float32Array {
  if (values.length !== dimension)
    throw new EngineError('E_FIELD', `vector has ${values.length} components; the index wants ${dimension}`);
  const v = Float32Array.from(values);
  let zero = true;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!))
      throw new EngineError('E_FIELD', `vector component ${i} is ${values[i]}: only finite numbers`);
    if (v[i] !== 0) zero = false;
  }
  if (zero) throw new EngineError('E_FIELD', 'a zero vector has no direction: cosine search cannot place it');
  return v;
}

/** A vector's key in one table, and each bit's margin |dot| (for multi-probe). */
export interface TableKey {
  readonly key: number;
  readonly margins: Float32Array;
}

/**
 * The reference path: per table, bit j of the key is 1 when the dot product with hyperplane j is >= 0,
 * the dot product an f32 left fold (each product and each sum rounded to f32, i = 0 upwards), so every
 * implementation computes bit-identical keys. Bit j is the key's bit j (value 2^j).
 */
export function tableKeys(p: LshParams, signs: Uint8Array, vector: Float32Array): TableKey[] {
  const keys: TableKey[] = [];
  for (let t = 0; t < p.tables; t++) {
    let key = 0;
    const margins = new Float32Array(p.bits);
    for (let j = 0; j < p.bits; j++) {
      let at = (t * p.bits + j) * p.dimension;
      let dot = 0;
      for (let i = 0; i < p.dimension; i++, at++) {
        const negative = (signs[at >>> 3]! >>> (at & 7)) & 1;
        dot = Math.fround(dot + (negative ? -vector[i]! : vector[i]!));
      }
      if (dot >= 0) key = (key | (1 << j)) >>> 0;
      margins[j] = Math.abs(dot);
    }
    keys.push({ key, margins });
  }
  return keys;
}

/**
 * The buckets a query looks up in one table: its key, then the key with one bit flipped, lowest margin
 * first (ties: lower bit first), `probes` in all.
 */
export function probeKeys(key: TableKey, probes: number): number[] {
  const order = Array.from(key.margins.keys()).sort((a, b) => key.margins[a]! - key.margins[b]! || a - b);
  return [key.key, ...order.slice(0, probes - 1).map((j) => (key.key ^ (1 << j)) >>> 0)];
}
