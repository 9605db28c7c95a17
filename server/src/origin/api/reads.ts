import { EngineError, MAX_TICK, MULTIHASH_HEX, multihashToHex } from '@dreamdb/engine';
import type { ItemsPageDoc, ManifestDoc, TracksDoc } from '@dreamdb/engine/api';
import { type ItemStream, range, read, stream } from '@dreamdb/engine/query';
import { Hono } from 'hono';
import type { OriginContext } from '../context.js';
import { cacheHeader, IMMUTABLE } from '../http/caching.js';
import { countParam, genesisOf, names, timeParam } from '../http/params.js';
import { selection } from '../playback/selection.js';
import { itemDoc, manifestDoc, trackDoc } from './docs.js';
import { apiError } from './errors.js';
import { fresh, trackOf, version } from './lookup.js';
import {
  CBOR_SEQ_TYPE,
  CBOR_TYPE,
  detail,
  encodeAs,
  type Form,
  JSON_TYPE,
  NDJSON_TYPE,
  OCTETS_TYPE,
  preferred,
  respond,
} from './negotiate.js';

/** Items per range page when the client gives no limit, and the most it may ask for. */
const RANGE_DEFAULT = 100;
const RANGE_MAX = 10_000;

/**
 * The read verbs under /v0/spaces/:space (spec 0006 §4.4): resolve, track listing, read, range and stream.
 * Answers are JSON, or deterministic CBOR with `Accept: application/cbor`.
 */
export function readRoutes(origin: OriginContext): Hono {
  const app = new Hono();
  app.onError(apiError);

  // resolve: always asks the store (one GET), so a client about to publish sees where the ref is now.
  app.get('/:space/refs/:ref{.+}', async (c) => {
    const { space } = names(c, 'space');
    const ref = c.req.param('ref') as string;
    const resolved = await fresh(origin, space, ref);
    const doc = {
      space,
      ...(!MULTIHASH_HEX.test(ref) && { ref }),
      ...manifestDoc(resolved.hash, resolved.manifest),
    } satisfies ManifestDoc<bigint>;
    return respond(c, doc, { 'cache-control': MULTIHASH_HEX.test(ref) ? IMMUTABLE : 'no-cache' });
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
    return respond(c, doc, cacheHeader(ref));
  });

  app.get('/:space/timelines/:timeline/tracks/:track', async (c) => {
    const { space, timeline, track } = names(c, 'space', 'timeline', 'track');
    const { resolved, ref } = await version(origin, c, space, timeline);
    const found = trackOf(resolved, timeline, track);
    return respond(
      c,
      { space, manifest: multihashToHex(resolved.hash), track: trackDoc(found) },
      cacheHeader(ref),
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
      return respond(c, itemDoc(space, item), cacheHeader(ref));
    // Raw bytes: a stream item's fragment, or an event item's payload when it is a byte string.
    const bytes = kind === 'stream' ? item.bytes : item.payload;
    if (!(bytes instanceof Uint8Array))
      return c.json(
        { error: 'E_NOT_ACCEPTABLE', message: `${timeline}/${track}@${item.tick}: its payload is not bytes` },
        406,
      );
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      ...cacheHeader(ref),
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
    return respond(c, doc, cacheHeader(ref));
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
      ...cacheHeader(ref),
      'content-type': form === 'json' ? NDJSON_TYPE : CBOR_SEQ_TYPE,
      vary: 'Accept',
    });
  });

  return app;
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
