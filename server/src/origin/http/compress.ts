import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import { type TextCache, textKey } from './text-cache.js';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Bodies worth compressing: text the origin generates (playlists, MPDs, JSON, WebVTT). */
const TEXT = /^(application\/(vnd\.apple\.mpegurl|dash\+xml|json)|text\/)/;
const MIN_BYTES = 1024;

/**
 * Compress generated text with br or gzip, as the client accepts (br first: smaller playlists). Media
 * bytes are left alone: already compressed, and ranges of them must stay byte-exact.
 */
export function compressText(texts: TextCache): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    const type = res.headers.get('content-type') ?? '';
    if (!res.body || res.status !== 200 || res.headers.has('content-encoding') || !TEXT.test(type)) return;
    const accept = c.req.header('accept-encoding') ?? '';
    const encoding = /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : undefined;
    if (!encoding) {
      // The response is left as the handler made it: rewrapping its body would stream it through web
      // streams (a 24-hour playlist: ~15 ms instead of ~0.5).
      res.headers.append('vary', 'accept-encoding');
      return;
    }
    const headers = new Headers(res.headers);
    headers.append('vary', 'accept-encoding');
    // Generated text under an ETag is the same every time: its compressed form is kept too.
    const etag = res.headers.get('etag');
    const key = etag ? textKey(etag, c.req.path, encoding) : undefined;
    const kept = key ? texts.get(key) : undefined;
    if (kept) {
      await res.body.cancel();
      headers.set('content-encoding', encoding);
      headers.set('content-length', String(kept.byteLength));
      c.res = new Response(kept as Uint8Array<ArrayBuffer>, { status: res.status, headers });
      return;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.byteLength < MIN_BYTES) {
      c.res = new Response(body, { status: res.status, headers });
      return;
    }
    const packed: Uint8Array =
      encoding === 'br'
        ? await brotli(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 5,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
            },
          })
        : await gz(body, { level: 6 });
    if (key) texts.set(key, packed);
    headers.set('content-encoding', encoding);
    headers.set('content-length', String(packed.byteLength));
    c.res = new Response(packed as Uint8Array<ArrayBuffer>, { status: res.status, headers });
  };
}
