import { MULTIHASH_HEX, multihashToHex } from '@dreamdb/engine';
import type { Resolved } from '@dreamdb/engine/store';

/** Cache-Control of content-addressed bytes: they never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Cache-Control of what a ref names (playlists, listings): short, revalidated with the ETag. */
export const SHORT = 'public, max-age=1';

/** What is generated under a manifest hash never changes; under a ref, it follows publishes. */
export const cacheOf = (ref: string) => (MULTIHASH_HEX.test(ref) ? IMMUTABLE : SHORT);

/** A strong ETag of what a URL generates from a manifest (a playlist, an MPD, a WebVTT file). */
export const playlistEtag = (resolved: Resolved, what: string) =>
  `"${multihashToHex(resolved.hash).slice(4, 36)}-${Buffer.from(what).toString('base64url')}"`;

/** cacheOf as a header: forever for a version named by hash, briefly for one named by a ref. */
export const cacheHeader = (ref: string) => ({ 'cache-control': cacheOf(ref) });
