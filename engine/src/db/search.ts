import { parseModality } from '../address/modality.js';
import type { Address } from '../address/uri.js';
import { EngineError, quote } from '../errors.js';
import type { Track } from '../model/track.js';
import { assertTick, type Tick } from '../time/ticks.js';
import { findTrack, type Resolved, type Session } from './session.js';
import { stream } from './stream.js';

/** A nearest-neighbour query on a vector track. */
export interface SearchQuery {
  readonly timeline: string;
  readonly track: string;
  /** The query vector: the track's dimension, finite float32 values, not all zero. */
  readonly vector: Float32Array | readonly number[];
  /** How many hits to return at most (a positive integer). */
  readonly k: number;
  /** Items with t0 <= tick < t1 (default: the whole track). */
  readonly t0?: Tick;
  readonly t1?: Tick;
}

/** One hit: the item, where it is, and its cosine similarity to the query (float32). */
export interface SearchHit {
  readonly timeline: string;
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly score: number;
  readonly address: Address;
  /** The item's decoded payload, as stored (bytes, or the map holding `vector`). */
  readonly payload: unknown;
}

/**
 * The dimension of a vector track: an event track of `vector.f32;dim=N`. Anything else is E_BAD_REQUEST
 * naming the track, since searching it is a question the track cannot answer.
 */
export function vectorDimension(track: Track): number {
  const name = `${track.timeline}/${track.name}`;
  const modality = parseModality(track.modality);
  const isF32 = modality.segments.length === 2 && modality.segments.join('.') === 'vector.f32';
  if (track.kind !== 'event' || !isF32) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `track ${name} (${track.kind}, ${track.modality}) is not a vector track (an event track of vector.f32;dim=N)`,
    );
  }
  const dim = modality.params.get('dim');
  if (dim === undefined || !/^[1-9][0-9]{0,5}$/.test(dim)) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `track ${name} has modality ${track.modality}: a vector track needs a dim=N parameter, N from 1 to 999999`,
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

/** The query as float32 values, refused (E_BAD_REQUEST) unless it can give a cosine with any vector. */
function queryVector(vector: unknown, dim: number, track: string): { values: Float32Array; norm: number } {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) {
    throw new EngineError('E_BAD_REQUEST', `query vector ${quote(vector)} is not an array of numbers`);
  }
  if (vector.length !== dim) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `query vector has ${vector.length} components; track ${track} holds ${dim}-dimensional vectors`,
    );
  }
  const values = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const x = vector[i] as unknown;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      const shown = typeof x === 'number' ? String(x) : quote(x);
      throw new EngineError('E_BAD_REQUEST', `query vector component ${i} is ${shown}, not a finite number`);
    }
    values[i] = x;
    if (!Number.isFinite(values[i]!))
      throw new EngineError('E_BAD_REQUEST', `query vector component ${i} (${x}) overflows float32`);
  }
  const squares = foldSquares(values);
  if (squares === 0)
    throw new EngineError(
      'E_BAD_REQUEST',
      'query vector is zero (in float32); it has no direction to compare',
    );
  if (!Number.isFinite(squares))
    throw new EngineError('E_BAD_REQUEST', 'query vector is too long: its squared length overflows float32');
  return { values, norm: Math.fround(Math.sqrt(squares)) };
}

/** Sum of squares, float32 left fold. */
function foldSquares(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum = Math.fround(sum + Math.fround(values[i]! * values[i]!));
  return sum;
}

/** The stored vector's bytes: the payload itself, or the `vector` field of a map payload. */
function storedBytes(payload: unknown): Uint8Array | undefined {
  if (payload instanceof Uint8Array) return payload;
  const field =
    payload instanceof Map
      ? payload.get('vector')
      : payload !== null && typeof payload === 'object'
        ? (payload as Record<string, unknown>).vector
        : undefined;
  return field instanceof Uint8Array ? field : undefined;
}

/**
 * Cosine similarity in float32 with every step rounded (Math.fround) and sums folded left to right, so
 * any implementation doing the same IEEE float32 operations in this order gets the same bits.
 * Undefined for a zero stored vector (it has no direction).
 */
function cosine(
  query: Float32Array,
  queryNorm: number,
  bytes: Uint8Array,
  where: string,
): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let dot = 0;
  let squares = 0;
  for (let i = 0; i < query.length; i++) {
    const x = view.getFloat32(i * 4, true);
    if (!Number.isFinite(x)) throw new EngineError('E_FIELD', `${where}: component ${i} is ${x}`);
    dot = Math.fround(dot + Math.fround(query[i]! * x));
    squares = Math.fround(squares + Math.fround(x * x));
  }
  if (squares === 0) return undefined;
  const score = Math.fround(dot / Math.fround(queryNorm * Math.fround(Math.sqrt(squares))));
  if (!Number.isFinite(squares) || !Number.isFinite(score)) {
    throw new EngineError(
      'E_FIELD',
      `${where}: the vector's cosine is not finite in float32 (its squared length is ${squares})`,
    );
  }
  return score;
}

/** a ranks before b: higher score, then earlier tick. */
function before(a: SearchHit, b: SearchHit): boolean {
  return a.score > b.score || (a.score === b.score && a.tick < b.tick);
}

/** The k best hits seen: a binary heap with the worst of them on top. */
class TopK {
  readonly heap: SearchHit[] = [];
  constructor(private readonly k: number) {}

  offer(hit: SearchHit): void {
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push(hit);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(heap[parent]!, heap[i]!)) break;
        [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
        i = parent;
      }
      return;
    }
    if (!before(hit, heap[0]!)) return;
    heap[0] = hit;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && before(heap[worst]!, heap[left]!)) worst = left;
      if (right < heap.length && before(heap[worst]!, heap[right]!)) worst = right;
      if (worst === i) return;
      [heap[worst], heap[i]] = [heap[i]!, heap[worst]!];
      i = worst;
    }
  }
}

/**
 * search (spec 0006 placeholder: exact brute force): the k items of a vector track nearest to a query by
 * cosine similarity, highest first, ties to the earlier tick. An item's payload is either the vector
 * itself (N little-endian float32 as a byte string, see encodeVector) or a map whose `vector` field is
 * that byte string, with any other fields beside it. A zero stored vector has no direction and is
 * skipped; a stored vector of the wrong length or with NaN/Infinity is E_FIELD naming its tick.
 */
export async function search(session: Session, resolved: Resolved, query: SearchQuery): Promise<SearchHit[]> {
  const track = findTrack(resolved.manifest, query.timeline, query.track);
  const name = `${track.timeline}/${track.name}`;
  const dim = vectorDimension(track);
  if (typeof query.k !== 'number' || !Number.isSafeInteger(query.k) || query.k < 1) {
    throw new EngineError('E_BAD_REQUEST', `k ${quote(query.k)} is not a positive integer`);
  }
  const { values, norm } = queryVector(query.vector, dim, name);
  const t0 = query.t0 === undefined ? 0n : assertTick(query.t0, 't0');
  const t1 = query.t1 === undefined ? undefined : assertTick(query.t1, 't1');
  const best = new TopK(query.k);
  // The scan goes through stream: coalesced range reads with the next bytes fetched during the arithmetic.
  const items = stream(session, resolved, {
    timeline: track.timeline,
    tracks: [track.name],
    from: t0,
    ...(t1 !== undefined && { to: t1 }),
  });
  for await (const item of items) {
    const where = `item ${name}@${item.tick}`;
    const bytes = storedBytes(item.payload);
    if (!bytes) {
      throw new EngineError(
        'E_FIELD',
        `${where}: payload ${quote(item.payload)} is neither float32 bytes nor a map with a vector byte string`,
      );
    }
    if (bytes.length !== dim * 4) {
      throw new EngineError(
        'E_FIELD',
        `${where}: vector has ${bytes.length} bytes; track ${name} holds ${dim} float32 values (${dim * 4} bytes)`,
      );
    }
    const score = cosine(values, norm, bytes, where);
    if (score === undefined) continue;
    best.offer({
      timeline: item.timeline,
      track: item.track,
      tick: item.tick,
      duration: item.duration,
      score,
      address: item.address,
      payload: item.payload,
    });
  }
  return best.heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}
