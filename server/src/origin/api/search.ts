import {
  EngineError,
  multihashFromHex,
  multihashToHex,
  payloadVector,
  type Tick,
  type Track,
} from '@dreamdb/engine';
import type { HybridDoc, SearchDoc, TextDoc } from '@dreamdb/engine/api';
import { hybrid, read, search, textSearch, vectorDimension } from '@dreamdb/engine/query';
import type { Resolved } from '@dreamdb/engine/store';
import { Hono, type MiddlewareHandler } from 'hono';
import { allowRefs } from '../access/middleware.js';
import type { OriginContext } from '../context.js';
import { names } from '../http/params.js';
import { hitDoc, hybridHitDoc, textHitDoc, vectorPlan } from './docs.js';
import { apiError } from './errors.js';
import { trackOf, versionOf } from './lookup.js';
import { detail, readBody, respond } from './negotiate.js';
import { hybridBody, parseWith, searchBody, textBody } from './schemas.js';

/**
 * The query verbs under /v0/spaces/:space (spec 0006 §4.4, 0015 §10): search (k nearest vectors), text
 * (BM25) and hybrid (both, fused). Refusals name the body field they concern.
 */
export function searchRoutes(origin: OriginContext, limit: MiddlewareHandler): Hono {
  const app = new Hono();
  app.onError(apiError);

  // search: the k nearest vectors of a track, by its spatial index (or an exact scan); says which it used.
  app.post('/:space/search', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(searchBody, (await readBody(c)).value);
    allowRefs(c, 'read', body.ref ?? 'main');
    const { resolved } = await versionOf(origin, space, body.ref ?? 'main', body.timeline);
    const track = trackOf(resolved, body.timeline, body.track);
    checkWindow(body.from, body.to);
    const session = origin.session(space);
    const dim = await fieldOf(SEARCH_FIELDS, async () => vectorDimension(track));
    const vector = body.vector ?? (await likeVector(origin, space, resolved, track, dim, body.like!));
    const hits = await fieldOf(SEARCH_FIELDS, () =>
      search(session, resolved, {
        timeline: body.timeline,
        track: body.track,
        vector,
        k: body.k ?? 10,
        ...(body.from !== undefined && { t0: body.from }),
        ...(body.to !== undefined && { t1: body.to }),
        ...(body.exact !== undefined && { exact: body.exact }),
        ...(body.probes !== undefined && { probes: body.probes }),
        ...(body.rerank !== undefined && { rerank: body.rerank }),
        ...(body.index !== undefined && { index: multihashFromHex(body.index) }),
      }),
    );
    return respond(c, {
      space,
      manifest: multihashToHex(resolved.hash),
      ...vectorPlan(track, body),
      hits: hits.map((hit) => hitDoc(space, hit)),
    } satisfies SearchDoc<bigint>);
  });

  // text: BM25 over the text indexes of a timeline's tracks (captions, annotations), best first.
  app.post('/:space/text', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(textBody, (await readBody(c)).value);
    allowRefs(c, 'read', body.ref ?? 'main');
    const { resolved } = await versionOf(origin, space, body.ref ?? 'main', body.timeline);
    for (const [i, name] of (body.tracks ?? []).entries())
      trackOf(resolved, body.timeline, name, `tracks[${i}]`);
    checkWindow(body.from, body.to);
    const hits = await fieldOf(TEXT_FIELDS, () =>
      textSearch(origin.session(space), resolved, {
        timeline: body.timeline,
        query: body.query,
        k: body.k ?? 10,
        ...(body.tracks && { tracks: body.tracks }),
        ...(body.from !== undefined && { t0: body.from }),
        ...(body.to !== undefined && { t1: body.to }),
      }),
    );
    const manifest = multihashToHex(resolved.hash);
    return respond(c, {
      space,
      timeline: body.timeline,
      manifest,
      hits: hits.map((hit) => textHitDoc(space, manifest, body.timeline, hit)),
    } satisfies TextDoc<bigint>);
  });

  // hybrid: text and vector (or like an item) queries fused by reciprocal rank into moments.
  app.post('/:space/hybrid', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(hybridBody, (await readBody(c)).value);
    allowRefs(c, 'read', body.ref ?? 'main');
    const { resolved } = await versionOf(origin, space, body.ref ?? 'main', body.timeline);
    for (const [i, name] of (body.textTracks ?? []).entries())
      trackOf(resolved, body.timeline, name, `textTracks[${i}]`);
    // The vector half: its track (named, or the timeline's only vector track) and its query vector.
    const wantsVector = body.vector !== undefined || body.like !== undefined;
    const vectorTrack = wantsVector ? vectorTrackOf(resolved, body.timeline, body.vectorTrack) : undefined;
    const dim =
      vectorTrack && (await fieldOf([[/./, 'vectorTrack']], async () => vectorDimension(vectorTrack)));
    const vector =
      body.like !== undefined
        ? await likeVector(origin, space, resolved, vectorTrack!, dim!, body.like)
        : body.vector;
    checkWindow(body.from, body.to);
    const hits = await fieldOf(HYBRID_FIELDS, () =>
      hybrid(origin.session(space), resolved, {
        timeline: body.timeline,
        k: body.k ?? 10,
        ...(body.text !== undefined && { text: body.text }),
        ...(body.textTracks && { textTracks: body.textTracks }),
        ...(vector !== undefined && { vector, vectorTrack: vectorTrack!.name }),
        ...(body.from !== undefined && { t0: body.from }),
        ...(body.to !== undefined && { t1: body.to }),
        ...(body.labels && { labels: body.labels }),
        ...(body.rrfK !== undefined && { rrfK: body.rrfK }),
        ...(body.weights && {
          weights: {
            ...(body.weights.text !== undefined && { text: body.weights.text }),
            ...(body.weights.vector !== undefined && { vector: body.weights.vector }),
          },
        }),
        ...(body.depth !== undefined && { depth: body.depth }),
        ...(body.exact !== undefined && { exact: body.exact }),
        ...(body.probes !== undefined && { probes: body.probes }),
        ...(body.rerank !== undefined && { rerank: body.rerank }),
      }),
    );
    const manifest = multihashToHex(resolved.hash);
    return respond(c, {
      space,
      timeline: body.timeline,
      manifest,
      // How the vector half's hits were found: the track's spatial index, or an exact scan.
      ...(vectorTrack && { vector: { track: vectorTrack.name, ...vectorPlan(vectorTrack, body) } }),
      hits: hits.map((hit) => hybridHitDoc(space, manifest, hit)),
    } satisfies HybridDoc<bigint>);
  });

  return app;
}

/** The vector track of a hybrid query: the one named, or the timeline's only vector track. */
function vectorTrackOf(resolved: Resolved, timeline: string, name: string | undefined): Track {
  if (name !== undefined) return trackOf(resolved, timeline, name, 'vectorTrack');
  const vectors = resolved.manifest.tracks.filter((t) => t.timeline === timeline && isVectorTrack(t));
  if (vectors.length !== 1)
    throw new EngineError(
      'E_BAD_REQUEST',
      `vectorTrack: timeline ${timeline} has ${vectors.length} vector tracks (${vectors.map((t) => t.name).join(', ') || 'none'}): name one`,
    );
  return vectors[0]!;
}

function isVectorTrack(track: Track): boolean {
  try {
    vectorDimension(track);
    return true;
  } catch {
    return false;
  }
}

/** A window [from, to) of a query body: empty ones are refused naming `to`. */
function checkWindow(from: Tick | undefined, to: Tick | undefined): void {
  if (from !== undefined && to !== undefined && to <= from)
    throw new EngineError('E_BAD_REQUEST', `to: ${to} must be after from (${from})`);
}

/** The query vector of `like`: the vector of the track's item at (or before) that tick. */
async function likeVector(
  origin: OriginContext,
  space: string,
  resolved: Resolved,
  track: Track,
  dim: number,
  tick: Tick,
): Promise<Float32Array> {
  const name = `${track.timeline}/${track.name}`;
  const item = await read(origin.session(space), resolved, {
    timeline: track.timeline,
    track: track.name,
    tick,
  });
  if (!item) throw new EngineError('E_NOT_FOUND', `like: no item of ${name} at or before ${tick}`);
  try {
    return payloadVector(item.payload, dim, `like: item ${name}@${item.tick}`);
  } catch (error) {
    // The stored item is no vector: the request's `like` points at something search cannot use.
    if (error instanceof EngineError) throw new EngineError('E_BAD_REQUEST', detail(error));
    throw error;
  }
}

/** How engine refusals of a query map to the body field they concern: first matching message wins. */
type FieldRules = readonly (readonly [RegExp, string])[];

const VECTOR_FIELDS: FieldRules = [
  [/^query vector/, 'vector'],
  [/^probes |probes and rerank do not apply/, 'probes'],
  [/^rerank /, 'rerank'],
];
const SEARCH_FIELDS: FieldRules = [...VECTOR_FIELDS, [/^k /, 'k'], [/./, 'track']];
const TEXT_FIELDS: FieldRules = [
  [/^text query /, 'query'],
  [/^(text search )?k /, 'k'],
  [/has no text index/, 'tracks'],
  [/./, 'query'],
];
const HYBRID_FIELDS: FieldRules = [
  ...VECTOR_FIELDS,
  [/^text query /, 'text'],
  [/has no text index/, 'textTracks'],
  [/^(text search )?k /, 'k'],
  [/^depth /, 'depth'],
  [/^rrfK /, 'rrfK'],
  [/^weights\.text /, 'weights.text'],
  [/^weights\.vector /, 'weights.vector'],
  [/^labels /, 'labels'],
  [/is not a vector track/, 'vectorTrack'],
  [/./, 'body'],
];

/**
 * Run a query; the engine's refusals of it (400s) are worded at the body field they concern, and a
 * lineage mismatch (409) at `index`.
 */
async function fieldOf<T>(rules: FieldRules, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    const message = detail(error);
    if (error.code === 'E_LINEAGE') throw new EngineError('E_LINEAGE', `index: ${message}`);
    if (error.code !== 'E_BAD_REQUEST') throw error;
    const field = rules.find(([pattern]) => pattern.test(message))?.[1] ?? 'body';
    throw new EngineError(error.code, `${field}: ${message}`);
  }
}
