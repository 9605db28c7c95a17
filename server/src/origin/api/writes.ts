import { EngineError, type Multihash, multihashFromHex, multihashToHex } from '@dreamdb/engine';
import type { DeleteDoc, WriteDoc } from '@dreamdb/engine/api';
import { RefConflictError } from '@dreamdb/engine/store';
import { rebase } from '@dreamdb/engine/versions';
import { compact, deleteItems, END } from '@dreamdb/engine/write';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { allowRefs } from '../access/middleware.js';
import type { OriginContext } from '../context.js';
import { names } from '../http/params.js';
import { apiError } from './errors.js';
import { fresh, manifestOf } from './lookup.js';
import { readBody, respond } from './negotiate.js';
import { parseDelete, parsePublish, parseWith, parseWrite, refField } from './schemas.js';
import { build, checkExpectation, moveRef, stage } from './staging.js';

/**
 * The write verbs under /v0/spaces/:space (spec 0006 §4.4): write (a batch stored as an unpublished
 * manifest) and publish (a ref moved by compare-and-swap). A refused request stores nothing and moves no ref.
 */
export function writeRoutes(origin: OriginContext, limit: MiddlewareHandler): Hono {
  const app = new Hono();
  app.onError(apiError);

  // write: a batch stored as an unpublished manifest; publish {ref, manifest} then points a ref at it.
  app.post('/:space/write', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWrite(await readBody(c));
    allowRefs(c, 'read', body.base ?? (body.base === null ? undefined : 'main'));
    const base =
      body.base === null
        ? undefined
        : await fresh(origin, space, body.base ?? 'main', body.base === undefined);
    const staged = await stage(origin, space, base, body);
    const built = await build(origin, space, staged, body);
    return respond(c, {
      space,
      manifest: multihashToHex(built.hash),
      base: base ? multihashToHex(base.hash) : null,
      parents: staged.parents.map(multihashToHex),
      items: staged.items,
      objectsWritten: built.objectsWritten,
      bytesWritten: built.bytesWritten,
    } satisfies WriteDoc);
  });

  // publish: move a ref by compare-and-swap, to a manifest a write stored or to a batch built here.
  app.post('/:space/publish', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parsePublish(await readBody(c));
    allowRefs(c, 'write', body.ref);
    allowRefs(c, 'read', body.base);
    const session = origin.session(space);
    const state = await session.store.readRef(body.ref);
    const previous = state ? multihashToHex(state.manifest) : null;
    const answer = (hash: Multihash, parents: readonly Multihash[], extra: Record<string, unknown>) =>
      respond(c, {
        space,
        ref: body.ref,
        manifest: multihashToHex(hash),
        previous,
        parents: parents.map(multihashToHex),
        ...extra,
      });
    if (body.manifest !== undefined) {
      const hash = multihashFromHex(body.manifest);
      const manifest = await manifestOf(origin, space, hash);
      // Already there (a retry whose answer was lost): nothing to move.
      if (previous === body.manifest && (body.expect === undefined || body.expect === previous))
        return answer(hash, manifest.parents, { moved: false, items: 0, objectsWritten: 0, bytesWritten: 0 });
      checkExpectation(body.ref, state, body.expect, manifest.parents);
      await moveRef(origin, space, body.ref, { hash, manifest }, state);
      return answer(hash, manifest.parents, { moved: true, items: 0, objectsWritten: 0, bytesWritten: 0 });
    }
    const base =
      body.base !== undefined
        ? await fresh(origin, space, body.base)
        : state && { hash: state.manifest, manifest: await session.manifest(state.manifest) };
    const staged = await stage(origin, space, base, body);
    // Refused before anything is stored when the ref is already elsewhere; with `rebase`, the batch is
    // built on its base and merged onto the ref instead (spec 0008 §6), now or if it moves meanwhile.
    if (!body.rebase) checkExpectation(body.ref, state, body.expect, staged.parents);
    const built = await build(origin, space, staged, body);
    try {
      if (body.rebase) checkExpectation(body.ref, state, undefined, staged.parents);
      await moveRef(origin, space, body.ref, built, state);
      return answer(built.hash, staged.parents, {
        moved: true,
        ...(body.rebase && { rebased: false }),
        items: staged.items,
        objectsWritten: built.objectsWritten,
        bytesWritten: built.bytesWritten,
      });
    } catch (error) {
      if (!body.rebase || !(error instanceof RefConflictError)) throw error;
      const rebased = await rebase(session, body.ref, base?.manifest, built.manifest, error, {
        ...(body.author !== undefined && { author: body.author }),
        ...(body.message !== undefined && { message: body.message }),
      });
      return answer(rebased.hash, rebased.manifest.parents, {
        moved: true,
        rebased: true,
        items: staged.items,
        objectsWritten: built.objectsWritten + rebased.objectsWritten,
        bytesWritten: built.bytesWritten,
      });
    }
  });

  // delete: timelines, tracks or items removed on a branch, published at once (spec 0020 §2). Erasure
  // reaches every version of the space, so it takes the admin right as well.
  app.post('/:space/delete', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseDelete(await readBody(c));
    const ref = body.ref ?? 'main';
    allowRefs(c, 'write', ref);
    if (body.erase) allowRefs(c, 'admin', ref);
    const session = origin.session(space);
    const state = await session.store.readRef(ref);
    if (!state) throw new EngineError('E_NOT_FOUND', `space ${space} has no ref ${ref}`);
    const done = await deleteItems(session, {
      ref,
      selectors: body.deletes,
      ...(body.erase !== undefined && { erase: body.erase }),
      ...(body.rebase !== undefined && { rebase: body.rebase }),
      ...(body.author !== undefined && { author: body.author }),
      ...(body.message !== undefined && { message: body.message }),
    });
    if (done.erasure) origin.erasures.forget(space);
    return respond(c, {
      space,
      ref,
      manifest: done.published ? multihashToHex(done.published.hash) : null,
      previous: multihashToHex(state.manifest),
      deleted: done.deleted,
      erase: body.erase === true,
      tombstones: done.tombstones.map((t) => ({
        timeline: t.timeline,
        count: t.count,
        ...(t.track !== undefined && { track: t.track }),
        ...(t.from !== undefined && { from: t.from }),
        ...(t.to !== undefined && t.to !== END && { to: t.to }),
      })),
    } satisfies DeleteDoc<bigint>);
  });

  // compact: the head's buckets rewritten without deleted items' bytes, published (spec 0020 §6).
  app.post('/:space/compact', limit, async (c) => {
    const { space } = names(c, 'space');
    const body = parseWith(compactBody, (await readBody(c)).value);
    const ref = body.ref ?? 'main';
    allowRefs(c, 'write', ref);
    const done = await compact(origin.session(space), {
      ref,
      ...(body.message && { message: body.message }),
    });
    return respond(c, { ...done, space, manifest: done.manifest ? multihashToHex(done.manifest) : null });
  });

  return app;
}

const compactBody = z.strictObject({ ref: refField.optional(), message: z.string().max(65_536).optional() });
