import { Hono } from 'hono';
import type { OriginContext } from './context.js';

/** The engine's verbs as routes under /v0/spaces/:space (being written: issue 6). */
export function verbRoutes(_origin: OriginContext): Hono {
  return new Hono();
}
