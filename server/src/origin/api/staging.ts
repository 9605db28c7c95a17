import {
  EngineError,
  type Manifest,
  type Multihash,
  multihashFromHex,
  multihashToHex,
} from '@dreamdb/engine';
import { objectKey, RefConflictError, type RefState, type Resolved } from '@dreamdb/engine/store';
import { Writer, type WrittenManifest, writeManifest } from '@dreamdb/engine/write';
import type { OriginContext } from '../context.js';
import { HTTP_STATUS } from '../http/status.js';
import { detail } from './negotiate.js';
import type { BatchBody, InitSegment } from './schemas.js';

/**
 * write and publish over a stateless origin. A request cannot leave staged items in one server's
 * memory for a later request (the next may reach another copy), so a batch is validated, staged and
 * uploaded within one request: `write` uploads it as an unpublished manifest (content-addressed, so its
 * hash names it from any copy), and `publish` moves a ref to such a manifest, or builds and moves in
 * one request. The ref only ever moves by compare-and-swap, last.
 */

/** Run `fn`; an engine refusal is re-raised with the body path it concerns in front of its message. */
function at<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    const code = HTTP_STATUS[error.code] ? error.code : 'E_BAD_REQUEST';
    throw new EngineError(code, `${path}: ${detail(error)}`);
  }
}

/** A batch checked and staged in memory: nothing has been stored yet. */
export interface Staged {
  readonly writer: Writer;
  readonly parents: Multihash[];
  /** Init segments given as bytes, stored with the batch. */
  readonly inits: readonly InitSegment[];
  readonly items: number;
}

/**
 * Stage a batch on `base`: define its timelines and tracks, stage its items. Every check the engine
 * makes before storing happens here, so a refused batch stores nothing.
 */
export async function stage(
  origin: OriginContext,
  space: string,
  base: Resolved | undefined,
  body: BatchBody,
): Promise<Staged> {
  const writer = new Writer(base);
  for (const [i, timeline] of (body.timelines ?? []).entries())
    at(`timelines[${i}]`, () => writer.timeline(timeline));
  const inits: InitSegment[] = [];
  for (const [i, { track, init }] of (body.tracks ?? []).entries()) {
    at(`tracks[${i}]`, () => writer.track(track));
    if (init?.bytes) inits.push(init);
    else if (init) await mustExist(origin, space, init.hash, `tracks[${i}].init`);
  }
  for (const [i, d] of (body.deletes ?? []).entries()) at(`deletes[${i}]`, () => writer.delete(d));
  const defined = new Set(writer.allTracks().map((t) => `${t.timeline}/${t.name}`));
  let items = 0;
  for (const [i, w] of (body.writes ?? []).entries()) {
    if (!defined.has(`${w.timeline}/${w.track}`))
      throw new EngineError(
        'E_NOT_FOUND',
        `writes[${i}]: track ${w.timeline}/${w.track} is not defined (define it in tracks; defined: ${[...defined].join(', ') || 'none'})`,
      );
    at(`writes[${i}]`, () => writer.write(w.timeline, w.track, w.items));
    items += w.items.length;
  }
  const parents = body.parents?.map(multihashFromHex) ?? (base ? [base.hash] : []);
  for (const [i, parent] of parents.entries()) await mustBeManifest(origin, space, parent, `parents[${i}]`);
  return { writer, parents, inits, items };
}

/** 404 unless the space holds the object (an init segment or a parent manifest). */
async function mustExist(origin: OriginContext, space: string, hash: Multihash, path: string): Promise<void> {
  try {
    await origin.store.head(objectKey(space, hash));
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND')
      throw new EngineError(
        'E_NOT_FOUND',
        `${path}: ${multihashToHex(hash)} is not an object of space ${space}`,
      );
    throw error;
  }
}

/** 404 unless the hash names a manifest of the space (read, verified and cached by the session). */
async function mustBeManifest(origin: OriginContext, space: string, hash: Multihash, path: string) {
  try {
    await origin.session(space).manifest(hash);
  } catch (error) {
    if (!(error instanceof EngineError) || error.code.startsWith('E_STORE')) throw error;
    throw new EngineError(
      'E_NOT_FOUND',
      `${path}: ${multihashToHex(hash)} is not a manifest of space ${space} (${detail(error)})`,
    );
  }
}

/**
 * Store a staged batch as an unpublished manifest (init segments, then the engine's writeManifest:
 * buckets, index pages, the manifest). Until a ref points at it, the manifest is garbage that `collect`
 * removes once older than its grace period.
 */
export async function build(
  origin: OriginContext,
  space: string,
  staged: Staged,
  meta: { author?: string | undefined; message?: string | undefined },
): Promise<WrittenManifest> {
  const session = origin.session(space);
  let objects = 0;
  let bytes = 0;
  for (const init of staged.inits) {
    await session.store.putObject(init.bytes!, init.hash);
    objects++;
    bytes += init.bytes!.length;
  }
  const written = await writeManifest(session, staged.writer, {
    parents: staged.parents,
    ...(meta.author !== undefined && { author: meta.author }),
    ...(meta.message !== undefined && { message: meta.message }),
  });
  return {
    hash: written.hash,
    manifest: written.manifest,
    objectsWritten: written.objectsWritten + objects,
    bytesWritten: written.bytesWritten + bytes,
  };
}

/** A refused move: the ref is not where the request expected it. Carries where it is. */
class Unexpected extends RefConflictError {
  constructor(ref: string, current: RefState | undefined, why: string) {
    super(ref, current);
    this.message = `E_CONFLICT: ${why}`;
  }
}

/** Hex of a ref's manifest, or "nothing". */
const shown = (state: RefState | undefined) => (state ? multihashToHex(state.manifest) : 'nothing');

/**
 * Check the ref's state before anything is stored: at `expect` when given (null: the ref must not
 * exist); otherwise absent, or at one of the new manifest's parents (a fast-forward), so a publish
 * never silently drops a version someone else published.
 */
export function checkExpectation(
  ref: string,
  state: RefState | undefined,
  expect: string | null | undefined,
  parents: readonly Multihash[],
): void {
  const current = state && multihashToHex(state.manifest);
  if (expect === null && state)
    throw new Unexpected(ref, state, `ref ${ref} exists (at ${current}); expect was null`);
  if (typeof expect === 'string' && current !== expect)
    throw new Unexpected(ref, state, `ref ${ref} is at ${shown(state)}, not at ${expect} as expected`);
  if (expect === undefined && current && !parents.some((p) => multihashToHex(p) === current))
    throw new Unexpected(
      ref,
      state,
      `ref ${ref} is at ${current}, which is not a parent of the new manifest: not a fast-forward (give expect to replace it)`,
    );
}

/**
 * Move the ref to `hash` by compare-and-swap against the state read before (a ref that moved since is
 * 409 with its new value), and let this origin's session see the new version at once.
 */
export async function moveRef(
  origin: OriginContext,
  space: string,
  ref: string,
  target: { hash: Multihash; manifest: Manifest },
  state: RefState | undefined,
): Promise<RefState> {
  const session = origin.session(space);
  const moved = await session.store.casRef(ref, target.hash, state);
  session.remember(ref, { ...target, ref: { name: ref, state: moved } });
  return moved;
}
