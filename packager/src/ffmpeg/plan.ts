import type { MediaStream } from './probe.js';

/** Codecs browsers play from CMAF (MSE): these are remuxed; anything else is transcoded. */
export const PLAYABLE = {
  video: new Set(['h264', 'vp9', 'av1']),
  audio: new Set(['aac', 'opus', 'flac', 'mp3']),
} as const;

/** One CMAF output of an ingest: the track it becomes and how ffmpeg makes it. */
export interface OutputPlan {
  readonly track: string;
  readonly kind: 'video' | 'audio';
  readonly source: MediaStream;
  /** Copied as it is (remux) rather than encoded. */
  readonly copy: boolean;
  /** Ladder rungs: the height and the target bit rate (bits/s) of the encode. */
  readonly height?: number;
  readonly bitrate?: number;
}

/** The ffmpeg command line of an ingest and what each of its output pipes carries. */
export interface Plan {
  readonly args: readonly string[];
  readonly outputs: readonly OutputPlan[];
}

export interface PlanOptions {
  readonly fragmentSeconds: number;
  /** Encode every stream even when it is playable. */
  readonly transcode?: boolean;
  /** Heights of a video ladder (e.g. 1080, 720, 480, 360); rungs above the source are dropped. */
  readonly ladder?: readonly number[];
}

/** H.264 target bit rates by height (Apple's HLS authoring guidance, rounded); others scale by pixels. */
const BITRATES: Record<number, number> = {
  2160: 16_000_000,
  1440: 9_000_000,
  1080: 5_000_000,
  720: 2_800_000,
  540: 2_000_000,
  480: 1_400_000,
  360: 800_000,
  240: 400_000,
};

/** Target bit rate of an H.264 rung of this height. */
export function bitrateFor(height: number): number {
  const known = BITRATES[height];
  if (known) return known;
  return Math.round((BITRATES[720]! * (height * height)) / (720 * 720) / 1000) * 1000;
}

/** Whether a stream is copied as it is (its codec plays in browsers and no transcode was asked for). */
export function remuxes(stream: MediaStream, options: Pick<PlanOptions, 'transcode'>): boolean {
  return !options.transcode && (PLAYABLE[stream.kind as 'video' | 'audio']?.has(stream.codec) ?? false);
}

/** x264 with a keyframe (IDR) exactly at every fragment boundary, so every rung cuts at the same ticks. */
function h264(fragmentSeconds: number, bitrate?: number): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-force_key_frames',
    `expr:gte(t,n_forced*${fragmentSeconds})`,
    '-forced-idr',
    '1',
    '-sc_threshold',
    '0',
    ...(bitrate
      ? [
          '-b:v',
          String(bitrate),
          '-maxrate',
          String(Math.round(bitrate * 1.07)),
          '-bufsize',
          String(bitrate * 1.5),
        ]
      : []),
  ];
}

/** The fMP4 muxer options of one output: fragments of the target length starting at sync samples. */
function cmafMuxer(kind: 'video' | 'audio', fragmentSeconds: number, pipe: number): string[] {
  return [
    '-map_metadata',
    '-1',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof+skip_trailer',
    // Video: cut at the first keyframe at least this long into the fragment. Audio (every frame a sync
    // sample): cut at this length.
    kind === 'video' ? '-min_frag_duration' : '-frag_duration',
    String(Math.round(fragmentSeconds * 1e6)),
    '-f',
    'mp4',
    `pipe:${pipe}`,
  ];
}

/**
 * Plan one ffmpeg run for an ingest: the first video stream (remuxed, transcoded, or encoded as a ladder
 * from one decode through a split filter) and every audio stream, each to its own output pipe.
 */
export function planCmaf(input: string, streams: readonly MediaStream[], options: PlanOptions): Plan {
  const video = streams.find((s) => s.kind === 'video');
  const audios = streams.filter((s) => s.kind === 'audio');
  const outputs: OutputPlan[] = [];
  const args: string[] = ['-i', input];
  const perOutput: string[][] = [];
  if (video) {
    const rungs = options.ladder
      ? [...new Set(options.ladder)].filter((h) => h <= (video.height ?? Number.POSITIVE_INFINITY))
      : [];
    if (options.ladder && rungs.length === 0) rungs.push(video.height ?? 360);
    if (rungs.length > 0) {
      rungs.sort((a, b) => b - a);
      const labels = rungs.map((_, i) => `[r${i}]`);
      args.push(
        '-filter_complex',
        `[0:${video.index}]split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')};${rungs
          .map((h, i) => `[s${i}]scale=-2:${h}${labels[i]}`)
          .join(';')}`,
      );
      rungs.forEach((height, i) => {
        const bitrate = bitrateFor(height);
        outputs.push({
          track: `video-${height}p`,
          kind: 'video',
          source: video,
          copy: false,
          height,
          bitrate,
        });
        perOutput.push(['-map', labels[i]!, ...h264(options.fragmentSeconds, bitrate)]);
      });
    } else {
      const copy = remuxes(video, options);
      outputs.push({ track: 'video', kind: 'video', source: video, copy });
      perOutput.push([
        '-map',
        `0:${video.index}`,
        ...(copy ? ['-c', 'copy'] : h264(options.fragmentSeconds)),
      ]);
    }
  }
  audios.forEach((audio, i) => {
    const copy = remuxes(audio, options);
    outputs.push({ track: i === 0 ? 'audio' : `audio-${i + 1}`, kind: 'audio', source: audio, copy });
    // AAC from MPEG-TS comes in ADTS frames, which MP4 stores without their headers.
    const copyArgs = audio.codec === 'aac' ? ['-c', 'copy', '-bsf:a', 'aac_adtstoasc'] : ['-c', 'copy'];
    perOutput.push(['-map', `0:${audio.index}`, ...(copy ? copyArgs : ['-c:a', 'aac', '-b:a', '128k'])]);
  });
  perOutput.forEach((options_, i) => {
    args.push(...options_, ...cmafMuxer(outputs[i]!.kind, options.fragmentSeconds, 3 + i));
  });
  return { args, outputs };
}
