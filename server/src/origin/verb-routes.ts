import {
  collect,
  EngineError,
  type ItemStream,
  isName,
  MAX_TICK,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  RefConflictError,
  type Resolved,
  range,
  read,
  search,
  stream,
} from '@dreamdb/engine';
import { type Context, Hono } from 'hono';
import {
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
import { hitDoc, itemDoc, manifestDoc, trackDoc } from './verb-docs.js';
import { collectBody, parsePublish, parseWith, parseWrite, searchBody } from './verb-schemas.js';
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
 * read, range, stream, search, write, publish, collect. Answers are JSON, or deterministic CBOR with
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
    };
    return respond(c, doc, { 'cache-control': HASH_HEX.test(ref) ? IMMUTABLE : 'no-cache' });
  });

  app.get('/:space/timelines/:timeline/tracks', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const tracks = resolved.manifest.tracks.filter((t) => t.timeline === timeline).map(trackDoc);
    const doc = { space, timeline, manifest: multihashToHex(resolved.hash), tracks };
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
    const tick = timeParam('tick', c.req.param('tick'))!;
    const { resolved, ref } = await version(origin, c, space, timeline);
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
    };
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

  app.post('/:space/search', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(searchBody, (await readBody(c)).value);
    const { resolved } = await versionOf(origin, space, body.ref ?? 'main', body.timeline);
    trackOf(resolved, body.timeline, body.track);
    if (body.from !== undefined && body.to !== undefined && body.to <= body.from)
      throw new EngineError('E_BAD_REQUEST', `to: ${body.to} must be after from (${body.from})`);
    const session = origin.session(space);
    const vector =
      body.vector ?? (await likeVector(origin, space, resolved, body.timeline, body.track, body.like!));
    const hits = await fieldOf(() =>
      search(session, resolved, {
        timeline: body.timeline,
        track: body.track,
        vector,
        k: body.k ?? 10,
        ...(body.from !== undefined && { t0: body.from }),
        ...(body.to !== undefined && { t1: body.to }),
      }),
    );
    return respond(c, {
      space,
      manifest: multihashToHex(resolved.hash),
      hits: hits.map((hit) => hitDoc(space, hit)),
    });
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
    });
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
    // Refused before anything is stored when the ref is already elsewhere.
    checkExpectation(body.ref, state, body.expect, staged.parents);
    const built = await build(origin, space, staged, body);
    await moveRef(origin, space, body.ref, built, state);
    return answer(built.hash, staged.parents, {
      moved: true,
      items: staged.items,
      objectsWritten: built.objectsWritten,
      bytesWritten: built.bytesWritten,
    });
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
    });
  });

  return app;
}

/** Errors of these routes: engine codes by HTTP_STATUS, messages without the code prefix, 409s with the ref's value. */
function verbError(error: Error, c: Context): Response {
  if (error instanceof UnsupportedType) return c.json({ error: 'E_MEDIA_TYPE', message: error.message }, 415);
  const status = error instanceof EngineError ? HTTP_STATUS[error.code] : undefined;
  if (!status) throw error; // the app's handler logs it and answers 500
  const conflict = error instanceof RefConflictError;
  const current = conflict && error.current ? multihashToHex(error.current.manifest) : null;
  return c.json(
    { error: (error as EngineError).code, message: detail(error), ...(conflict && { current }) },
    status,
  );
}

/** URL parameters that are names, checked: a bad one (a slash, "..") is a 400 naming it. */
function names<K extends string>(c: Context, ...keys: K[]): Record<K, string> {
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

function trackOf(resolved: Resolved, timeline: string, track: string) {
  const found = resolved.manifest.tracks.find((t) => t.timeline === timeline && t.name === track);
  if (!found) throw new EngineError('E_NOT_FOUND', `track: ${track} is not in timeline ${timeline}`);
  return found;
}

/** A count query parameter (1..max), undefined when absent. */
function countParam(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || n > max)
    throw new EngineError(
      'E_BAD_REQUEST',
      `${name}: ${JSON.stringify(text)} is not a count from 1 to ${max}`,
    );
  return n;
}

/** The query vector of `like`: the vector of the track's item at that tick. */
async function likeVector(
  origin: OriginContext,
  space: string,
  resolved: Resolved,
  timeline: string,
  track: string,
  tick: bigint,
): Promise<Float32Array> {
  const item = await read(origin.session(space), resolved, { timeline, track, tick });
  const payload = item?.payload;
  const bytes =
    payload instanceof Uint8Array ? payload : (payload as { vector?: unknown } | undefined)?.vector;
  if (!(bytes instanceof Uint8Array) || bytes.length % 4 !== 0)
    throw new EngineError('E_NOT_FOUND', `like: no vector item of ${timeline}/${track} at ${tick}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Run a search; its refusals of the query are worded at the body field they concern. */
async function fieldOf<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof EngineError) || error.code !== 'E_BAD_REQUEST') throw error;
    const field = /query vector/.test(error.message)
      ? 'vector'
      : /^E_BAD_REQUEST: k /.test(error.message)
        ? 'k'
        : 'track';
    throw new EngineError('E_BAD_REQUEST', `${field}: ${detail(error)}`);
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
