import type { MiddlewareHandler } from 'hono';
import type { Tenancy } from './quotas.js';

/** Verbs whose work is heavy enough to be scheduled per tenant (spec 0018 §5.2). */
const HEAVY = /^\/v0\/spaces\/[^/]+\/(search|text|hybrid|merge)$/;
const INGEST = /^\/v0\/spaces\/[^/]+\/timelines\/[^/]+\/ingest$/;

/**
 * After the access check, a token's request is charged to its tenant: its rate (429 with Retry-After when
 * over), a fair turn for heavy work, a slot for an ingest, and its usage. Object bytes are not rate
 * limited: players fetch them in bursts, and a CDN in front answers most of them.
 */
export function tenancyMiddleware(tenancy: Tenancy): MiddlewareHandler {
  return async (c, next) => {
    const access = c.get('access');
    if (access?.mode !== 'token' || access.space === undefined) return next();
    const tenant = access.token.tenant;
    const space = access.space;
    const path = c.req.path;
    if (path.startsWith('/objects/')) return next();
    await tenancy.admit(tenant, space);
    if (c.req.method === 'POST' && HEAVY.test(path)) {
      if (!path.endsWith('/merge')) tenancy.count(tenant, space, { searches: 1 });
      await tenancy.heavy(tenant, next);
      return;
    }
    // An ingest lasts minutes: it holds an ingest slot (its own quota), not one of the heavy turns.
    if (c.req.method === 'POST' && INGEST.test(path)) {
      const release = await tenancy.ingest(tenant, space);
      try {
        await next();
      } finally {
        release();
      }
      return;
    }
    await next();
  };
}
