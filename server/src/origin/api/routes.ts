import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { OriginContext } from '../context.js';
import { collectRoutes } from './collect.js';
import { type IngestRouteOptions, ingestRoutes } from './ingest.js';
import { limitBody } from './negotiate.js';
import { readRoutes } from './reads.js';
import { searchRoutes } from './search.js';
import { timelineRoutes } from './timelines.js';
import { versionRoutes } from './versions.js';
import { writeRoutes } from './writes.js';

const MiB = 1024 * 1024;

/** Knobs of the /v0 API. */
export interface ApiOptions {
  /** Largest request body of the verb routes, in bytes (default 16 MiB); larger ones are 413. */
  readonly maxBodyBytes?: number;
  /** Shortest grace period collect may delete with (default one hour); dry runs take any. */
  readonly minApplyGraceMs?: number;
  /** The upload route's knobs; `false`: no upload route. */
  readonly ingest?: IngestRouteOptions | false;
  readonly logger?: Logger;
}

/**
 * The DreamDB HTTP API under /v0/spaces (spec 0006 §4): the timeline listing and seek, the verbs (reads,
 * queries, writes, collect), versioning and uploads. Answers are JSON, or deterministic CBOR on request;
 * errors are JSON {error, message} naming the field or parameter at fault.
 */
export function apiRoutes(origin: OriginContext, options: ApiOptions = {}): Hono {
  const app = new Hono();
  const limit = limitBody(options.maxBodyBytes ?? 16 * MiB);
  app.route('/', timelineRoutes(origin));
  app.route('/', readRoutes(origin));
  app.route('/', searchRoutes(origin, limit));
  app.route('/', writeRoutes(origin, limit));
  app.route('/', collectRoutes(origin, limit, options.minApplyGraceMs));
  app.route('/', versionRoutes(origin));
  if (options.ingest !== false) app.route('/', ingestRoutes(origin, options.ingest ?? {}));
  return app;
}
