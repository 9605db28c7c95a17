import {
  EngineError,
  MULTIHASH_HEX,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  type Track,
} from '@dreamdb/engine';
import type { Resolved } from '@dreamdb/engine/store';
import type { Context } from 'hono';
import type { OriginContext } from '../context.js';

/** How the /v0 routes find what a request names: versions, manifests and tracks, each a 404 naming it. */

/** The version `?ref=` names (default main: a ref name or a manifest hash), which must hold the timeline. */
export function version(origin: OriginContext, c: Context, space: string, timeline: string) {
  return versionOf(origin, space, c.req.query('ref') || 'main', timeline);
}

/** The version a body names (a ref name or a manifest hash), which must hold the timeline. */
export async function versionOf(origin: OriginContext, space: string, ref: string, timeline: string) {
  const { resolved } = await origin.resolveTimeline(space, ref, timeline, 'timeline:');
  return { resolved, ref };
}

/** A ref (read from the store now, not from a cache) or a manifest hash; 404 when absent unless `optional`. */
export async function fresh(
  origin: OriginContext,
  space: string,
  ref: string,
  optional: boolean,
): Promise<Resolved | undefined>;
export async function fresh(origin: OriginContext, space: string, ref: string): Promise<Resolved>;
export async function fresh(origin: OriginContext, space: string, ref: string, optional = false) {
  if (MULTIHASH_HEX.test(ref)) {
    const hash = multihashFromHex(ref);
    return { hash, manifest: await manifestOf(origin, space, hash) };
  }
  const resolved = await origin.session(space).resolve(ref, { maxStalenessMs: 0 });
  if (!resolved && !optional) throw new EngineError('E_NOT_FOUND', `space ${space} has no ref ${ref}`);
  return resolved;
}

/** A manifest of the space by hash; a missing one is 404 naming it. */
export async function manifestOf(origin: OriginContext, space: string, hash: Multihash) {
  try {
    return await origin.session(space).manifest(hash);
  } catch (error) {
    if (error instanceof EngineError && error.code === 'E_NOT_FOUND')
      throw new EngineError('E_NOT_FOUND', `manifest ${multihashToHex(hash)} is not in space ${space}`);
    throw error;
  }
}

/** The track of a timeline a request names; 404 naming the field (`track` unless told) when absent. */
export function trackOf(resolved: Resolved, timeline: string, track: string, field = 'track'): Track {
  const found = resolved.manifest.tracks.find((t) => t.timeline === timeline && t.name === track);
  if (!found) throw new EngineError('E_NOT_FOUND', `${field}: ${track} is not in timeline ${timeline}`);
  return found;
}
