import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { IMMUTABLE } from '../http/caching.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The files of ffmpeg.wasm's core that the player's build copies (player/vite.config.ts). */
const FFMPEG_CORE = ['ffmpeg-core.js', 'ffmpeg-core.wasm'];

/**
 * The built web player (player/dist) at /: index.html for / (never cached long: it names the current
 * assets), /assets/* by their content-hashed names and /ffmpeg/<version>/* (cached forever). Paths outside the directory are
 * 404s. The server reads the player's files; it never imports its code.
 */
export function playerRoutes(dir: string): Hono {
  const app = new Hono();
  const root = normalize(dir);
  const send = async (path: string, cacheControl: string) => {
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep)) return undefined;
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream, {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(info.size),
        'cache-control': cacheControl,
      },
    });
  };
  app.get('/', async (c) => (await send('index.html', 'no-cache')) ?? c.notFound());
  app.get('/assets/:file', async (c) => {
    // One file name (a decoded %2F would reach files that are not content-hashed, cached forever).
    const file = c.req.param('file');
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.')) return c.notFound();
    return (await send(join('assets', file), IMMUTABLE)) ?? c.notFound();
  });
  // ffmpeg.wasm's core, under its version (the in-browser cut of uploads loads it from here, not a CDN).
  app.get('/ffmpeg/:version/:file', async (c) => {
    const { version, file } = c.req.param();
    if (!/^\d+\.\d+\.\d+$/.test(version) || !FFMPEG_CORE.includes(file)) return c.notFound();
    return (await send(join('ffmpeg', version, file), IMMUTABLE)) ?? c.notFound();
  });
  return app;
}
