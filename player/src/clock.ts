import { clampTick, type TickWindow } from './access/rights.js';
import type { PlayerBus } from './bus.js';

/**
 * One clock for the video, the lanes and the URL: ticks (u64 nanoseconds, spec 0003) as bigints. The
 * origin's media timelines are the ticks themselves (a fragment's tfdt is its tick in media units), so a
 * media element's time t (seconds) of a timeline's own playlists is tick t·1e9. A clip's playlists (a
 * token's window) start at media time 0: the Clock adds the tick media time 0 is at (its `zero`).
 */

/** A microsecond in seconds: how finely the clock puts the video (mediaAt). */
const MICROSECOND = 1e-6;

/** The nanoseconds of a media time (seconds), to the nanosecond. */
export const mediaToTick = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9));

/** The media time (seconds) of nanoseconds: exact to well under a microsecond for any recording length. */
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
  /**
   * The tick at media time 0: 0 for a timeline's own playlists; for a clip's, where the engine starts it
   * (the playback controller finds it per engine). The one place media time and ticks are converted.
   */
  private zero = 0n;

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
      const inside = this.mediaIn(clampTick(this.now(), this.window));
      // Compared as media time (microseconds): a window edge between two of them must not seek forever.
      if (Math.abs(inside - video.currentTime) >= MICROSECOND / 2) video.currentTime = inside;
    });
  }

  /** Keep the playhead within a window from now on (undefined: the whole timeline). */
  setWindow(window: TickWindow | undefined): void {
    this.window = window;
  }

  /** Say which tick media time 0 is at from now on (0: the timeline's own playlists). */
  setMediaZero(tick: bigint): void {
    this.zero = tick;
  }

  /** The tick at a media time (seconds) of the video. */
  tickAt(seconds: number): bigint {
    return mediaToTick(seconds) + this.zero;
  }

  /** The media time (seconds) of the video at a tick (negative before media time 0). */
  mediaAt(tick: bigint): number {
    return tickToMedia(tick - this.zero);
  }

  /**
   * The media time of a tick of the window: mediaAt's microseconds (truncated) fall before the tick by
   * less than one, so a tick just after the window's start (media time 0 being at any nanosecond) would
   * land just before it: then one microsecond later.
   */
  private mediaIn(tick: bigint): number {
    const media = this.mediaAt(tick);
    return this.window && this.tickAt(media) < this.window.from ? (Math.round(media * 1e6) + 1) / 1e6 : media;
  }

  /** The tick at the playhead. */
  now(): bigint {
    return this.tickAt(this.video.currentTime);
  }

  /** Tell the bus where the playhead is now. */
  beat(): void {
    const video = this.video;
    let tick = this.now();
    // Playing on past the window would ask the origin for fragments the token does not grant: playback
    // stops at its end, on its last frame (a clip may also end there by itself: the video has ended).
    const past = this.window && tick >= this.window.to && !video.seeking;
    if (past && (!video.paused || video.ended)) {
      video.pause();
      video.currentTime = this.mediaIn(clampTick(tick, this.window));
      tick = this.now();
    }
    this.bus.emit('beat', { tick, playing: !video.paused && !video.ended });
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
    const target = this.mediaIn(tick);
    // An engine still settling after a load (shaka clamps a seek to the range it knows so far) can move a
    // seek elsewhere: the seek is made again until it lands.
    for (let attempt = 0; attempt < 3 && Math.abs(video.currentTime - target) >= MICROSECOND / 2; attempt++) {
      const seeked = new Promise<void>((resolve) =>
        video.addEventListener('seeked', () => resolve(), { once: true }),
      );
      video.currentTime = target;
      await seeked;
    }
  }
}
