import { RIGHTS } from '@dreamdb/engine/access';
import type { AccessDoc } from '@dreamdb/engine/api';
import { Hono } from 'hono';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** GET /v0/access: what the request's token allows, so a client shows only what it may do. */
export function accessRoutes(): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    const access = c.get('access');
    if (!access || access.mode === 'open')
      return c.json({ mode: 'open', rights: [...RIGHTS], spaces: ['*'], refs: ['*'] } satisfies AccessDoc);
    const t = access.token;
    const doc: AccessDoc = {
      mode: 'token',
      tenant: t.tenant,
      rights: [...t.rights],
      spaces: [...t.spaces],
      refs: [...t.refs],
      ...(t.window && {
        window: { timeline: t.window.timeline, from: String(t.window.from), to: String(t.window.to) },
      }),
      // Blocks on different timelines grant no timeline: an empty window says so.
      ...(t.window === null && { window: { timeline: '', from: '0', to: '0' } }),
      ...(t.nbf !== undefined && { notBefore: iso(t.nbf) }),
      expires: iso(t.exp),
    };
    return c.json(doc, 200, { 'cache-control': 'no-store' });
  });
  return app;
}
