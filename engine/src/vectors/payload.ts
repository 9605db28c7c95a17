import { parseModality } from '../address/modality.js';
import { EngineError, quote } from '../errors.js';
import { payloadField } from '../model/item.js';
import type { Track } from '../model/track.js';
import { foldSquares } from './cosine.js';

/**
 * The dimension of a vector track (an event track of `vector.f32;dim=N`), or undefined for any other
 * track. A vector track without a valid dim is E_BAD_REQUEST naming it.
 */
export function vectorTrackDimension(track: Track): number | undefined {
  const modality = parseModality(track.modality);
  if (track.kind !== 'event' || modality.segments.join('.') !== 'vector.f32') return undefined;
  const dim = modality.params.get('dim');
  if (dim === undefined || !/^[1-9][0-9]{0,5}$/.test(dim)) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `track ${track.timeline}/${track.name} has modality ${track.modality}: a vector track needs a dim=N parameter, N from 1 to 999999`,
    );
  }
  return Number(dim);
}

/** The stored form of a vector: its values as little-endian float32 (each rounded to float32). */
export function encodeVector(values: Float32Array | readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

/**
 * A vector item's payload in its stored form: a list of numbers (as JSON writers give it), or a map whose
 * `vector` is one, becomes float32 bytes; anything else is returned as it is (payloadVector judges it).
 */
export function vectorPayloadBytes(payload: unknown): unknown {
  const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (isNumbers(payload)) return encodeVector(payload);
  if (payload instanceof Map && isNumbers(payload.get('vector')))
    return new Map([...payload].map(([k, v]) => [k, k === 'vector' ? encodeVector(v as number[]) : v]));
  if (
    payload !== null &&
    typeof payload === 'object' &&
    !(payload instanceof Uint8Array) &&
    !(payload instanceof Map) &&
    isNumbers((payload as Record<string, unknown>).vector)
  )
    return { ...payload, vector: encodeVector((payload as { vector: number[] }).vector) };
  return payload;
}

/** The stored vector's bytes: the payload itself, or the `vector` field of a map payload. */
export function storedVectorBytes(payload: unknown): Uint8Array | undefined {
  if (payload instanceof Uint8Array) return payload;
  const field = payloadField(payload, 'vector');
  return field instanceof Uint8Array ? field : undefined;
}

/**
 * The vector of a vector item's payload as f32 values, refused (E_FIELD, naming `where`) unless it is
 * `dim` finite components, not all zero: a zero vector has no direction, so no cosine can rank it.
 */
export function payloadVector(payload: unknown, dim: number, where: string): Float32Array {
  const bytes = storedVectorBytes(payload);
  if (!bytes)
    throw new EngineError(
      'E_FIELD',
      `${where}: payload ${quote(payload)} is neither float32 bytes nor a map with a vector byte string`,
    );
  if (bytes.length !== dim * 4)
    throw new EngineError(
      'E_FIELD',
      `${where}: vector has ${bytes.length} bytes; the track holds ${dim} float32 values (${dim * 4} bytes)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(dim);
  let zero = true;
  for (let i = 0; i < dim; i++) {
    const x = view.getFloat32(i * 4, true);
    if (!Number.isFinite(x)) throw new EngineError('E_FIELD', `${where}: vector component ${i} is ${x}`);
    if (x !== 0) zero = false;
    values[i] = x;
  }
  if (zero)
    throw new EngineError(
      'E_FIELD',
      `${where}: a zero vector has no direction; cosine search cannot rank it`,
    );
  const squares = foldSquares(values);
  if (!Number.isFinite(squares))
    throw new EngineError('E_FIELD', `${where}: the vector's squared length overflows float32`);
  // Components so small their squares underflow: the length is 0 in float32 and the unit row infinite.
  if (squares === 0)
    throw new EngineError('E_FIELD', `${where}: the vector's squared length underflows float32 to 0`);
  return values;
}
