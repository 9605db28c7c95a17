import { EngineError } from '@dreamdb/engine';
import type { CollectDoc } from '@dreamdb/engine/api';
import { collect } from '@dreamdb/engine/versions';
import { Hono, type MiddlewareHandler } from 'hono';
import type { OriginContext } from '../context.js';
import { names } from '../http/params.js';
import { apiError } from './errors.js';
import { readBody, respond } from './negotiate.js';
import { collectBody, parseWith } from './schemas.js';

const HOUR_MS = 60 * 60 * 1000;
/** Hashes a collect answer lists (its counts cover all of them). */
const COLLECT_LISTED = 1000;

/** POST /v0/spaces/:space/collect (spec 0006 §2.8): garbage collection, a dry run unless asked. */
export function collectRoutes(
  origin: OriginContext,
  limit: MiddlewareHandler,
  /** Shortest grace period collect may delete with (default one hour); dry runs take any. */
  minGrace = HOUR_MS,
): Hono {
  const app = new Hono();
  app.onError(apiError);

  // collect: a dry run unless {"apply": true}. Deleting only ever removes objects no ref reaches and older
  // than the grace period, so it cannot change what any version shows; the minimum grace on apply keeps
  // an HTTP client from deleting a concurrent writer's uploads (or a write not yet published).
  app.post('/:space/collect', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(collectBody, (await readBody(c)).value);
    const graceMs = body.grace === undefined ? HOUR_MS : Number(body.grace / 1_000_000n);
    if (body.apply && graceMs < minGrace)
      throw new EngineError(
        'E_BAD_REQUEST',
        `grace: ${graceMs} ms is under ${minGrace} ms, the shortest this origin deletes with (dry runs take any)`,
      );
    const report = await collect(origin.session(space), { graceMs, dryRun: !body.apply });
    return respond(c, {
      space,
      applied: body.apply === true,
      graceMs,
      refs: report.refs,
      manifests: report.manifests,
      reachable: report.reachable,
      scanned: report.scanned,
      unreachable: report.deleted.length,
      bytesFreed: report.bytesFreed,
      keptYoung: report.keptYoung,
      objects: report.deleted.slice(0, COLLECT_LISTED),
      truncated: report.deleted.length > COLLECT_LISTED,
    } satisfies CollectDoc);
  });

  return app;
}
