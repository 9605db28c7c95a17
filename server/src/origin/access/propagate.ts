import { hashBytes, toHex } from '@dreamdb/engine';
import type { MiddlewareHandler } from 'hono';
import { TOKEN_PARAM } from './middleware.js';

/**
 * Players fetch what a playlist lists themselves, and ffmpeg and GStreamer send no Authorization header:
 * so a playlist served to a token lists every URL with that token in its query (spec 0018 §4.2). The
 * playlist is generated (and cached) without it; the token is written in per response, and the ETag
 * names the token too, so no cache hands one client's URLs to another.
 */

const withParam = (uri: string, param: string) => {
  const hash = uri.indexOf('#');
  const [base, fragment] = hash < 0 ? [uri, ''] : [uri.slice(0, hash), uri.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}${param}${fragment}`;
};

/** Every URI of an HLS playlist (lines that are not tags, and URI="..." attributes) with `param` added. */
export function hlsWithParam(text: string, param: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      if (!line.startsWith('#')) return withParam(line, param);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${withParam(uri, param)}"`);
    })
    .join('\n');
}

/** Every URL of an MPD (BaseURL, media, initialization, sourceURL) with `param` added (XML-escaped). */
export function mpdWithParam(text: string, param: string): string {
  // The URLs in an MPD are XML-escaped already; the separator and the parameter are escaped here.
  const escaped = param.replace(/&/g, '&amp;');
  const add = (uri: string) => `${uri}${uri.includes('?') ? '&amp;' : '?'}${escaped}`;
  return text
    .replace(
      /\b(media|initialization|sourceURL)="([^"]*)"/g,
      (_m, name: string, uri: string) => `${name}="${add(uri)}"`,
    )
    .replace(/<BaseURL>([^<]*)<\/BaseURL>/g, (_m, uri: string) => `<BaseURL>${add(uri)}</BaseURL>`);
}

const PLAYLIST = /^(application\/vnd\.apple\.mpegurl|application\/dash\+xml)/;

/** Write the request's token into the URLs of HLS playlists and MPDs answered to a token. */
export function propagateToken(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const access = c.get('access');
    const type = c.res.headers.get('content-type') ?? '';
    if (access?.mode !== 'token' || c.res.status !== 200 || !PLAYLIST.test(type)) return;
    // A windowed token's objects are checked against the clip at a ref: the URLs name it.
    const ref = access.token.window ? c.req.path.split('/')[3] : undefined;
    const param = `${TOKEN_PARAM}=${encodeURIComponent(access.text)}${ref ? `&ref=${ref}` : ''}`;
    const text = await c.res.text();
    const rewritten = type.includes('dash') ? mpdWithParam(text, param) : hlsWithParam(text, param);
    // Hono copies the old response's headers onto the new one: the ETag is changed on the old one first.
    const etag = c.res.headers.get('etag');
    if (etag) {
      const tag = toHex(hashBytes(new TextEncoder().encode(access.text)).subarray(2, 10));
      c.res.headers.set('etag', `${etag.replace(/"$/, '')}.${tag}"`);
    }
    c.res.headers.delete('content-length');
    c.res = new Response(rewritten, { status: 200, headers: c.res.headers });
  };
}
