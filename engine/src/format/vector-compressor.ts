import { FieldReader, fieldError } from '../model/fields.js';
import { type Codebooks, codebooks, PQ_CENTROIDS, type PqParams } from '../vectors/pq.js';
import { openObject, sealObjectParts } from './envelope.js';

/**
 * A VectorCompressor object (spec 0010 §3): trained product-quantization codebooks. Envelope kind 12;
 * header {v: 0, scheme: "dreamdb.pq", dimension, subspaces, centroids: 256, seed, train_rows,
 * iterations}; payload the centroids as float32 little-endian, subspace by subspace (subspace m's 256
 * centroids of width floor((m+1)·dim/M) − floor(m·dim/M), centroid by centroid).
 */

/** The scheme of classical product quantization (0010 §2). */
export const PQ_SCHEME = 'dreamdb.pq';

const FIELDS = [
  'v',
  'scheme',
  'dimension',
  'subspaces',
  'centroids',
  'seed',
  'train_rows',
  'iterations',
] as const;

/** The object's parts (header and payload) for codebooks trained under `params`. */
export function sealVectorCompressor(params: PqParams, books: Codebooks): Uint8Array[] {
  const { centroids } = books;
  return sealObjectParts(
    'vectorCompressor',
    {
      v: 0,
      scheme: PQ_SCHEME,
      dimension: params.dimension,
      subspaces: params.subspaces,
      centroids: PQ_CENTROIDS,
      seed: params.seed,
      train_rows: params.trainRows,
      iterations: params.iterations,
    },
    [new Uint8Array(centroids.buffer, centroids.byteOffset, centroids.byteLength)],
  );
}

/** A VectorCompressor's training parameters and codebooks; refuses another scheme, shape or a non-finite centroid. */
export function openVectorCompressor(
  bytes: Uint8Array,
  what = 'vector compressor',
): { params: PqParams; books: Codebooks } {
  const { header, payloadStart } = openObject(bytes, 'vectorCompressor', what);
  const r = new FieldReader(header, what, FIELDS);
  if (r.uint('v') !== 0) fieldError(r.at('v'), 'this engine reads version 0');
  if (r.text('scheme') !== PQ_SCHEME) fieldError(r.at('scheme'), `this engine reads ${PQ_SCHEME} only`);
  if (r.uint('centroids') !== PQ_CENTROIDS) fieldError(r.at('centroids'), `must be ${PQ_CENTROIDS}`);
  const params: PqParams = {
    dimension: r.uint('dimension'),
    subspaces: r.uint('subspaces'),
    seed: r.uint('seed'),
    trainRows: r.uint('train_rows'),
    iterations: r.uint('iterations'),
  };
  const payload = bytes.subarray(payloadStart);
  if (payload.length !== 4 * params.dimension * PQ_CENTROIDS)
    fieldError(what, `payload of ${payload.length} bytes, not ${params.dimension} × ${PQ_CENTROIDS} float32`);
  const centroids = new Float32Array(params.dimension * PQ_CENTROIDS);
  new Uint8Array(centroids.buffer).set(payload);
  if (!centroids.every(Number.isFinite)) fieldError(what, 'a centroid has a non-finite component');
  let books: Codebooks;
  try {
    books = codebooks(params.dimension, params.subspaces, centroids);
  } catch (error) {
    fieldError(r.at('subspaces'), (error as Error).message.replace(/^E_FIELD: /, ''));
  }
  return { params, books };
}
