import {
  EngineError,
  equalBytes,
  type Manifest,
  MULTIHASH_HEX,
  type Multihash,
  multihashFromHex,
  multihashToHex,
  type ObjectStore,
  parseTimeArg,
  type Resolved,
  Session,
  SpaceStore,
  type Tick,
  type Timeline,
  type Track,
} from '@dreamdb/engine';
import { TextCache } from './text-cache.js';

/** A BLAKE3 multihash in hex: how manifests and objects appear in URLs. */
export const HASH_HEX = MULTIHASH_HEX;

/** Cache-Control of content-addressed bytes: they never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Cache-Control of what a ref names (playlists, listings): short, revalidated with the ETag. */
export const SHORT = 'public, max-age=1';

/** Spaces whose sessions (and index-page caches) are kept; requests naming many spaces cannot grow it. */
const MAX_SESSIONS = 256;

/** What the origin shares between requests: one engine session per space, and ref resolution. */
export class OriginContext {
  readonly #sessions = new Map<string, Session>();
  /** Generated playlists and MPDs (and their compressed forms) by ETag and path. */
  readonly texts = new TextCache();

  constructor(
    readonly store: ObjectStore,
    /** How stale a ref resolution may be, in ms: playlists follow publishes within it. */
    readonly maxStalenessMs: number,
  ) {}

  /** The session of a space (created on first use; its index-page cache is shared by every request). */
  session(space: string): Session {
    let session = this.#sessions.get(space);
    if (session) {
      // Most recently used last: the oldest goes first when a request names one space too many.
      this.#sessions.delete(space);
    } else {
      session = new Session(new SpaceStore(this.store, space));
      if (this.#sessions.size >= MAX_SESSIONS)
        this.#sessions.delete(this.#sessions.keys().next().value as string);
    }
    this.#sessions.set(space, session);
    return session;
  }

  /** A ref name (URL-decoded, e.g. heads/team) or a manifest hash in hex, resolved. */
  async resolve(space: string, ref: string): Promise<Resolved> {
    const session = this.session(space);
    if (HASH_HEX.test(ref)) {
      const hash = multihashFromHex(ref);
      return { hash, manifest: await session.manifest(hash) };
    }
    const resolved = await session.resolve(ref, { maxStalenessMs: this.maxStalenessMs });
    if (!resolved) throw new EngineError('E_NOT_FOUND', `space ${space} has no ref ${ref}`);
    return resolved;
  }

  /** `resolve`, then the timeline of that version: 404 when it has none of that name. */
  async resolveTimeline(
    space: string,
    ref: string,
    timeline: string,
    /** How the message names the timeline: the API's verbs name fields as `timeline:`. */
    label = 'timeline',
  ): Promise<{ resolved: Resolved; timeline: Timeline }> {
    const resolved = await this.resolve(space, ref);
    const line = resolved.manifest.timelines.find((t) => t.name === timeline);
    if (!line) throw new EngineError('E_NOT_FOUND', `${label} ${timeline} is not in ${space}@${ref}`);
    return { resolved, timeline: line };
  }
}

/** HTTP status of an engine error code (others are 500). */
export const HTTP_STATUS: Partial<Record<string, 400 | 403 | 404 | 409 | 412 | 413 | 415 | 416>> = {
  E_NOT_FOUND: 404,
  E_BAD_REQUEST: 400,
  E_FIELD: 400,
  E_NAME: 400,
  E_MULTIHASH: 400,
  E_TICK_FORMAT: 400,
  E_TICK_RANGE: 400,
  E_RANGE: 416,
  E_CONFLICT: 409,
  E_LINEAGE: 409,
  E_TOO_LARGE: 413,
  E_MODALITY: 400,
  E_RATE: 400,
  E_TIME_FORMAT: 400,
  E_CBOR_MALFORMED: 400,
  E_CBOR_NONCANONICAL: 400,
  E_CBOR_VALUE: 400,
  E_CBOR_JSON: 400,
  E_ADDRESS: 400,
  E_FORBIDDEN: 403,
  E_PRECONDITION: 412,
};

/**
 * The URL of an object's bytes. HLS clients want a media extension on segment URLs (ffmpeg refuses
 * others), so media get one; the origin serves an object under its hash with or without it.
 */
export const objectUri = (space: string, mh: Multihash, extension = '') =>
  `/objects/${encodeURIComponent(space)}/${multihashToHex(mh)}${extension}`;

/**
 * objectUri for a run of entries: back-to-back fragments share a bucket, so the URL of the previous
 * entry's object is reused when the object is the same (a 24-hour playlist names ~3k buckets, 43k times).
 */
export function objectUris(space: string, extension: string): (mh: Multihash) => string {
  let last: Multihash | undefined;
  let uri = '';
  return (mh) => {
    if (!last || !equalBytes(last, mh)) {
      last = mh;
      uri = objectUri(space, mh, extension);
    }
    return uri;
  };
}

/**
 * A time query or path parameter (spec 0006 §5): ticks, 16 hex digits, a number with a unit, or RFC 3339
 * against the timeline's genesis; a refusal (400) names the parameter and the forms.
 */
export function timeParam(name: string, text: string | undefined, genesis?: bigint): Tick | undefined {
  if (text === undefined || text === '') return undefined;
  return parseTimeArg(text, { name, ...(genesis !== undefined && { genesis }) });
}

/** The genesis of a manifest's timeline, which RFC 3339 parameters are read against. */
export const genesisOf = (manifest: Manifest, timeline: string): bigint | undefined =>
  manifest.timelines.find((t) => t.name === timeline)?.genesis;

/** What a playback URL selects: a clip [from, to) of the timeline and some of its tracks. */
export interface Selection {
  readonly from?: Tick;
  readonly to?: Tick;
  /** Track names; all when undefined. */
  readonly tracks?: readonly string[];
}

/** The selection of `?from=&to=&tracks=`; unknown tracks and empty clips are 4xx. */
export function selection(
  query: (name: string) => string | undefined,
  manifest: Manifest,
  timeline: string,
): Selection {
  const genesis = genesisOf(manifest, timeline);
  const from = timeParam('from', query('from'), genesis);
  const to = timeParam('to', query('to'), genesis);
  if (from !== undefined && to !== undefined && to <= from)
    throw new EngineError('E_BAD_REQUEST', `to (${to}) must be after from (${from})`);
  const tracks = query('tracks')
    ?.split(',')
    .filter((t) => t !== '');
  for (const name of tracks ?? []) {
    if (!manifest.tracks.some((t) => t.timeline === timeline && t.name === name))
      throw new EngineError('E_NOT_FOUND', `track ${name} is not in timeline ${timeline}`);
  }
  return { ...(from !== undefined && { from }), ...(to !== undefined && { to }), ...(tracks && { tracks }) };
}

/** Whether a fragment [tick, tick + duration) plays in the selection's clip. */
export const inClip = (s: Selection, tick: Tick, duration: Tick) =>
  (s.to === undefined || tick < s.to) &&
  (s.from === undefined || tick + (duration > 0n ? duration : 1n) > s.from);

/** The query string that carries a selection on to the URLs a playlist names. */
export function selectionQuery(s: Selection): string {
  const params = new URLSearchParams();
  if (s.from !== undefined) params.set('from', s.from.toString());
  if (s.to !== undefined) params.set('to', s.to.toString());
  if (s.tracks) params.set('tracks', s.tracks.join(','));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The tracks of a timeline a selection keeps. */
export const selectedTracks = (manifest: Manifest, timeline: string, s: Selection): Track[] =>
  manifest.tracks.filter((t) => t.timeline === timeline && (!s.tracks || s.tracks.includes(t.name)));

/** A count query parameter (1..max), undefined when absent; anything else is a 400 naming it. */
export function countParam(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max)
    throw new EngineError(
      'E_BAD_REQUEST',
      `${name}: ${JSON.stringify(text)} is not a count from 1 to ${max}`,
    );
  return Number(text);
}
