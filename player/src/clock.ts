import { clampTick, type TickWindow } from './access/rights.js';
import type { PlayerBus } from './bus.js';

/**
 * One clock for the video, the lanes and the URL: ticks (u64 nanoseconds, spec 0003) as bigints. The
 * origin's media timelines are the ticks themselves (a fragment's tfdt is its tick in media units), so a
 * media element's time t (seconds) is tick t·1e9.
 */

/** The tick a media time (seconds) falls on, to the nanosecond. */
export const mediaToTick = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9));

/** The media time (seconds) of a tick: exact to well under a microsecond for any recording length. */
export const tickToMedia = (tick: bigint): number => Number(tick / 1000n) / 1e6;

/** A tick as media time, h:mm:ss.mmm (or m:ss.mmm). */
export function formatMedia(tick: bigint): string {
  const ms = Number(tick / 1_000_000n);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = (ms / 1000) % 60;
  const ss = s.toFixed(3).padStart(6, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The wall-clock time of a tick on a timeline with a genesis (Unix ns), ISO 8601 in UTC to the ms. */
export function formatClock(tick: bigint, genesis: bigint | undefined): string | undefined {
  if (genesis === undefined) return undefined;
  return new Date(Number((genesis + tick) / 1_000_000n)).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/**
 * The player's one clock over the video: the tick at the playhead, and exact seeks to a tick. It beats
 * (`beat` on the bus) every animation frame while the video plays and at each of the video's events
 * otherwise, so a paused player does no work per frame.
 */
export class Clock {
  private looping = false;
  /** The stretch of the timeline a token grants: seeks land in it and playback stops at its end. */
  private window: TickWindow | undefined;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly bus: PlayerBus,
  ) {
    video.addEventListener('play', () => {
      if (this.looping) return;
      this.looping = true;
      requestAnimationFrame(this.loop);
    });
    for (const event of ['seeking', 'seeked', 'pause', 'timeupdate', 'loadeddata', 'resize'])
      video.addEventListener(event, () => this.beat());
    // The video's own controls seek too: a seek out of the window is moved back into it.
    video.addEventListener('seeking', () => {
      const inside = tickToMedia(clampTick(this.now(), this.window));
      // Compared as media time (microseconds): a window edge between two of them must not seek forever.
      if (Math.abs(inside - video.currentTime) >= 1e-6) video.currentTime = inside;
    });
  }

  /** Keep the playhead within a window from now on (undefined: the whole timeline). */
  setWindow(window: TickWindow | undefined): void {
    this.window = window;
  }

  /** The tick at the playhead. */
  now(): bigint {
    return mediaToTick(this.video.currentTime);
  }

  /** Tell the bus where the playhead is now. */
  beat(): void {
    const tick = this.now();
    const playing = !this.video.paused && !this.video.ended;
    // Playing on past the window would ask the origin for fragments the token does not grant.
    if (playing && this.window && tick >= this.window.to) this.video.pause();
    this.bus.emit('beat', { tick, playing });
  }

  private readonly loop = (): void => {
    this.beat();
    if (this.video.paused || this.video.ended) this.looping = false;
    else requestAnimationFrame(this.loop);
  };

  /** Put the video at a tick: the frame whose presentation interval holds it (within one frame). */
  async seek(to: bigint): Promise<void> {
    const tick = clampTick(to, this.window);
    this.bus.emit('seek', { tick });
    const video = this.video;
    const target = tickToMedia(tick);
    // An engine still settling after a load (shaka clamps a seek to the range it knows so far) can move a
    // seek elsewhere: the seek is made again until it lands.
    for (let attempt = 0; attempt < 3 && Math.abs(video.currentTime - target) >= 1e-6; attempt++) {
      const seeked = new Promise<void>((resolve) =>
        video.addEventListener('seeked', () => resolve(), { once: true }),
      );
      video.currentTime = target;
      await seeked;
    }
  }
}
