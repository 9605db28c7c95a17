import type { TimelineDoc } from '@dreamdb/engine/api';
import { clipUrls, mainTrack } from '../access/clip.js';
import { clampTick, type TickWindow } from '../access/rights.js';
import { playbackUrls } from '../access/token.js';
import type { Api } from '../api.js';
import { formatClock, formatMedia } from '../clock.js';
import { byId } from '../dom.js';
import { attach, type EngineName, type Playback } from '../playback.js';
import type { Shared } from './shared.js';

/** What playback is built with. */
export interface PlaybackInput extends Shared {
  readonly video: HTMLVideoElement;
  /** The API: where a clip's first fragment is (the tick hls.js plays at media time 0). */
  readonly api: Api;
  /** The capability token: hls.js and shaka-player get it in the playlist URLs (they send no headers). */
  readonly token: string | undefined;
  /** The stretch of a timeline the token grants, if any: only it is played, as a clip. */
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

  /**
   * Play a version with the view's engine (replacing what played), then tell its frame duration. With a
   * token's window, the clip of the window: the origin refuses such a token the timeline's own playlists.
   * The engines start a clip at media time 0, not at its tick, so the clock is told which tick that is.
   */
  async attach(doc: TimelineDoc): Promise<void> {
    this.doc = doc;
    this.genesis = doc.genesis === undefined ? undefined : BigInt(doc.genesis);
    await this.playback?.destroy();
    const { video, view, token, clock } = this.input;
    const engine = view.state.engine;
    const granted = this.input.window(doc.timeline);
    if (!granted) {
      clock.setMediaZero(0n);
      this.playback = await attach(video, engine, playbackUrls(doc.playback, token));
    } else {
      // hls.js plays the clip's first listed fragment at 0 (found before it plays). shaka plays the MPD's
      // Period start there, moved back to the clip's earliest fragment as shaka reads the MPD (onMediaZero,
      // dash-clip.ts): the window's start until then, which is where the origin starts the Period.
      clock.setMediaZero(engine === 'hls' ? await this.firstFragment(doc, granted) : granted.from);
      this.playback = await attach(video, engine, playbackUrls(clipUrls(doc, granted), token), {
        // The first fragments loaded are those at the playhead, not those at the clip's start.
        start: Math.max(0, clock.mediaAt(clampTick(view.state.t ?? granted.from, granted))),
        onMediaZero: (tick) => clock.setMediaZero(tick),
      });
    }
    this.input.bus.emit('attached', { frameSeconds: this.playback.frameSeconds() });
  }

  /**
   * The tick of the first fragment of a clip's main playlist, which hls.js plays at media time 0 (its
   * initPTS is that fragment's decode time): the fragment of the main track covering the window's start,
   * as the origin's clip lists it first, or the first one after the start when it falls between two.
   */
  private async firstFragment(doc: TimelineDoc, window: TickWindow): Promise<bigint> {
    const track = mainTrack(doc);
    if (track === undefined) return window.from;
    const { api, view } = this.input;
    const { space, ref } = view.state;
    const seek = await api.seek(space, doc.timeline, ref, window.from, [track]);
    const covering = seek.tracks.find((e) => e.track === track);
    if (covering) return BigInt(covering.tick);
    const [first] = await api.items(space, doc.timeline, ref, [track], window, 1);
    return first ? BigInt(first.tick) : window.from;
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
    this.seekMedia(video.currentTime + n * frame);
  }

  /** Step by seconds. */
  stepSeconds(seconds: number): void {
    this.seekMedia(this.input.video.currentTime + seconds);
  }

  /** Seek to a media time of the video (seconds), as a tick (none before tick 0). */
  private seekMedia(seconds: number): void {
    const tick = this.input.clock.tickAt(seconds);
    void this.input.clock.seek(tick > 0n ? tick : 0n);
  }

  /** J/K/L: -1 pauses and steps back a second, 0 pauses at normal speed, 1 plays (each press faster). */
  shuttle(direction: -1 | 0 | 1): void {
    const video = this.input.video;
    if (direction === 0) {
      video.pause();
      video.playbackRate = 1;
    } else if (direction < 0) {
      video.pause();
      this.seekMedia(video.currentTime - 1);
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
