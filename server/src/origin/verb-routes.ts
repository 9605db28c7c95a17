import {
  collect,
  EngineError,
  hybrid,
  type ItemStream,
  isName,
  MAX_TICK,
  MergeConflictError,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  payloadVector,
  RefConflictError,
  type Resolved,
  range,
  read,
  rebase,
  search,
  stream,
  type Tick,
  type Track,
  textSearch,
  vectorDimension,
} from '@dreamdb/engine';
import type {
  CollectDoc,
  HybridDoc,
  ItemsPageDoc,
  ManifestDoc,
  SearchDoc,
  TextDoc,
  TracksDoc,
  WriteDoc,
} from '@dreamdb/engine/api';
import { type Context, Hono } from 'hono';
import {
  countParam,
  genesisOf,
  HASH_HEX,
  HTTP_STATUS,
  IMMUTABLE,
  type OriginContext,
  SHORT,
  selection,
  timeParam,
} from './context.js';
import {
  CBOR_SEQ_TYPE,
  CBOR_TYPE,
  detail,
  encodeAs,
  type Form,
  JSON_TYPE,
  limitBody,
  NDJSON_TYPE,
  OCTETS_TYPE,
  preferred,
  readBody,
  respond,
  UnsupportedType,
} from './negotiate.js';
import {
  conflictDoc,
  hitDoc,
  hybridHitDoc,
  itemDoc,
  manifestDoc,
  textHitDoc,
  trackDoc,
  vectorPlan,
} from './verb-docs.js';
import {
  collectBody,
  hybridBody,
  parsePublish,
  parseWith,
  parseWrite,
  searchBody,
  textBody,
} from './verb-schemas.js';
import { build, checkExpectation, moveRef, stage } from './verb-write.js';

/** Knobs of the verb routes. */
export interface VerbOptions {
  /** Largest request body, in bytes (default 16 MiB); larger ones are 413. */
  readonly maxBodyBytes?: number;
  /** Shortest grace period collect may delete with (default one hour); dry runs take any. */
  readonly minApplyGraceMs?: number;
}

const MiB = 1024 * 1024;
const HOUR_MS = 60 * 60 * 1000;
/** Items per range page when the client gives no limit, and the most it may ask for. */
const RANGE_DEFAULT = 100;
const RANGE_MAX = 10_000;
/** Hashes a collect answer lists (its counts cover all of them). */
const COLLECT_LISTED = 1000;

/**
 * The engine's verbs as routes under /v0/spaces/:space (spec 0006; issue 6): resolve, track listing,
 * read, range, stream, search, text, hybrid, write, publish, collect. Answers are JSON, or deterministic CBOR with
 * `Accept: application/cbor`; errors are JSON {error, message} naming the field or parameter at fault.
 */
export function verbRoutes(origin: OriginContext, options: VerbOptions = {}): Hono {
  const app = new Hono();
  const limit = limitBody(options.maxBodyBytes ?? 16 * MiB);
  const minGrace = options.minApplyGraceMs ?? HOUR_MS;
  app.onError(verbError);

  // resolve: always asks the store (one GET), so a client about to publish sees where the ref is now.
  app.get('/:space/refs/:ref{.+}', async (c) => {
    const { space } = names(c, 'space');
    const ref = c.req.param('ref') as string;
    const resolved = await fresh(origin, space, ref);
    const doc = {
      space,
      ...(!HASH_HEX.test(ref) && { ref }),
      ...manifestDoc(resolved.hash, resolved.manifest),
    } satisfies ManifestDoc<bigint>;
    return respond(c, doc, { 'cache-control': HASH_HEX.test(ref) ? IMMUTABLE : 'no-cache' });
  });

  app.get('/:space/timelines/:timeline/tracks', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const tracks = resolved.manifest.tracks.filter((t) => t.timeline === timeline).map(trackDoc);
    const doc = {
      space,
      timeline,
      manifest: multihashToHex(resolved.hash),
      tracks,
    } satisfies TracksDoc<bigint>;
    return respond(c, doc, cacheOf(ref));
  });

  app.get('/:space/timelines/:timeline/tracks/:track', async (c) => {
    const { space, timeline, track } = names(c, 'space', 'timeline', 'track');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const found = trackOf(resolved, timeline, track);
    return respond(
      c,
      { space, manifest: multihashToHex(resolved.hash), track: trackDoc(found) },
      cacheOf(ref),
    );
  });

  // read: the item covering the tick (stream tracks) or at or before it (event and constant tracks).
  app.get('/:space/timelines/:timeline/tracks/:track/items/:tick', async (c) => {
    const { space, timeline, track } = names(c, 'space', 'timeline', 'track');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const tick = timeParam('tick', c.req.param('tick'), genesisOf(resolved.manifest, timeline))!;
    const kind = trackOf(resolved, timeline, track).kind;
    const item = await read(origin.session(space), resolved, { timeline, track, tick });
    if (!item) throw new EngineError('E_NOT_FOUND', `tick: no item of ${timeline}/${track} at ${tick}`);
    if (preferred(c, [JSON_TYPE, CBOR_TYPE, OCTETS_TYPE]) !== OCTETS_TYPE)
      return respond(c, itemDoc(space, item), cacheOf(ref));
    // Raw bytes: a stream item's fragment, or an event item's payload when it is a byte string.
    const bytes = kind === 'stream' ? item.bytes : item.payload;
    if (!(bytes instanceof Uint8Array))
      return c.json(
        { error: 'E_NOT_ACCEPTABLE', message: `${timeline}/${track}@${item.tick}: its payload is not bytes` },
        406,
      );
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...cacheOf(ref),
      'content-type': OCTETS_TYPE,
      'x-dreamdb-tick': item.tick.toString(),
      'x-dreamdb-duration': item.duration.toString(),
      vary: 'Accept',
    });
  });

  // range: one page of items in (tick, track) order; `next` fetches the page after it.
  app.get('/:space/timelines/:timeline/items', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const s = selection((n) => c.req.query(n), resolved.manifest, timeline);
    const cursor = c.req.query('cursor');
    const page = await range(origin.session(space), resolved, {
      timeline,
      ...(s.tracks && { tracks: s.tracks }),
      t0: s.from ?? 0n,
      t1: s.to ?? MAX_TICK,
      limit: countParam('limit', c.req.query('limit'), RANGE_MAX) ?? RANGE_DEFAULT,
      ...(cursor && { cursor }),
    });
    const next = page.cursor === undefined ? undefined : new URL(c.req.url);
    next?.searchParams.set('cursor', page.cursor!);
    const doc = {
      space,
      timeline,
      manifest: multihashToHex(resolved.hash),
      items: page.items.map((item) => itemDoc(space, item)),
      cursor: page.cursor,
      next: next && `${next.pathname}${next.search}`,
    } satisfies ItemsPageDoc<bigint>;
    return respond(c, doc, cacheOf(ref));
  });

  // stream: every item from `from` on, sent as it is read, one NDJSON line (or CBOR sequence item) each.
  app.get('/:space/timelines/:timeline/stream', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const s = selection((n) => c.req.query(n), resolved.manifest, timeline);
    const most = countParam('limit', c.req.query('limit'), Number.MAX_SAFE_INTEGER);
    const items = stream(origin.session(space), resolved, {
      timeline,
      ...(s.tracks && { tracks: s.tracks }),
      from: s.from ?? 0n,
      ...(s.to !== undefined && { to: s.to }),
    });
    const form: Form =
      preferred(c, [NDJSON_TYPE, CBOR_SEQ_TYPE, CBOR_TYPE]) === NDJSON_TYPE ? 'json' : 'cbor';
    return c.body(records(items, form, space, most ?? Number.POSITIVE_INFINITY), 200, {
      ...cacheOf(ref),
      'content-type': form === 'json' ? NDJSON_TYPE : CBOR_SEQ_TYPE,
      vary: 'Accept',
    });
  });

  // search: the k nearest vectors of a track, by its spatial index (or an exact scan); says which it used.
  app.post('/:space/search', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(searchBody, (await readBody(c)).value);
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

  // write: a batch stored as an unpublished manifest; publish {ref, manifest} then points a ref at it.
  app.post('/:space/write', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWrite(await readBody(c));
    const base =
      body.base === null
        ? undefined
        : await fresh(origin, space, body.base ?? 'main', body.base === undefined);
    const staged = await stage(origin, space, base, body);
    const built = await build(origin, space, staged, body);
    return respond(c, {
      space,
      manifest: multihashToHex(built.hash),
      base: base ? multihashToHex(base.hash) : null,
      parents: staged.parents.map(multihashToHex),
      items: staged.items,
      objectsWritten: built.objectsWritten,
      bytesWritten: built.bytesWritten,
    } satisfies WriteDoc);
  });

  // publish: move a ref by compare-and-swap, to a manifest a write stored or to a batch built here.
  app.post('/:space/publish', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parsePublish(await readBody(c));
    const session = origin.session(space);
    const state = await session.store.readRef(body.ref);
    const previous = state ? multihashToHex(state.manifest) : null;
    const answer = (hash: Multihash, parents: readonly Multihash[], extra: Record<string, unknown>) =>
      respond(c, {
        space,
        ref: body.ref,
        manifest: multihashToHex(hash),
        previous,
        parents: parents.map(multihashToHex),
        ...extra,
      });
    if (body.manifest !== undefined) {
      const hash = multihashFromHex(body.manifest);
      const manifest = await manifestOf(origin, space, hash);
      // Already there (a retry whose answer was lost): nothing to move.
      if (previous === body.manifest && (body.expect === undefined || body.expect === previous))
        return answer(hash, manifest.parents, { moved: false, items: 0, objectsWritten: 0, bytesWritten: 0 });
      checkExpectation(body.ref, state, body.expect, manifest.parents);
      await moveRef(origin, space, body.ref, { hash, manifest }, state);
      return answer(hash, manifest.parents, { moved: true, items: 0, objectsWritten: 0, bytesWritten: 0 });
    }
    const base =
      body.base !== undefined
        ? await fresh(origin, space, body.base)
        : state && { hash: state.manifest, manifest: await session.manifest(state.manifest) };
    const staged = await stage(origin, space, base, body);
    // Refused before anything is stored when the ref is already elsewhere; with `rebase`, the batch is
    // built on its base and merged onto the ref instead (spec 0008 §6), now or if it moves meanwhile.
    if (!body.rebase) checkExpectation(body.ref, state, body.expect, staged.parents);
    const built = await build(origin, space, staged, body);
    try {
      if (body.rebase) checkExpectation(body.ref, state, undefined, staged.parents);
      await moveRef(origin, space, body.ref, built, state);
      return answer(built.hash, staged.parents, {
        moved: true,
        ...(body.rebase && { rebased: false }),
        items: staged.items,
        objectsWritten: built.objectsWritten,
        bytesWritten: built.bytesWritten,
      });
    } catch (error) {
      if (!body.rebase || !(error instanceof RefConflictError)) throw error;
      const rebased = await rebase(session, body.ref, base?.manifest, built.manifest, error, {
        ...(body.author !== undefined && { author: body.author }),
        ...(body.message !== undefined && { message: body.message }),
      });
      return answer(rebased.hash, rebased.manifest.parents, {
        moved: true,
        rebased: true,
        items: staged.items,
        objectsWritten: built.objectsWritten + rebased.objectsWritten,
        bytesWritten: built.bytesWritten,
      });
    }
  });

  // collect: a dry run unless {"apply": true}. Deleting only ever removes objects no ref reaches and older
  // than the grace period, so it cannot change what any version shows; the minimum grace on apply keeps
  // an HTTP client from deleting a concurrent writer's uploads (or a write not yet published).
  app.post('/:space/collect', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(collectBody, (await readBody(c)).value);
    const graceMs = body.grace === undefined ? HOUR_MS : Number(body.grace / 1_000_000n);
    if (body.apply && graceMs < minGrace)
      throw new EngineError(
        'E_BAD_REQUEST',
        `grace: ${graceMs} ms is under ${minGrace} ms, the shortest this origin deletes with (dry runs take any)`,
      );
    const report = await collect(origin.session(space), { graceMs, dryRun: !body.apply });
    return respond(c, {
      space,
      applied: body.apply === true,
      graceMs,
      refs: report.refs,
      manifests: report.manifests,
      reachable: report.reachable,
      scanned: report.scanned,
      unreachable: report.deleted.length,
      bytesFreed: report.bytesFreed,
      keptYoung: report.keptYoung,
      objects: report.deleted.slice(0, COLLECT_LISTED),
      truncated: report.deleted.length > COLLECT_LISTED,
    } satisfies CollectDoc);
  });

  return app;
}

/** Errors of these routes: engine codes by HTTP_STATUS, messages without the code prefix, 409s with the ref's value. */
export function verbError(error: Error, c: Context): Response {
  if (error instanceof UnsupportedType) return c.json({ error: 'E_MEDIA_TYPE', message: error.message }, 415);
  const answer = refusal(error, c.req.param('space') ?? '');
  if (!answer) throw error; // the app's handler logs it and answers 500
  return respond(c, answer.body, {}, answer.status);
}

/**
 * The status and body an engine refusal is answered with (a merge's conflicts, a ref's current value);
 * undefined when the error is not a refusal (it is a 500).
 */
export function refusal(
  error: unknown,
  space: string,
): { status: NonNullable<(typeof HTTP_STATUS)[string]>; body: Record<string, unknown> } | undefined {
  const status = error instanceof EngineError ? HTTP_STATUS[error.code] : undefined;
  if (!status) return undefined;
  const extra =
    error instanceof MergeConflictError
      ? {
          conflicts: error.conflicts.slice(0, CONFLICTS_LISTED).map((x) => conflictDoc(space, x)),
          conflictCount: error.conflicts.length,
        }
      : error instanceof RefConflictError
        ? { current: error.current ? multihashToHex(error.current.manifest) : null }
        : {};
  return { status, body: { error: (error as EngineError).code, message: detail(error as Error), ...extra } };
}

/** Conflicts listed in a 409 answer to a merge (its count covers all). */
const CONFLICTS_LISTED = 100;

/** URL parameters that are names, checked: a bad one (a slash, "..") is a 400 naming it. */
export function names<K extends string>(c: Context, ...keys: K[]): Record<K, string> {
  const params = c.req.param() as Record<string, string>;
  for (const key of keys) {
    if (!isName(params[key]))
      throw new EngineError(
        'E_BAD_REQUEST',
        `${key}: ${JSON.stringify(params[key])} is not a name (1-64 characters of a-z 0-9 . _ -, no "..")`,
      );
  }
  return params;
}

/** Cache-Control: forever for a version named by hash, briefly for one named by a ref. */
const cacheOf = (ref: string) => ({ 'cache-control': HASH_HEX.test(ref) ? IMMUTABLE : SHORT });

/** The version `?ref=` names (default main: a ref name or a manifest hash), which must hold the timeline. */
function version(origin: OriginContext, c: Context, space: string, timeline: string) {
  return versionOf(origin, space, c.req.query('ref') || 'main', timeline);
}

async function versionOf(origin: OriginContext, space: string, ref: string, timeline: string) {
  const { resolved } = await origin.resolveTimeline(space, ref, timeline, 'timeline:');
  return { resolved, ref };
}

/** A ref (read from the store now, not from a cache) or a manifest hash; 404 when absent unless `optional`. */
async function fresh(
  origin: OriginContext,
  space: string,
  ref: string,
  optional: boolean,
): Promise<Resolved | undefined>;
async function fresh(origin: OriginContext, space: string, ref: string): Promise<Resolved>;
async function fresh(origin: OriginContext, space: string, ref: string, optional = false) {
  if (HASH_HEX.test(ref)) {
    const hash = multihashFromHex(ref);
    return { hash, manifest: await manifestOf(origin, space, hash) };
  }
  const resolved = await origin.session(space).resolve(ref, { maxStalenessMs: 0 });
  if (!resolved && !optional) throw new EngineError('E_NOT_FOUND', `space ${space} has no ref ${ref}`);
  return resolved;
}

/** A manifest of the space by hash; a missing one is 404 naming it. */
async function manifestOf(origin: OriginContext, space: string, hash: Multihash) {
  try {
    return await origin.session(space).manifest(hash);
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND')
      throw new EngineError('E_NOT_FOUND', `manifest ${multihashToHex(hash)} is not in space ${space}`);
    throw error;
  }
}

/** The track of a timeline a request names; 404 naming the field (`track` unless told) when absent. */
function trackOf(resolved: Resolved, timeline: string, track: string, field = 'track'): Track {
  const found = resolved.manifest.tracks.find((t) => t.timeline === timeline && t.name === track);
  if (!found) throw new EngineError('E_NOT_FOUND', `${field}: ${track} is not in timeline ${timeline}`);
  return found;
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

/**
 * The stream's items as a byte stream, one record per pull: an item is read from the engine only when the
 * client has taken the previous one (backpressure), so memory stays within the engine's prefetch window.
 * An error after the first byte cannot change the status any more: it ends the stream as a last
 * {error, message} record.
 */
function records(items: ItemStream, form: Form, space: string, most: number): ReadableStream<Uint8Array> {
  const newline = new Uint8Array([0x0a]);
  let sent = 0;
  const encode = (value: unknown) => {
    const bytes = encodeAs(form, value);
    if (form === 'cbor') return bytes;
    const line = new Uint8Array(bytes.length + 1);
    line.set(bytes);
    line.set(newline, bytes.length);
    return line;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = sent < most ? await items.next() : { done: true as const, value: undefined };
          if (next.done) {
            await items.return();
            controller.close();
            return;
          }
          sent++;
          controller.enqueue(encode(itemDoc(space, next.value)));
        } catch (error) {
          const code = error instanceof EngineError ? error.code : 'E_INTERNAL';
          controller.enqueue(encode({ error: code, message: detail(error) }));
          controller.close();
        }
      },
      async cancel() {
        await items.return();
      },
    },
    { highWaterMark: 1 },
  );
}
