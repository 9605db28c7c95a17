import Hls from 'hls.js';
import shaka from 'shaka-player';

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

/** Attach hls.js to `video` with the master playlist: ABR on, subtitles shown. */
async function attachHls(video: HTMLVideoElement, url: string, start: number | undefined): Promise<Playback> {
  if (!Hls.isSupported()) throw new Error('this browser has no Media Source Extensions: hls.js cannot play');
  // A small back buffer keeps seeks inside what is already loaded cheap; fragments are 1-2 s. A start
  // position makes the first fragments loaded those at the start (a token's window), not those at 0.
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
  start: number | undefined,
): Promise<Playback> {
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) throw new Error('this browser cannot run shaka-player');
  const player = new shaka.Player();
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
 * Play a timeline's playback URLs on `video` with the chosen engine, from `start` (seconds of media time)
 * when given. The URLs are used as they are: a token they need is already in them (access/token.ts).
 */
export function attach(
  video: HTMLVideoElement,
  engine: EngineName,
  urls: { hls: string; dash: string },
  start?: number,
): Promise<Playback> {
  return engine === 'hls' ? attachHls(video, urls.hls, start) : attachDash(video, urls.dash, start);
}
