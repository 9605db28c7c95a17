import Hls from 'hls.js';
import shaka from 'shaka-player';
import { rebaseClip, type XmlNode } from './dash-clip.js';

/** Which adaptive streaming engine plays the session: hls.js over the HLS playlists, shaka over DASH. */
export type EngineName = 'hls' | 'dash';

/** A session attached to the video element by one engine. */
export interface Playback {
  readonly engine: EngineName;
  /** The rendition playing now, e.g. "640x360 @ 1.2 Mb/s (rung 2 of 3)". */
  rendition(): string;
  /** The video's frame duration in seconds, from the playlist (1/30 when it does not say). */
  frameSeconds(): number;
  destroy(): Promise<void>;
}

const describe = (
  width: number | undefined,
  height: number | undefined,
  bps: number | undefined,
  rung: string,
) => `${width ?? '?'}x${height ?? '?'} @ ${bps ? `${(bps / 1e6).toFixed(2)} Mb/s` : '?'} (${rung})`;

/** How an engine is attached. */
export interface AttachOptions {
  /** Where to start (seconds of media time): the first fragments loaded are those there, not those at 0. */
  readonly start?: number | undefined;
  /**
   * For a clip (a token's window): told the tick at media time 0 as the engine's manifest is read, before
   * any media is appended. DASH: the clip's Period is moved back to its earliest fragment (dash-clip.ts),
   * whose tick this is. HLS says nothing: hls.js plays the first listed fragment at media time 0, whose
   * tick the caller finds itself.
   */
  readonly onMediaZero?: ((tick: bigint) => void) | undefined;
}

/** Attach hls.js to `video` with the master playlist: ABR on, subtitles shown. */
async function attachHls(video: HTMLVideoElement, url: string, { start }: AttachOptions): Promise<Playback> {
  if (!Hls.isSupported()) throw new Error('this browser has no Media Source Extensions: hls.js cannot play');
  // A small back buffer keeps seeks inside what is already loaded cheap; fragments are 1-2 s.
  const hls = new Hls({
    enableWorker: true,
    backBufferLength: 30,
    maxBufferLength: 20,
    ...(start !== undefined && { startPosition: start }),
  });
  await new Promise<void>((resolve, reject) => {
    hls.on(Hls.Events.MANIFEST_PARSED, () => resolve());
    hls.on(Hls.Events.ERROR, (_e, data) => {
      // The HTTP status says why (401: the link expired; 403: the token does not grant this).
      const status = data.response?.code ? ` (HTTP ${data.response.code})` : '';
      if (data.fatal) reject(new Error(`hls.js: ${data.details}${status}`));
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  });
  hls.subtitleDisplay = true;
  if (hls.subtitleTracks.length > 0) hls.subtitleTrack = 0;
  return {
    engine: 'hls',
    rendition() {
      const i = hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel;
      const level = hls.levels[i];
      return level
        ? describe(
            level.width,
            level.height,
            level.bitrate,
            `rung ${i + 1} of ${hls.levels.length}${hls.autoLevelEnabled ? ', auto' : ''}`,
          )
        : 'loading';
    },
    frameSeconds() {
      const rate = hls.levels[Math.max(0, hls.currentLevel)]?.frameRate;
      return rate ? 1 / rate : 1 / 30;
    },
    async destroy() {
      hls.destroy();
    },
  };
}

/** Attach shaka-player to `video` with the DASH manifest: ABR on, text shown. */
async function attachDash(
  video: HTMLVideoElement,
  url: string,
  { start, onMediaZero }: AttachOptions,
): Promise<Playback> {
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) throw new Error('this browser cannot run shaka-player');
  const player = new shaka.Player();
  if (onMediaZero)
    player.configure({
      manifest: {
        dash: {
          // The MPD as shaka parsed it, before it reads it: a clip's start moves back to its first fragment.
          manifestPreprocessorTXml: (mpd: shaka.extern.xml.Node) => {
            const tick = rebaseClip(mpd as XmlNode);
            if (tick !== undefined) onMediaZero(tick);
          },
        },
      },
    });
  await player.attach(video);
  await player.load(url, start);
  // shaka 5 shows the text track that is selected (there is no separate visibility switch).
  const [text] = player.getTextTracks();
  if (text) player.selectTextTrack(text);
  const active = () => player.getVariantTracks().find((t) => t.active);
  return {
    engine: 'dash',
    rendition() {
      const t = active();
      const all = player.getVariantTracks();
      return t
        ? describe(
            t.width ?? undefined,
            t.height ?? undefined,
            t.bandwidth,
            `${all.length} variants${player.getConfiguration().abr.enabled ? ', auto' : ''}`,
          )
        : 'loading';
    },
    frameSeconds() {
      const rate = active()?.frameRate;
      return rate ? 1 / rate : 1 / 30;
    },
    async destroy() {
      await player.destroy();
    },
  };
}

/**
 * Play a timeline's (or a clip's) playback URLs on `video` with the chosen engine. The URLs are used as
 * they are: a token they need is already in them (access/token.ts).
 */
export function attach(
  video: HTMLVideoElement,
  engine: EngineName,
  urls: { hls: string; dash: string },
  options: AttachOptions = {},
): Promise<Playback> {
  return engine === 'hls' ? attachHls(video, urls.hls, options) : attachDash(video, urls.dash, options);
}
