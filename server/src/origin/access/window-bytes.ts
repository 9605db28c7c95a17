import { EngineError, multihashToHex, type Track } from '@dreamdb/engine';
import type { Window } from '@dreamdb/engine/access';
import type { OriginContext } from '../context.js';
import { clipEntries } from '../playback/clip.js';

/** Byte ranges of one object a window's fragments occupy, [start, end) each; `whole`: an init segment. */
type Allowed = Map<string, { whole: boolean; ranges: [number, number][] }>;

/** Windows whose byte sets are kept (a player asks for one window's bytes many times). */
const KEPT = 256;

/**
 * The content-addressed bytes a windowed token may fetch (spec 0018 §4.3): the init segments and the
 * byte ranges of the fragments of its timeline's stream tracks that play in its window, at the ref the
 * playlist named. Everything else of the space is refused, though the URL names an object by its hash.
 */
export class WindowBytes {
  readonly #kept = new Map<string, Promise<Allowed>>();

  constructor(private readonly origin: OriginContext) {}

  /** Refuse (403) a GET of `hash` with `range` that is not within the window's bytes. */
  async check(
    space: string,
    ref: string,
    window: Window,
    hash: string,
    range: string | undefined,
  ): Promise<void> {
    const resolved = await this.origin.resolve(space, ref);
    const key = `${space} ${multihashToHex(resolved.hash)} ${window.timeline} ${window.from} ${window.to}`;
    let allowed = this.#kept.get(key);
    if (!allowed) {
      allowed = this.#allowed(space, resolved.manifest.tracks, window);
      if (this.#kept.size >= KEPT) this.#kept.delete(this.#kept.keys().next().value!);
      this.#kept.set(key, allowed);
      allowed.catch(() => this.#kept.delete(key));
    }
    const object = (await allowed).get(hash);
    if (object?.whole) return;
    const wanted = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
    const start = Number(wanted?.[1]);
    const end = Number(wanted?.[2]) + 1;
    if (object && wanted && object.ranges.some(([s, e]) => start >= s && end <= e)) return;
    throw new EngineError(
      'E_FORBIDDEN',
      `token grants only timeline ${window.timeline} ticks ${window.from}-${window.to}: these bytes are outside it`,
    );
  }

  async #allowed(space: string, tracks: readonly Track[], window: Window): Promise<Allowed> {
    const session = this.origin.session(space);
    const out: Allowed = new Map();
    const at = (hex: string) => {
      const entry = out.get(hex) ?? { whole: false, ranges: [] };
      out.set(hex, entry);
      return entry;
    };
    for (const track of tracks) {
      if (track.timeline !== window.timeline || track.kind !== 'stream' || !track.index) continue;
      if (track.init) at(multihashToHex(track.init)).whole = true;
      for (const e of await clipEntries(session, track, { from: window.from, to: window.to }))
        at(multihashToHex(e.object)).ranges.push([e.start, e.end]);
    }
    return out;
  }
}
