import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { MediaError } from '../errors.js';

/** One stream of the input, as ffprobe sees it. */
export interface MediaStream {
  readonly index: number;
  readonly kind: 'video' | 'audio' | 'other';
  readonly codec: string;
  readonly width?: number;
  readonly height?: number;
  /** Frames per second as ffprobe's fraction, e.g. "30000/1001". */
  readonly frameRate?: string;
  readonly sampleRate?: number;
  readonly channels?: number;
  /** Presentation start in seconds (may be negative or absent). */
  readonly startTime?: number;
  readonly duration?: number;
  /** Decode and presentation time of the stream's first packet, in ns (exact, from its time base). */
  readonly firstDts?: bigint;
  readonly firstPts?: bigint;
}

/** What ffprobe found in an input. */
export interface Probe {
  readonly file: string;
  readonly format: string;
  readonly duration?: number;
  readonly size?: number;
  /** The container's start, in seconds (MPEG-TS starts near 1.4 s): the input's time zero. */
  readonly startTime?: number;
  readonly streams: readonly MediaStream[];
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string; size?: string; start_time?: string };
  streams?: {
    index: number;
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    sample_rate?: string;
    channels?: number;
    start_time?: string;
    duration?: string;
    time_base?: string;
  }[];
  packets?: { stream_index: number; pts?: number; dts?: number }[];
}

const num = (v: unknown) => {
  const n = typeof v === 'number' ? v : Number.parseFloat(String(v));
  return Number.isFinite(n) ? n : undefined;
};

/** Whether an input names a URL for ffmpeg to fetch rather than a file. */
export function isUrl(input: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(input);
}

/** Nanoseconds of `units` at `num/den` seconds per unit, rounded down (also below zero). */
function toNs(units: bigint, num: bigint, den: bigint): bigint {
  const n = units * num * 1_000_000_000n;
  const q = n / den;
  return n % den !== 0n && n < 0n ? q - 1n : q;
}

function ffprobe(file: string, args: string[]): Promise<FfprobeJson> {
  return new Promise((resolve, reject) =>
    execFile(
      'ffprobe',
      ['-v', 'error', ...args, '-of', 'json', file],
      { maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const lines = String(stderr)
            .split('\n')
            .filter((l) => l.trim() !== '');
          const reason =
            lines.find((l) => l.includes(file))?.split(`${file}: `)[1] ?? lines.at(-1) ?? error.message;
          reject(new MediaError(file, `not a media file ffprobe can read (${reason.trim()})`));
        } else resolve(JSON.parse(stdout) as FfprobeJson);
      },
    ),
  );
}

/**
 * Probe a media file with one ffprobe run: streams, container, and each stream's first packet times
 * (from the first half second of packets; a stream silent that long gets a run of its own). Refusals
 * (missing, empty, not media) name the file and the reason.
 */
export async function probe(file: string, options: { formats?: readonly string[] } = {}): Promise<Probe> {
  // Demuxers that may open other files (hls, concat playlists) are kept out by a whitelist when asked.
  const only = options.formats ? ['-format_whitelist', options.formats.join(',')] : [];
  // A URL (http, https, rtmp…) is ffmpeg's to read; a path is checked here first for clearer errors.
  if (!isUrl(file)) {
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw new MediaError(file, error.code === 'ENOENT' ? 'no such file' : error.message);
    });
    if (info.isDirectory()) throw new MediaError(file, 'is a directory, not a media file');
    if (info.size === 0) throw new MediaError(file, 'is empty (0 bytes)');
  }
  const data = await ffprobe(file, [
    ...only,
    '-show_format',
    '-show_streams',
    '-show_entries',
    'packet=stream_index,pts,dts',
    '-read_intervals',
    '%+0.5',
  ]);
  const format = data.format ?? {};
  // ffmpeg will read any text as ANSI art (the "tty" demuxer): that is not a recording.
  if (format.format_name === 'tty' || (data.streams ?? []).every((s) => s.codec_name === 'ansi'))
    throw new MediaError(file, 'not a media file (ffprobe reads it only as text)');
  const streams = await Promise.all(
    (data.streams ?? []).map(async (s): Promise<MediaStream> => {
      const kind = s.codec_type === 'video' ? 'video' : s.codec_type === 'audio' ? 'audio' : 'other';
      let packet = data.packets?.find((p) => p.stream_index === s.index);
      if (!packet && kind !== 'other') {
        const own = await ffprobe(file, [
          ...only,
          '-select_streams',
          String(s.index),
          '-show_entries',
          'packet=stream_index,pts,dts',
          '-read_intervals',
          '%+#1',
        ]);
        packet = own.packets?.[0];
      }
      const [tbNum, tbDen] = (s.time_base ?? '1/1').split('/').map((v) => BigInt(v)) as [bigint, bigint];
      const first = (v: number | undefined) => (v === undefined ? undefined : toNs(BigInt(v), tbNum, tbDen));
      const firstDts = first(packet?.dts ?? packet?.pts);
      const firstPts = first(packet?.pts ?? packet?.dts);
      return {
        index: s.index,
        kind,
        codec: s.codec_name ?? 'unknown',
        ...(kind === 'video' && { width: s.width, height: s.height, frameRate: s.avg_frame_rate }),
        ...(kind === 'audio' && { sampleRate: num(s.sample_rate), channels: s.channels }),
        ...(num(s.start_time) !== undefined && { startTime: num(s.start_time) }),
        ...(num(s.duration) !== undefined && { duration: num(s.duration) }),
        ...(firstDts !== undefined && { firstDts }),
        ...(firstPts !== undefined && { firstPts }),
      };
    }),
  );
  if (!streams.some((s) => s.kind === 'video' || s.kind === 'audio'))
    throw new MediaError(file, 'has no audio or video stream');
  return {
    file,
    format: format.format_name ?? 'unknown',
    ...(num(format.duration) !== undefined && { duration: num(format.duration) }),
    ...(num(format.size) !== undefined && { size: num(format.size) }),
    ...(num(format.start_time) !== undefined && { startTime: num(format.start_time) }),
    streams,
  };
}
