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
 * and read each buffer the sinks got from the verbose log. Rejects when GStreamer reports an error or
 * does not reach EOS.
 */
export async function gstPlay(url: string): Promise<GstPlayback> {
  const { stdout } = await run(
    'gst-launch-1.0',
    [
      '-v',
      'playbin',
      `uri=${url}`,
      'video-sink=fakesink name=video silent=false',
      'audio-sink=fakesink name=audio silent=false',
    ],
    { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
  );
  if (!/Got EOS from element/.test(stdout)) throw new Error(`GStreamer did not play ${url} to the end`);
  const sinks = {
    video: { buffers: 0, start: Number.POSITIVE_INFINITY, end: 0 },
    audio: { buffers: 0, start: Number.POSITIVE_INFINITY, end: 0 },
  };
  for (const match of stdout.matchAll(
    /GstFakeSink:(video|audio): last-message = chain .*?pts: ([0-9:.]+), duration: ([0-9:.]+)/g,
  )) {
    const sink = sinks[match[1] as 'video' | 'audio'];
    sink.buffers++;
    const pts = seconds(match[2]!);
    sink.start = Math.min(sink.start, pts);
    sink.end = Math.max(sink.end, pts + seconds(match[3]!));
  }
  return sinks;
}
