import { tmpdir } from 'node:os';
import { EngineError, toHex } from '@dreamdb/engine';
import type { ObjectStore } from '@dreamdb/engine/store';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Logger } from 'pino';
import { AccessControl } from './access/control.js';
import { accessMiddleware } from './access/middleware.js';
import { propagateToken } from './access/propagate.js';
import { accessRoutes } from './access/routes.js';
import { WindowBytes } from './access/window-bytes.js';
import { refusalHeaders } from './api/errors.js';
import { detail } from './api/negotiate.js';
import { apiRoutes } from './api/routes.js';
import { removeStaleSpools } from './api/spool.js';
import { OriginContext } from './context.js';
import { dashRoutes } from './dash/routes.js';
import { hlsRoutes } from './hls/routes.js';
import { compressText } from './http/compress.js';
import { HTTP_STATUS } from './http/status.js';
import { OriginMetrics } from './metrics.js';
import { ByteCache } from './objects/byte-cache.js';
import { objectRoutes } from './objects/routes.js';
import { playerRoutes } from './player/files.js';
import { tenancyMiddleware } from './tenancy/middleware.js';
import { Tenancy, type TenancyOptions } from './tenancy/quotas.js';

/** Response headers a browser page may read. */
const EXPOSED = [
  'Content-Range',
  'Content-Length',
  'Accept-Ranges',
  'ETag',
  'Content-Encoding',
  'X-DreamDB-Tick',
  'X-DreamDB-Duration',
];

/** What an origin serves from, and its knobs. */
export interface OriginOptions {
  readonly store: ObjectStore;
  /** How stale a ref resolution may be, in ms (default 1000): playlists follow publishes within it. */
  readonly maxStalenessMs?: number;
  /** Bytes of fragments kept in memory (default 256 MiB). */
  readonly cacheBytes?: number;
  /** Bytes fetched ahead of a client reading a bucket (default 4 MiB). */
  readonly readAhead?: number;
  /** Largest request body of the verb routes, in bytes (default 16 MiB). */
  readonly maxBodyBytes?: number;
  /** A structured log line per request goes here; none when undefined. */
  readonly logger?: Logger;
  /** Largest media upload of the ingest route, in bytes (default 2 GiB); 0: no ingest route. */
  readonly maxUploadBytes?: number;
  /** Where uploads are spooled while they are packaged (default the OS temporary directory). */
  readonly spoolDir?: string;
  /** The built web player (player/dist), served at /; none: the API and playlists only. */
  readonly playerDir?: string;
  /**
   * The issuer public keys (by key id) whose capability tokens it accepts (spec 0018): given, every
   * request but the public ones needs a token that allows it; absent, open mode.
   */
  readonly issuers?: ReadonlyMap<string, Uint8Array>;
  /** How stale its view of revocations and space owners may be, in ms (default 10 s). */
  readonly accessStalenessMs?: number;
  /**
   * Tenancy's knobs when tokens are checked (spec 0018 §5): quotas, usage batches, fair share. The origin's
   * id names its usage batches (default: random per process).
   */
  readonly tenancy?: Partial<Pick<TenancyOptions, 'originId' | 'concurrency' | 'flushMs' | 'refreshMs'>>;
}

/** The origin and what it exposes besides routes: the byte cache and the metrics, for tests and benches. */
export interface Origin extends Hono {
  readonly cache: ByteCache;
  readonly metrics: OriginMetrics;
  /** Quotas, usage and fair share, when the origin checks tokens. */
  readonly tenancy?: Tenancy;
  /** Write the usage not yet written (call before the process stops). */
  close(): Promise<void>;
  /** Settles when start-up housekeeping is done (upload spools a killed server left are removed). */
  readonly ready: Promise<void>;
}

/**
 * The origin: HLS and DASH generated per request from the resolved manifest, content-addressed bytes with
 * Range support and read-ahead, and the DreamDB HTTP API. Stateless beyond caches: everything it knows
 * comes from the store, so identical copies scale out behind a CDN.
 */
export function createOrigin(options: OriginOptions): Origin {
  const metrics = new OriginMetrics();
  const store = metrics.countStore(options.store);
  const logger = options.logger;
  // Tenants exist where tokens name them: an open origin has no one to charge.
  const tenancy = options.issuers
    ? new Tenancy({
        store,
        originId: options.tenancy?.originId ?? `o${toHex(crypto.getRandomValues(new Uint8Array(6)))}`,
        // One JS thread runs the CPU part of every search: two at once make each take twice as long, so
        // a tenant arriving behind a flood waits twice as long too (bench/tenant-search.ts). An origin
        // in front of a slow store may let more run at once to overlap their reads.
        concurrency: options.tenancy?.concurrency ?? 1,
        ...(options.tenancy?.flushMs !== undefined && { flushMs: options.tenancy.flushMs }),
        ...(options.tenancy?.refreshMs !== undefined && { refreshMs: options.tenancy.refreshMs }),
        onError: (error) => logger?.error({ err: error }, 'tenant usage'),
      })
    : undefined;
  const origin = new OriginContext(tenancy?.store ?? store, options.maxStalenessMs ?? 1000);
  const cache = new ByteCache(store, {
    ...(options.cacheBytes !== undefined && { capacity: options.cacheBytes }),
    ...(options.readAhead !== undefined && { readAhead: options.readAhead }),
  });
  metrics.watchCache(cache);
  const spoolDir = options.spoolDir ?? tmpdir();
  const control = options.issuers
    ? new AccessControl(options.store, options.issuers, options.accessStalenessMs)
    : undefined;
  // A server killed during an upload published nothing from it, but its spool would stay for ever.
  const ready =
    options.maxUploadBytes === 0
      ? Promise.resolve()
      : removeStaleSpools(spoolDir).then(
          (removed) => {
            if (removed.length > 0)
              logger?.info({ spoolDir, removed }, 'removed upload spools of stopped servers');
          },
          (error: unknown) => logger?.error({ err: error, spoolDir }, 'could not sweep upload spools'),
        );

  const app = new Hono();
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    const route = c.req.routePath ?? 'unmatched';
    metrics.requests.inc({ route, method: c.req.method, status: c.res.status });
    metrics.latency.observe({ route }, ms / 1000);
    logger?.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(ms * 100) / 100 },
      'request',
    );
  });
  // CORS headers are set after the handler: Hono's cors() touches the response headers first, which turns
  // the node server's lightweight response into a real one and copies every fragment (~20% of serving).
  const preflight = cors({
    origin: '*',
    allowHeaders: ['Range', 'If-None-Match', 'If-Range', 'Content-Type', 'Accept', 'Authorization'],
    exposeHeaders: EXPOSED,
    maxAge: 86_400,
  });
  app.use('*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    c.res.headers.set('access-control-allow-origin', '*');
    c.res.headers.set('access-control-expose-headers', EXPOSED.join(', '));
  });
  app.use('/hls/*', compressText(origin.texts));
  app.use('/dash/*', compressText(origin.texts));
  app.use('/v0/*', compressText(origin.texts));
  // Before every route: a refused request runs no handler, so it writes nothing.
  app.use('*', accessMiddleware(control, new WindowBytes(origin)));
  if (tenancy) app.use('*', tenancyMiddleware(tenancy));
  app.use('/hls/*', propagateToken());
  app.use('/dash/*', propagateToken());
  app.onError((error, c) => {
    if (error instanceof EngineError) {
      const status = HTTP_STATUS[error.code] ?? 500;
      return c.json({ error: error.code, message: detail(error) }, status, refusalHeaders(error, status));
    }
    logger?.error({ err: error, path: c.req.path }, 'internal error');
    return c.json({ error: 'E_INTERNAL', message: (error as Error).message.split('\n')[0] }, 500);
  });
  app.notFound((c) =>
    c.json({ error: 'E_NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );

  app.get('/v0/health', (c) =>
    c.json({ ok: true, store: options.store.name, access: control ? 'token' : 'open' }),
  );
  app.route('/v0/access', accessRoutes());
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  app.route(
    '/v0/spaces',
    apiRoutes(origin, {
      ...(options.maxBodyBytes !== undefined && { maxBodyBytes: options.maxBodyBytes }),
      ingest: options.maxUploadBytes !== 0 && {
        ...(options.maxUploadBytes !== undefined && { maxUploadBytes: options.maxUploadBytes }),
        spoolDir,
        ...(logger && { logger }),
      },
    }),
  );
  app.route('/hls', hlsRoutes(origin));
  app.route('/dash', dashRoutes(origin));
  app.route('/objects', objectRoutes(cache, origin.erasures));
  if (options.playerDir) app.route('/', playerRoutes(options.playerDir));

  return Object.assign(app, {
    cache,
    metrics,
    ready,
    ...(tenancy && { tenancy }),
    close: async () => {
      await tenancy?.close();
    },
  });
}
