import { EngineError, MULTIHASH_HEX, multihashFromHex, type Timeline } from '@dreamdb/engine';
import { nodeGraphBuild } from '@dreamdb/engine/node/open';
import { type ObjectStore, type Resolved, Session, SpaceStore } from '@dreamdb/engine/store';
import { TextCache } from './http/text-cache.js';
import { Erasures } from './objects/erasures.js';

/** Spaces whose sessions (and index-page caches) are kept; requests naming many spaces cannot grow it. */
const MAX_SESSIONS = 256;

/** What the origin shares between requests: one engine session per space, and ref resolution. */
export class OriginContext {
  readonly #sessions = new Map<string, Session>();
  /** Generated playlists and MPDs (and their compressed forms) by ETag and path. */
  readonly texts = new TextCache();
  /** Each space's erasures, for the routes that serve bytes (spec 0020 §7). */
  readonly erasures: Erasures;

  constructor(
    readonly store: ObjectStore,
    /** How stale a ref resolution may be, in ms: playlists follow publishes within it. */
    readonly maxStalenessMs: number,
  ) {
    this.erasures = new Erasures(store);
  }

  /** The session of a space (created on first use; its index-page cache is shared by every request). */
  session(space: string): Session {
    let session = this.#sessions.get(space);
    if (session) {
      // Most recently used last: the oldest goes first when a request names one space too many.
      this.#sessions.delete(space);
    } else {
      session = new Session(new SpaceStore(this.store, space), { graphBuild: nodeGraphBuild() });
      if (this.#sessions.size >= MAX_SESSIONS)
        this.#sessions.delete(this.#sessions.keys().next().value as string);
    }
    this.#sessions.set(space, session);
    return session;
  }

  /** A ref name (URL-decoded, e.g. heads/team) or a manifest hash in hex, resolved. */
  async resolve(space: string, ref: string): Promise<Resolved> {
    const session = this.session(space);
    if (MULTIHASH_HEX.test(ref)) {
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
