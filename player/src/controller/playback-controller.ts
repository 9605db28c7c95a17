import type { TimelineDoc } from '@dreamdb/engine/api';
import { clampTick, type TickWindow } from '../access/rights.js';
import { playbackUrls } from '../access/token.js';
import { formatClock, formatMedia, mediaToTick, tickToMedia } from '../clock.js';
import { byId } from '../dom.js';
import { attach, type EngineName, type Playback } from '../playback.js';
import type { Shared } from './shared.js';

/** What playback is built with. */
export interface PlaybackInput extends Shared {
  readonly video: HTMLVideoElement;
  /** The capability token: hls.js and shaka-player get it in the playlist URLs (they send no headers). */
  readonly token: string | undefined;
  /** The stretch of a timeline the token grants, if any: playback starts inside it. */
  window(timeline: string): TickWindow | undefined;
  /** The player is busy until `work` settles (not ready meanwhile; a failure is shown). */
  busy(work: Promise<void>): void;
}

/**
 * Playback: hls.js or shaka-player on the video for the version on screen, the engine switch, the readout
 * under the video (media time, wall-clock time, rendition), the transport keys, and the playhead in the URL.
 */
export class PlaybackController {
  private playback: Playback | undefined;
  private doc: TimelineDoc | undefined;
  private genesis: bigint | undefined;
  /** What the readout shows, so a beat with nothing new writes nothing to the page. */
  private readonly shown = { text: -1n, at: 0, rendition: '' };

  constructor(private readonly input: PlaybackInput) {
    const { video, clock, bus, view } = input;
    bus.on('beat', ({ tick, playing }) => this.render(tick, playing));
    bus.on('seek', ({ tick }) => view.set({ t: tick }));
    for (const event of ['seeked', 'pause'])
      video.addEventListener(event, () => view.set({ t: clock.now() }));
    const engine = byId<HTMLSelectElement>('engine');
    engine.value = view.state.engine;
    engine.addEventListener('change', () => input.busy(this.switchEngine(engine.value as EngineName)));
  }

  /** Play a version with the view's engine (replacing what played), then tell its frame duration. */
  async attach(doc: TimelineDoc): Promise<void> {
    this.doc = doc;
    this.genesis = doc.genesis === undefined ? undefined : BigInt(doc.genesis);
    await this.playback?.destroy();
    const { video, view, token } = this.input;
    const granted = this.input.window(doc.timeline);
    // With a window, the engine's first requests are inside it (from 0 they would be refused).
    const start = granted && tickToMedia(clampTick(view.state.t ?? granted.from, granted));
    this.playback = await attach(video, view.state.engine, playbackUrls(doc.playback, token), start);
    this.input.bus.emit('attached', { frameSeconds: this.playback.frameSeconds() });
  }

  /** Play on with another engine from the playhead: only playback is attached again. */
  private async switchEngine(engine: EngineName): Promise<void> {
    const { view, clock } = this.input;
    // The playhead as it is now: while the engines change over, the video's events report time 0.
    const tick = clock.now();
    view.set({ engine, t: tick });
    if (this.doc) await this.attach(this.doc);
    await clock.seek(tick);
  }

  /** Play, or pause. */
  togglePlay(): void {
    const video = this.input.video;
    if (video.paused) void video.play();
    else video.pause();
  }

  /** Pause and step by frames (±n). */
  stepFrames(n: number): void {
    const video = this.input.video;
    video.pause();
    const frame = this.playback?.frameSeconds() ?? 1 / 30;
    void this.input.clock.seek(mediaToTick(Math.max(0, video.currentTime + n * frame)));
  }

  /** Step by seconds. */
  stepSeconds(seconds: number): void {
    void this.input.clock.seek(mediaToTick(Math.max(0, this.input.video.currentTime + seconds)));
  }

  /** J/K/L: -1 pauses and steps back a second, 0 pauses at normal speed, 1 plays (each press faster). */
  shuttle(direction: -1 | 0 | 1): void {
    const video = this.input.video;
    if (direction === 0) {
      video.pause();
      video.playbackRate = 1;
    } else if (direction < 0) {
      video.pause();
      void this.input.clock.seek(mediaToTick(Math.max(0, video.currentTime - 1)));
    } else {
      video.playbackRate = video.paused ? 1 : Math.min(4, video.playbackRate * 2);
      void video.play();
    }
  }

  /** The readout at a beat: written only where it changed. */
  private render(tick: bigint, playing: boolean): void {
    const shown = this.shown;
    // Playing, the digits change faster than they can be read: ten times a second is enough.
    if (tick !== shown.text && (!playing || performance.now() - shown.at >= 100)) {
      shown.text = tick;
      shown.at = performance.now();
      byId('media-time').textContent = formatMedia(tick);
      byId('clock-time').textContent = formatClock(tick, this.genesis) ?? '';
    }
    const playback = this.playback;
    const rendition = playback ? `${playback.engine.toUpperCase()} · ${playback.rendition()}` : '';
    if (rendition !== shown.rendition) byId('rendition').textContent = shown.rendition = rendition;
  }
}
