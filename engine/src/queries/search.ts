import { type Multihash, multihashToHex } from '../address/multihash.js';
import type { Address } from '../address/uri.js';
import { EngineError, quote } from '../errors.js';
import '../indexes/builtin.js';
import type { VectorIndexReader } from '../indexes/kind.js';
import { openIndex, roleIndex } from '../indexes/track-indexes.js';
import type { Track } from '../model/track.js';
import { findTrack, type Resolved, type Session } from '../session/session.js';
import { assertTick, type Tick } from '../time/ticks.js';
import { cosineAt, foldNorm, foldSquares } from '../vectors/cosine.js';
import { payloadVector, storedVectorBytes, vectorTrackDimension } from '../vectors/payload.js';
import { itemBytes, seekEntry, toItem } from './read.js';
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
  /** Scan every vector instead of using the track's spatial index (the exact answer; slow on big tracks). */
  readonly exact?: boolean;
  /** Index lookups per table, 1..bits+1 (default: the index's own `probes`). */
  readonly probes?: number;
  /** Candidates re-ranked exactly, best approximate cosine first (default max(300, 30·k); 0004 §6.3). */
  readonly rerank?: number;
  /**
   * The lineage (SpatialIndex hash) the caller's vectors or cached results assume: a track indexed under
   * another one is refused (E_LINEAGE) rather than answered with keys that mean something else.
   */
  readonly index?: Multihash;
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
  const dim = vectorTrackDimension(track);
  if (dim === undefined) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `track ${track.timeline}/${track.name} (${track.kind}, ${track.modality}) is not a vector track (an event track of vector.f32;dim=N)`,
    );
  }
  return dim;
}

export { encodeVector } from '../vectors/payload.js';

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
  return { values, norm: foldNorm(squares) };
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
 * The indexed path (spec 0004 §6.3, 0013): the track's vector index (loaded once per session) finds the
 * nearest items inside the window; then each hit's item from the time index, so a hit carries the same
 * address and payload as a read of its tick.
 */
async function indexedSearch(
  session: Session,
  track: Track,
  scheme: string,
  values: Float32Array,
  norm: number,
  query: SearchQuery,
  t0: Tick,
  t1: Tick | undefined,
): Promise<SearchHit[]> {
  if (query.rerank !== undefined && !(Number.isSafeInteger(query.rerank) && query.rerank >= query.k))
    throw new EngineError(
      'E_BAD_REQUEST',
      `rerank ${quote(query.rerank)} must be an integer of at least k (${query.k})`,
    );
  const index = await openIndex<VectorIndexReader>(session, track, scheme);
  const found = await index.nearest(values, {
    k: query.k,
    from: t0,
    ...(t1 !== undefined && { to: t1 }),
    ...(query.probes !== undefined && { probes: query.probes }),
    ...(query.rerank !== undefined && { rerank: query.rerank }),
  });
  const hits = await Promise.all(
    found.map(async ({ tick }) => {
      const entry = await seekEntry(session, track, tick);
      if (!entry || entry.tick !== tick)
        throw new EngineError(
          'E_FIELD',
          `track ${track.timeline}/${track.name}: its ${scheme} index names tick ${tick}, which the time index lacks`,
        );
      const item = toItem(
        session.store.space,
        track,
        entry,
        await itemBytes(session, await session.store.getRange(entry.object, entry)),
      );
      // The score an exact scan gives the item, bit for bit, whatever arithmetic the index ranked by.
      const row = payloadVector(item.payload, values.length, `item ${track.timeline}/${track.name}@${tick}`);
      return {
        timeline: item.timeline,
        track: item.track,
        tick,
        duration: item.duration,
        score: cosineAt(values, norm, row, 0, foldNorm(foldSquares(row))),
        address: item.address,
        payload: item.payload,
      };
    }),
  );
  return hits.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
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
  const vector = roleIndex(track, 'vector');
  if (query.index !== undefined) {
    const lineage = vector?.kind.lineage?.(vector.params);
    const have = lineage ? multihashToHex(lineage) : 'none';
    if (have !== multihashToHex(query.index))
      throw new EngineError(
        'E_LINEAGE',
        `track ${name} is indexed under spatial index ${have}, not ${multihashToHex(query.index)}: results would not be comparable`,
      );
  }
  if (vector && vector.record.segments.length > 0 && !query.exact) {
    return indexedSearch(session, track, vector.scheme, values, norm, query, t0, t1);
  }
  if (query.probes !== undefined || query.rerank !== undefined) {
    if (!query.exact && !vector)
      throw new EngineError(
        'E_BAD_REQUEST',
        `track ${name} has no vector index: probes and rerank do not apply`,
      );
  }
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
    const bytes = storedVectorBytes(item.payload);
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
    const row = new Float32Array(dim);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < dim; i++) {
      row[i] = view.getFloat32(i * 4, true);
      if (!Number.isFinite(row[i]!))
        throw new EngineError('E_FIELD', `${where}: component ${i} is ${row[i]}`);
    }
    const squares = foldSquares(row);
    if (squares === 0) continue; // no direction (written before writes refused zero vectors)
    if (!Number.isFinite(squares))
      throw new EngineError('E_FIELD', `${where}: the vector's squared length overflows float32`);
    const score = cosineAt(values, norm, row, 0, foldNorm(squares));
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
