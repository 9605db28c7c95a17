import { parseModality } from '../address/modality.js';
import { EngineError, quote } from '../errors.js';
import type { TextMatch } from '../indexes/text/search.js';
import { payloadField } from '../model/item.js';
import type { Track } from '../model/track.js';
import { findTrack, type Resolved, type Session } from '../session/session.js';
import { assertTick, type Tick } from '../time/ticks.js';
import { payloadVector, vectorTrackDimension } from '../vectors/payload.js';
import { read } from './read.js';
import { search } from './search.js';
import { stream } from './stream.js';
import { textSearch } from './text-search.js';

/** Reciprocal rank fusion constant (Cormack et al. 2009): a hit ranked r adds weight / (RRF_K + r). */
export const RRF_K = 60;

/** One request of the hybrid verb (spec 0015 §6): a text query, a vector query, or both, with filters. */
export interface HybridQuery {
  readonly timeline: string;
  /** BM25 query (terms, "phrases", -exclusions) over text-indexed tracks. */
  readonly text?: string;
  /** Tracks the text query searches (default: every text-indexed track of the timeline). */
  readonly textTracks?: readonly string[];
  /** Query vector for `vectorTrack`. */
  readonly vector?: Float32Array | readonly number[];
  /** "More like this": the vector of the item of `vectorTrack` at or before this tick is the query. */
  readonly like?: Tick;
  /** The vector track (default: the timeline's only vector track). */
  readonly vectorTrack?: string;
  readonly k: number;
  readonly t0?: Tick;
  readonly t1?: Tick;
  /** Keep only moments inside an item of an event track whose `label` is one of these. */
  readonly labels?: readonly string[];
  /** RRF constant (default 60) and per-query weights (default 1 each). */
  readonly rrfK?: number;
  readonly weights?: { readonly text?: number; readonly vector?: number };
  /** Hits each sub-query contributes to the fusion (default max(50, 4·k)). */
  readonly depth?: number;
  /** Vector sub-query options (see search). */
  readonly exact?: boolean;
  readonly probes?: number;
  readonly rerank?: number;
}

/** Why a hybrid hit matched: its rank and score in each sub-query that found it. */
export interface HybridMatches {
  readonly text?: { readonly rank: number; readonly score: number; readonly terms: readonly TextMatch[] };
  readonly vector?: {
    readonly rank: number;
    readonly score: number;
    readonly track: string;
    readonly tick: Tick;
  };
}

/** A fused hit: a moment (the item that anchors it), its RRF score and what matched. */
export interface HybridHit {
  readonly timeline: string;
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly score: number;
  readonly matched: HybridMatches;
}

/** Spans [start, end) of the items of a timeline's event tracks whose label is one of `labels`. */
async function labelSpans(
  session: Session,
  resolved: Resolved,
  query: HybridQuery,
  labels: readonly string[],
): Promise<[Tick, Tick][]> {
  const wanted = new Set(labels);
  // Labels live on event.* tracks (annotations, detections); vectors and captions are not read for them.
  const tracks = resolved.manifest.tracks.filter(
    (t) =>
      t.timeline === query.timeline &&
      t.kind === 'event' &&
      parseModality(t.modality).segments[0] === 'event',
  );
  const spans: [Tick, Tick][] = [];
  if (tracks.length === 0) return spans;
  const items = stream(session, resolved, {
    timeline: query.timeline,
    tracks: tracks.map((t) => t.name),
    from: 0n,
    ...(query.t1 !== undefined && { to: query.t1 }),
  });
  for await (const item of items) {
    const label = labelOf(item.payload);
    if (label !== undefined && wanted.has(label))
      spans.push([item.tick, item.tick + (item.duration > 0n ? item.duration : 1n)]);
  }
  return spans.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function labelOf(payload: unknown): string | undefined {
  const label = payloadField(payload, 'label');
  return typeof label === 'string' ? label : undefined;
}

/** True when tick lies in one of the sorted spans. */
function inSpans(spans: readonly [Tick, Tick][], tick: Tick): boolean {
  for (const [start, end] of spans) {
    if (start > tick) return false;
    if (tick < end) return true;
  }
  return false;
}

/** The vector track of a hybrid query: the one named, or the timeline's only vector track. */
function vectorTrackOf(resolved: Resolved, query: HybridQuery): Track {
  if (query.vectorTrack !== undefined) return findTrack(resolved.manifest, query.timeline, query.vectorTrack);
  const vectors = resolved.manifest.tracks.filter(
    (t) => t.timeline === query.timeline && vectorTrackDimension(t) !== undefined,
  );
  if (vectors.length !== 1)
    throw new EngineError(
      'E_BAD_REQUEST',
      `timeline ${query.timeline} has ${vectors.length} vector tracks (${vectors.map((t) => t.name).join(', ') || 'none'}): name one as vectorTrack`,
    );
  return vectors[0]!;
}

/**
 * hybrid (spec 0015 §6): a text query and a vector query ("like" an item, or a vector) over one timeline,
 * each run to `depth` hits inside the window and label filter, fused by reciprocal rank. Hits are
 * moments: a vector hit whose tick lies inside a text hit's span (a caption being spoken while the
 * frame is on screen) joins that text hit, which then scores by both ranks; other hits stand alone.
 * Highest score first; ties to the earlier tick, then the track name.
 */
export async function hybrid(session: Session, resolved: Resolved, query: HybridQuery): Promise<HybridHit[]> {
  const k = query.k;
  if (!Number.isSafeInteger(k) || k < 1 || k > 1000)
    throw new EngineError('E_BAD_REQUEST', `k ${quote(k)} must be an integer from 1 to 1000`);
  const depth = query.depth ?? Math.max(50, 4 * k);
  if (!Number.isSafeInteger(depth) || depth < k || depth > 10_000)
    throw new EngineError('E_BAD_REQUEST', `depth ${quote(depth)} must be an integer from k (${k}) to 10000`);
  const rrfK = query.rrfK ?? RRF_K;
  if (typeof rrfK !== 'number' || !(rrfK >= 0) || !Number.isFinite(rrfK))
    throw new EngineError('E_BAD_REQUEST', `rrfK ${quote(rrfK)} must be a finite number >= 0`);
  const weight = (name: 'text' | 'vector') => {
    const w = query.weights?.[name] ?? 1;
    if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w))
      throw new EngineError('E_BAD_REQUEST', `weights.${name} ${quote(w)} must be a finite number >= 0`);
    return w;
  };
  const text = query.text;
  const wantsVector = query.vector !== undefined || query.like !== undefined;
  if (text === undefined && !wantsVector)
    throw new EngineError(
      'E_BAD_REQUEST',
      'a hybrid query needs text, a vector or like (an item to find more of)',
    );
  if (query.vector !== undefined && query.like !== undefined)
    throw new EngineError('E_BAD_REQUEST', 'give vector or like, not both');
  const t0 = query.t0 === undefined ? undefined : assertTick(query.t0, 't0');
  const t1 = query.t1 === undefined ? undefined : assertTick(query.t1, 't1');
  if (
    query.labels !== undefined &&
    (!Array.isArray(query.labels) || query.labels.some((l) => typeof l !== 'string'))
  )
    throw new EngineError('E_BAD_REQUEST', `labels ${quote(query.labels)} must be a list of strings`);
  const spans = query.labels ? await labelSpans(session, resolved, query, query.labels) : undefined;
  const keep = (tick: Tick) => !spans || inSpans(spans, tick);

  const textHits =
    text === undefined
      ? []
      : await textSearch(session, resolved, {
          timeline: query.timeline,
          query: text,
          k: depth,
          ...(query.textTracks && { tracks: query.textTracks }),
          ...(t0 !== undefined && { t0 }),
          ...(t1 !== undefined && { t1 }),
          ...(spans && { filter: (doc) => keep(doc.tick) }),
        });

  let vectorHits: { track: string; tick: Tick; duration: Tick; score: number }[] = [];
  if (wantsVector) {
    const track = vectorTrackOf(resolved, query);
    const dim = vectorTrackDimension(track);
    if (dim === undefined)
      throw new EngineError('E_BAD_REQUEST', `track ${query.timeline}/${track.name} is not a vector track`);
    let vector = query.vector;
    if (query.like !== undefined) {
      const item = await read(session, resolved, {
        timeline: query.timeline,
        track: track.name,
        tick: assertTick(query.like, 'like'),
      });
      if (!item)
        throw new EngineError(
          'E_NOT_FOUND',
          `track ${query.timeline}/${track.name} has no item at or before tick ${query.like}`,
        );
      vector = payloadVector(item.payload, dim, `item ${query.timeline}/${track.name}@${item.tick}`);
    }
    // A label filter is applied after the search: ask for more until enough pass it (or all were seen).
    for (let ask = depth; ; ask *= 4) {
      const found = await search(session, resolved, {
        timeline: query.timeline,
        track: track.name,
        vector: vector!,
        k: ask,
        ...(t0 !== undefined && { t0 }),
        ...(t1 !== undefined && { t1 }),
        ...(query.exact !== undefined && { exact: query.exact }),
        ...(query.probes !== undefined && { probes: query.probes }),
        ...(query.rerank !== undefined && { rerank: Math.max(query.rerank, ask) }),
      });
      vectorHits = found.filter((h) => keep(h.tick)).slice(0, depth);
      if (vectorHits.length >= depth || found.length < ask || !spans) break;
    }
  }
  return fuseMoments(query.timeline, textHits, vectorHits, {
    rrfK,
    text: weight('text'),
    vector: weight('vector'),
  }).slice(0, k);
}

interface Fused {
  timeline: string;
  track: string;
  tick: Tick;
  duration: Tick;
  score: number;
  matched: { text?: NonNullable<HybridMatches['text']>; vector?: NonNullable<HybridMatches['vector']> };
}

/** Reciprocal rank fusion of the two ranked lists into moments (spec 0015 §10; see hybrid). */
export function fuseMoments(
  timeline: string,
  textHits: readonly {
    track: string;
    tick: Tick;
    duration: Tick;
    score: number;
    matches: readonly TextMatch[];
  }[],
  vectorHits: readonly { track: string; tick: Tick; duration: Tick; score: number }[],
  w: { rrfK: number; text: number; vector: number },
): HybridHit[] {
  const moments: Fused[] = textHits.map((h, i) => ({
    timeline,
    track: h.track,
    tick: h.tick,
    duration: h.duration,
    score: w.text / (w.rrfK + i + 1),
    matched: { text: { rank: i + 1, score: h.score, terms: h.matches } },
  }));
  vectorHits.forEach((h, i) => {
    const rank = i + 1;
    const vector = { rank, score: h.score, track: h.track, tick: h.tick };
    // The best-ranked text moment whose span holds the frame, and that has no vector match yet.
    const home = moments.find(
      (m) =>
        m.matched.text &&
        !m.matched.vector &&
        h.tick >= m.tick &&
        h.tick < m.tick + (m.duration > 0n ? m.duration : 1n),
    );
    if (home) {
      home.matched.vector = vector;
      home.score += w.vector / (w.rrfK + rank);
    } else
      moments.push({
        timeline,
        track: h.track,
        tick: h.tick,
        duration: h.duration,
        score: w.vector / (w.rrfK + rank),
        matched: { vector },
      });
  });
  return moments.sort(
    (a, b) =>
      b.score - a.score ||
      (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : a.track < b.track ? -1 : a.track > b.track ? 1 : 0),
  );
}
