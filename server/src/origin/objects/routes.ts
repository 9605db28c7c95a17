import { EngineError, MULTIHASH_HEX, multihashFromHex } from '@dreamdb/engine';
import { ERASURE_STALENESS_MS, objectKey, overlaps, parseRangeHeader } from '@dreamdb/engine/store';
import { Hono } from 'hono';
import { IMMUTABLE } from '../http/caching.js';
import type { ByteCache } from './byte-cache.js';
import type { Erasures } from './erasures.js';

/** Media extensions an object URL may carry (players want one on segment URLs); the hash names the bytes. */
const EXTENSION = /\.(mp4|m4s|cmfv|cmfa|jpg)$/;

/** Bytes of a whole-object response are sent in chunks of this size, never held whole. */
const CHUNK = 4 * 1024 * 1024;

/**
 * GET /objects/:space/:hash: content-addressed bytes with single Range support (206, 416), a strong
 * ETag equal to the hash, and immutable caching. Ranges come through the read-ahead cache.
 */
export function objectRoutes(cache: ByteCache, erasures: Erasures): Hono {
  const app = new Hono();
  app.on(['GET', 'HEAD'], '/:space/:hash', async (c) => {
    const { space } = c.req.param();
    const hash = c.req.param('hash').replace(EXTENSION, '');
    if (!MULTIHASH_HEX.test(hash))
      throw new EngineError('E_MULTIHASH', `${hash} is not a BLAKE3 multihash in hex`);
    const etag = `"${hash}"`;
    const headers: Record<string, string> = {
      etag,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      'content-type': contentType(c.req.param('hash')),
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    let key = objectKey(space, multihashFromHex(hash));
    // Erased (spec 0020 §7): the bytes not erased are read from what took the object's place. The
    // registry is read again at most every ERASURE_STALENESS_MS, and after any 404.
    let erasure = (await erasures.of(space, ERASURE_STALENESS_MS)).get(hash);
    let size: number;
    try {
      if (erasure?.replacement) key = objectKey(space, erasure.replacement);
      else if (erasure) throw new EngineError('E_ERASED', `${hash}: erased (spec 0020 §7)`);
      size = await cache.size(key);
    } catch (error) {
      if (erasure || !(error instanceof EngineError && error.code === 'E_NOT_FOUND')) throw error;
      erasure = (await erasures.of(space, 0)).get(hash);
      if (!erasure) throw error;
      if (!erasure.replacement) throw new EngineError('E_ERASED', `${hash}: erased (spec 0020 §7)`);
      key = objectKey(space, erasure.replacement);
      size = await cache.size(key);
    }
    const range = c.req.header('range');
    if (erasure && !range)
      throw new EngineError(
        'E_ERASED',
        `${hash}: items of this object were erased; ask for a range of the others`,
      );
    // If-Range with another validator: the client's partial copy is of other bytes, so send them whole.
    const ifRange = c.req.header('if-range');
    if (!range || (ifRange !== undefined && ifRange !== etag)) {
      headers['content-length'] = String(size);
      if (c.req.method === 'HEAD') return c.body(null, 200, headers);
      if (size <= cache.readAhead)
        return c.body((await cache.get(key, 0, size)) as Uint8Array<ArrayBuffer>, 200, headers);
      return c.body(chunks(cache, key, size), 200, headers);
    }
    let wanted: { start: number; end: number };
    try {
      wanted = parseRangeHeader(range, size, key);
    } catch (error) {
      if (error instanceof EngineError && error.code === 'E_RANGE')
        return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
      throw error;
    }
    if (erasure && overlaps(erasure.ranges, wanted))
      throw new EngineError('E_ERASED', `${hash}: bytes ${wanted.start}-${wanted.end} hold an erased item`);
    headers['content-range'] = `bytes ${wanted.start}-${wanted.end - 1}/${size}`;
    headers['content-length'] = String(wanted.end - wanted.start);
    if (c.req.method === 'HEAD') return c.body(null, 206, headers);
    const bytes = await cache.get(key, wanted.start, wanted.end);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 206, headers);
  });
  return app;
}

const contentType = (name: string) =>
  name.endsWith('.mp4') || name.endsWith('.m4s') || name.endsWith('.cmfv')
    ? 'video/mp4'
    : name.endsWith('.cmfa')
      ? 'audio/mp4'
      : name.endsWith('.jpg')
        ? 'image/jpeg'
        : 'application/octet-stream';

/** A large object as a stream of range GETs, one chunk in memory at a time. */
function chunks(cache: ByteCache, key: string, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const end = Math.min(size, offset + CHUNK);
      const { body } = await cache.store.get(key, { start: offset, end });
      controller.enqueue(body);
      offset = end;
      if (offset >= size) controller.close();
    },
  });
}
