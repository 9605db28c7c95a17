import type { TimelineDoc } from '@dreamdb/engine/api';
import type { HitDoc } from './api.js';

/**
 * What the player's controllers tell one another, by event (as hls.js's Events): each event has one
 * sender, named first, and any number of listeners. Controllers never call into one another; what one
 * must await of another (a load, a seek) goes through the composition root or the shared clock.
 */
export interface PlayerEvents {
  /** Clock: a seek began; the playhead is at `tick` before the picture is. */
  seek: { readonly tick: bigint };
  /** Clock: where the playhead is, every animation frame while the video plays and at its events otherwise. */
  beat: { readonly tick: bigint; readonly playing: boolean };
  /** Versions: a version of a timeline is on screen (its playback, lanes and lists are loading). */
  version: { readonly doc: TimelineDoc };
  /** Playback: an engine is attached to the video; its frame duration in seconds. */
  attached: { readonly frameSeconds: number };
  /** Timeline: the span selected by shift+dragging, or none. */
  selection: { readonly span: readonly [bigint, bigint] | undefined };
  /** Search: the hits on screen, best first (none without a query). */
  hits: { readonly hits: readonly HitDoc[] };
}

/** A typed event bus: listeners are called in the order they subscribed, synchronously, by `emit`. */
export class EventBus<Events extends object> {
  private readonly listeners = new Map<keyof Events, ((payload: never) => void)[]>();

  /** Call `listener` with each payload of `type` from now on (controllers live as long as the page). */
  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener);
    this.listeners.set(type, list);
  }

  /** Tell every listener of `type`. */
  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    const list = this.listeners.get(type) as ((payload: Events[K]) => void)[] | undefined;
    if (list) for (const listener of list) listener(payload);
  }
}

/** The bus the player's controllers share. */
export type PlayerBus = EventBus<PlayerEvents>;
