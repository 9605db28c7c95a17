import { Hono } from 'hono';
import type { OriginContext } from './context.js';

/** DASH routes under /dash/:space/:ref/:timeline (being written: issue 6). */
export function dashRoutes(_origin: OriginContext): Hono {
  return new Hono();
}
