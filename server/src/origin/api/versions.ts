import { EngineError, multihashToHex, tickToHex } from '@dreamdb/engine';
import type { LogDoc, LogEntryDoc, MergeDoc, RefCreatedDoc, RefsDoc } from '@dreamdb/engine/api';
import {
  branchRef,
  createRef,
  deleteBranch,
  diffVersions,
  listRefs,
  log,
  merge,
  refName,
  resolveVersion,
  tagRef,
} from '@dreamdb/engine/versions';
import { Hono } from 'hono';
import { z } from 'zod';
import { allowRefs, allowVersion } from '../access/middleware.js';
import type { OriginContext } from '../context.js';
import { countParam, names } from '../http/params.js';
import { manifestHeaderDoc } from './docs.js';
import { apiError } from './errors.js';
import { limitBody, readBody, respond } from './negotiate.js';
import { parseWith } from './schemas.js';

/** Log entries per answer when the client gives no limit, and the most it may ask for. */
const LOG_DEFAULT = 50;
const LOG_MAX = 1000;
/** Item changes listed per track in a diff (the counts cover all). */
const DIFF_DEFAULT = 100;
const DIFF_MAX = 10_000;

const createBody = z.strictObject({
  /** main, heads/x, tags/v1, refs/heads/x, or a bare branch name (heads/ is added). */
  name: z.string(),
  /** The version the ref starts at: a ref or a manifest hash (default main). */
  at: z.string().optional(),
  /** true: a tag (tags/ is added to a bare name). */
  tag: z.boolean().optional(),
});

const mergeBody = z.strictObject({
  into: z.string().optional(),
  from: z.union([z.string(), z.array(z.string()).min(1).max(64)]),
  author: z.string().max(256).optional(),
  message: z
    .string()
    .max(64 * 1024)
    .optional(),
  fastForward: z.boolean().optional(),
});

/**
 * Versioning under /v0/spaces/:space (spec 0008): refs (list, create, delete), log, merge and diff. Every
 * read route elsewhere takes `?ref=` as a ref or a manifest hash, so any version can be read.
 */
export function versionRoutes(origin: OriginContext, options: { maxBodyBytes?: number } = {}): Hono {
  const app = new Hono();
  const limit = limitBody(options.maxBodyBytes ?? 1024 * 1024);
  app.onError(apiError);

  app.get('/:space/refs', async (c) => {
    const space = names(c, 'space').space;
    const refs = await listRefs(origin.session(space));
    return respond(
      c,
      {
        space,
        refs: refs.map((r) => ({ name: r.name, kind: r.kind, manifest: multihashToHex(r.manifest) })),
      } satisfies RefsDoc,
      { 'cache-control': 'no-cache' },
    );
  });

  app.post('/:space/refs', limit, async (c) => {
    const space = names(c, 'space').space;
    const body = parseWith(createBody, (await readBody(c)).value);
    const name = body.tag ? tagRef(body.name) : branchRef(body.name);
    allowRefs(c, 'write', name);
    const session = origin.session(space);
    await allowVersion(c, body.at ?? 'main', async (ref) => {
      const state = await session.store.readRef(ref).catch(() => undefined);
      return state ? multihashToHex(state.manifest) : undefined;
    });
    const state = await createRef(session, name, body.at ?? 'main');
    return respond(
      c,
      { space, ref: name, manifest: multihashToHex(state.manifest), created: true } satisfies RefCreatedDoc,
      {},
      201,
    );
  });

  app.delete('/:space/refs/:ref{.+}', async (c) => {
    const space = names(c, 'space').space;
    const ref = refName(c.req.param('ref') as string);
    await deleteBranch(origin.session(space), ref, { force: c.req.query('force') === 'true' });
    return respond(c, { space, ref, deleted: true });
  });

  // log: newest first from a ref or manifest hash (default main).
  app.get('/:space/log', async (c) => {
    const space = names(c, 'space').space;
    const session = origin.session(space);
    const head = await resolveVersion(session, c.req.query('ref') || 'main');
    const most = countParam('limit', c.req.query('limit'), LOG_MAX) ?? LOG_DEFAULT;
    const entries: LogEntryDoc<bigint>[] = [];
    for await (const entry of log(session, [head.hash], { limit: most }))
      entries.push(manifestHeaderDoc(entry.hash, entry.manifest));
    return respond(c, { space, ref: c.req.query('ref') || 'main', entries } satisfies LogDoc<bigint>);
  });

  // merge: 200 with what moved; 409 with the conflicts (nothing published); 409 E_LINEAGE when spatial
  // indexes differ.
  app.post('/:space/merge', limit, async (c) => {
    const space = names(c, 'space').space;
    const body = parseWith(mergeBody, (await readBody(c)).value);
    allowRefs(c, 'merge', body.into ?? 'main');
    allowRefs(c, 'read', ...(typeof body.from === 'string' ? [body.from] : body.from));
    const merged = await merge(origin.session(space), {
      into: body.into ?? 'main',
      from: typeof body.from === 'string' ? [body.from] : body.from,
      ...(body.author !== undefined && { author: body.author }),
      ...(body.message !== undefined && { message: body.message }),
      ...(body.fastForward !== undefined && { fastForward: body.fastForward }),
    });
    return respond(c, {
      space,
      ref: merged.ref.name,
      outcome: merged.outcome,
      manifest: multihashToHex(merged.hash),
      parents: merged.manifest.parents.map(multihashToHex),
      bases: merged.bases,
      objectsWritten: merged.objectsWritten,
    } satisfies MergeDoc);
  });

  // diff: what changed from one version to another, per track.
  app.get('/:space/diff', async (c) => {
    const space = names(c, 'space').space;
    const session = origin.session(space);
    const fromName = c.req.query('from');
    if (!fromName) throw new EngineError('E_BAD_REQUEST', 'from: required (a ref or a manifest hash)');
    const toName = c.req.query('to') || 'main';
    const [from, to] = [await resolveVersion(session, fromName), await resolveVersion(session, toName)];
    const most = countParam('limit', c.req.query('limit'), DIFF_MAX) ?? DIFF_DEFAULT;
    const tracks = await diffVersions(session, from.manifest, to.manifest, { limit: most });
    return respond(c, {
      space,
      from: multihashToHex(from.hash),
      to: multihashToHex(to.hash),
      tracks: tracks.map((t) => ({
        ...t,
        items: t.items.map((i) => ({ tick: i.tick, hex: tickToHex(i.tick), change: i.change })),
      })),
    });
  });

  return app;
}
