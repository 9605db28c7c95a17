import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What GStreamer's playbin played from a URL: buffers per sink and where the last one ends (pts + duration), in seconds. */
export interface GstPlayback {
  readonly video: SinkLog;
  readonly audio: SinkLog;
}

/** Buffers a sink got, and the span they cover (first pts to last pts + duration), in seconds. */
export interface SinkLog {
  readonly buffers: number;
  readonly start: number;
  readonly end: number;
}

const seconds = (clock: string) => {
  const [h, m, s] = clock.split(':') as [string, string, string];
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
};

/**
 * Play `url` to the end with `gst-launch-1.0 playbin` into fake sinks (no clock: as fast as it decodes),
 * and read each buffer the sinks rendered from basesink's debug log. That log is written by the streaming
 * thread itself; the `-v` property notifications are not (they coalesce under load and lose buffers).
 * The connection speed is fixed, so hlsdemux picks one rung and keeps it. Rejects when GStreamer reports
 * an error or does not reach EOS.
 */
export async function gstPlay(url: string): Promise<GstPlayback> {
  const { stdout, stderr } = await run(
    'gst-launch-1.0',
    [
      'playbin',
      `uri=${url}`,
      'connection-speed=1000000',
      'video-sink=fakesink name=video',
      'audio-sink=fakesink name=audio',
    ],
    {
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
      env: { ...process.env, GST_DEBUG: 'basesink:6', GST_DEBUG_NO_COLOR: '1' },
    },
  );
  if (!/Got EOS from element/.test(stdout)) throw new Error(`GStreamer did not play ${url} to the end`);
  const sinks = {
    video: { buffers: 0, start: Number.POSITIVE_INFINITY, end: 0 },
    audio: { buffers: 0, start: Number.POSITIVE_INFINITY, end: 0 },
  };
  for (const match of stderr.matchAll(
    /gst_base_sink_chain_unlocked:<(video|audio)> got times start: ([0-9:.]+), end: ([0-9:.]+)/g,
  )) {
    const sink = sinks[match[1] as 'video' | 'audio'];
    sink.buffers++;
    const start = seconds(match[2]!);
    const end = match[3]!.startsWith('99:99') ? start : seconds(match[3]!);
    sink.start = Math.min(sink.start, start);
    sink.end = Math.max(sink.end, end);
  }
  return sinks;
}
