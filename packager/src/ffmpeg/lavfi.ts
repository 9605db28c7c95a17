import { execFileSync } from 'node:child_process';

/** What a test clip holds: a lavfi test picture and/or a tone, encoded as asked. */
export interface ClipOptions {
  /** Seconds of media. */
  readonly seconds: number;
  /** Picture size, e.g. 320x180; no video when omitted. */
  readonly size?: string;
  /** Frames per second (default 25). */
  readonly rate?: number | string;
  /** Keyframe interval in frames (default one second's worth). */
  readonly gop?: number;
  /** Tone sample rate; no audio when omitted. */
  readonly audio?: number;
  /** Extra output options (codecs, movflags…); default H.264 ultrafast and AAC. */
  readonly encode?: readonly string[];
}

/** Make a synthetic recording with ffmpeg's lavfi sources (samples, tests and benches: no media kept in git). */
export function makeClip(file: string, options: ClipOptions): string {
  const rate = options.rate ?? 25;
  const inputs = [
    ...(options.size
      ? ['-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=${rate}:duration=${options.seconds}`]
      : []),
    ...(options.audio
      ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${options.audio}:duration=${options.seconds}`]
      : []),
  ];
  const [num, den = 1] = String(rate).split('/').map(Number) as [number, number?];
  const gop = options.gop ?? Math.round(num / den);
  const encode = options.encode ?? [
    ...(options.size
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(gop)]
      : []),
    ...(options.audio ? ['-c:a', 'aac'] : []),
  ];
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...inputs, ...encode, file]);
  return file;
}
