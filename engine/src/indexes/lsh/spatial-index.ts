import { hashBytes, type Multihash } from '../../address/multihash.js';

import { decodeCanonical, encodeCanonical } from '../../cbor/deterministic.js';
import { EngineError } from '../../errors.js';
import { FieldReader } from '../../model/fields.js';
import { assertLshParams, LSH_COSINE, type LshParams } from './lsh.js';

/**
 * A SpatialIndex record (spec 0004 §5.1): the scheme and its parameters. Its multihash is the lineage a
 * vector bucket's header names, so a reader holding other parameters refuses the bucket instead of
 * looking it up with keys that mean something else.
 */
export interface SpatialIndex extends LshParams {
  readonly scheme: typeof LSH_COSINE;
}

const FIELDS = ['v', 'scheme', 'dimension', 'tables', 'bits', 'probes', 'seed'] as const;

/** The CBOR map of a SpatialIndex. */
export function spatialIndexToCbor(index: SpatialIndex): Record<string, unknown> {
  return {
    v: 0,
    scheme: index.scheme,
    dimension: index.dimension,
    tables: index.tables,
    bits: index.bits,
    probes: index.probes,
    seed: index.seed,
  };
}

/** Read and validate a SpatialIndex from its decoded CBOR map. */
export function spatialIndexFromCbor(value: unknown, path = 'spatialIndex'): SpatialIndex {
  const r = new FieldReader(value, path, FIELDS);
  if (r.uint('v') !== 0) throw new EngineError('E_FIELD', `${r.at('v')}: version ${r.raw('v')} is not 0`);
  const scheme = r.oneOf('scheme', [LSH_COSINE] as const);
  const seed = r.raw('seed');
  if (!(seed instanceof Uint8Array)) throw new EngineError('E_FIELD', `${r.at('seed')}: expected 32 bytes`);
  const index: SpatialIndex = {
    scheme,
    dimension: r.uint('dimension'),
    tables: r.uint('tables'),
    bits: r.uint('bits'),
    probes: r.uint('probes'),
    seed,
  };
  assertLshParams(index, path);
  return index;
}

/** Deterministic CBOR bytes of a SpatialIndex, checked by the same rules its decoder applies. */
export function encodeSpatialIndex(index: SpatialIndex): Uint8Array {
  const map = spatialIndexToCbor(index);
  spatialIndexFromCbor(map);
  return encodeCanonical(map);
}

/** Decode and validate a SpatialIndex. */
export function decodeSpatialIndex(bytes: Uint8Array): SpatialIndex {
  return spatialIndexFromCbor(decodeCanonical(bytes));
}

/** The lineage of a SpatialIndex: the multihash of its record. */
export const spatialIndexHash = (index: SpatialIndex): Multihash => hashBytes(encodeSpatialIndex(index));

/** The seed of default indexes: the first 32 bytes of BLAKE3-256("dreamdb.lsh-cosine default seed"). */
export const DEFAULT_SEED: Uint8Array = hashBytes(
  new TextEncoder().encode('dreamdb.lsh-cosine default seed'),
).slice(2);

/**
 * The index a vector track gets unless it names one (spec 0004 §6.2): 32 tables of 16 bits, 17 probes
 * (the key and each of its bits flipped), the default seed: recall@10 ≈ 0.87 on 1M hard clustered
 * vectors (`npm run bench -- search`), and small tracks are widened (§6.3). Two writers creating the same track
 * independently thus build compatible indexes, and their branches merge.
 */
export function defaultSpatialIndex(dimension: number): SpatialIndex {
  return { scheme: LSH_COSINE, dimension, tables: 32, bits: 16, probes: 17, seed: DEFAULT_SEED };
}
