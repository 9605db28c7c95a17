import { stat } from 'node:fs/promises';
import ffmpeg from 'fluent-ffmpeg';
import { MediaError } from './errors.js';

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

const num = (v: unknown) => {
  const n = typeof v === 'number' ? v : Number.parseFloat(String(v));
  return Number.isFinite(n) ? n : undefined;
};

/** Probe a media file with ffprobe; refusals (missing, empty, not media) name the file and the reason. */
export async function probe(file: string): Promise<Probe> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new MediaError(file, error.code === 'ENOENT' ? 'no such file' : error.message);
  });
  if (info.isDirectory()) throw new MediaError(file, 'is a directory, not a media file');
  if (info.size === 0) throw new MediaError(file, 'is empty (0 bytes)');
  const data = await new Promise<ffmpeg.FfprobeData>((resolve, reject) =>
    ffmpeg.ffprobe(file, (error, result) => (error ? reject(error) : resolve(result))),
  ).catch((error: Error) => {
    const lines = error.message.split('\n').filter((l) => l.trim() !== '');
    const reason =
      lines.find((l) => l.includes(file))?.split(`${file}: `)[1] ?? lines.at(-1) ?? 'ffprobe failed';
    throw new MediaError(file, `not a media file ffprobe can read (${reason.trim()})`);
  });
  // ffmpeg will read any text as ANSI art (the "tty" demuxer): that is not a recording.
  if (data.format.format_name === 'tty' || data.streams.every((s) => s.codec_name === 'ansi'))
    throw new MediaError(file, 'not a media file (ffprobe reads it only as text)');
  const streams = data.streams.map((s): MediaStream => {
    const kind = s.codec_type === 'video' ? 'video' : s.codec_type === 'audio' ? 'audio' : 'other';
    return {
      index: s.index,
      kind,
      codec: s.codec_name ?? 'unknown',
      ...(kind === 'video' && { width: s.width, height: s.height, frameRate: s.avg_frame_rate }),
      ...(kind === 'audio' && { sampleRate: num(s.sample_rate), channels: s.channels }),
      ...(num(s.start_time) !== undefined && { startTime: num(s.start_time) }),
      ...(num(s.duration) !== undefined && { duration: num(s.duration) }),
    };
  });
  if (!streams.some((s) => s.kind === 'video' || s.kind === 'audio'))
    throw new MediaError(file, 'has no audio or video stream');
  return {
    file,
    format: data.format.format_name ?? 'unknown',
    ...(num(data.format.duration) !== undefined && { duration: num(data.format.duration) }),
    ...(num(data.format.size) !== undefined && { size: num(data.format.size) }),
    ...(num(data.format.start_time) !== undefined && { startTime: num(data.format.start_time) }),
    streams,
  };
}

/** Nanoseconds of `units` at `num/den` seconds per unit, rounded down (also below zero). */
function toNs(units: bigint, num: bigint, den: bigint): bigint {
  const n = units * num * 1_000_000_000n;
  const q = n / den;
  return n % den !== 0n && n < 0n ? q - 1n : q;
}

/**
 * When a stream's first packet is decoded and presented, in nanoseconds from the input's zero (negative
 * for audio priming and B-frame delay), from ffprobe's integer timestamps and time base: exact.
 */
export async function firstPacketTimes(file: string, stream: number): Promise<{ dts: bigint; pts: bigint }> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        String(stream),
        '-show_entries',
        'stream=time_base:packet=dts,pts',
        '-read_intervals',
        '%+#1',
        '-of',
        'json',
        file,
      ],
      (error, stdout) =>
        error ? reject(new MediaError(file, `ffprobe cannot read stream ${stream}`)) : resolve(stdout),
    ),
  );
  const data = JSON.parse(out) as {
    streams?: { time_base?: string }[];
    packets?: { dts?: number; pts?: number }[];
  };
  const [num, den] = (data.streams?.[0]?.time_base ?? '1/1').split('/').map((v) => BigInt(v)) as [
    bigint,
    bigint,
  ];
  const packet = data.packets?.[0];
  const dts = BigInt(packet?.dts ?? packet?.pts ?? 0);
  const pts = BigInt(packet?.pts ?? packet?.dts ?? 0);
  return { dts: toNs(dts, num, den), pts: toNs(pts, num, den) };
}
