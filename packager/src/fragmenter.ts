import type { PassThrough } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { topLevelBoxes } from './boxes.js';
import { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './cmaf.js';
import { MediaError } from './errors.js';
import type { MediaStream } from './probe.js';

/** Codecs browsers play from CMAF (MSE): these are remuxed; anything else is transcoded. */
export const PLAYABLE = {
  video: new Set(['h264', 'vp9', 'av1']),
  audio: new Set(['aac', 'opus', 'flac', 'mp3']),
} as const;

/** The CMAF header, then each fragment, of one track, as ffmpeg's fMP4 muxer writes them. */
export type CmafEvent =
  | { readonly kind: 'init'; readonly bytes: Uint8Array; readonly info: InitInfo }
  | { readonly kind: 'fragment'; readonly bytes: Uint8Array; readonly info: FragmentInfo };

export interface CmafOptions {
  /** Target fragment duration in seconds: fragments start at the first sync sample after it. */
  readonly fragmentSeconds: number;
  /** Re-encode even when the codec is playable. */
  readonly transcode?: boolean;
}

/** Whether a stream is copied as it is (its codec plays in browsers and no transcode was asked for). */
export function remuxes(stream: MediaStream, options: Pick<CmafOptions, 'transcode'>): boolean {
  return !options.transcode && (PLAYABLE[stream.kind as 'video' | 'audio']?.has(stream.codec) ?? false);
}

/** ffmpeg output options for one stream: copy when playable, else H.264/AAC with keyframes at each fragment. */
function codecOptions(stream: MediaStream, options: CmafOptions): string[] {
  if (remuxes(stream, options)) return ['-c', 'copy'];
  if (stream.kind === 'video') {
    return [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      // A keyframe at every fragment boundary, so fragments are the requested length.
      '-force_key_frames',
      `expr:gte(t,n_forced*${options.fragmentSeconds})`,
    ];
  }
  return ['-c:a', 'aac', '-b:a', '128k'];
}

/**
 * Cut one stream of `input` into CMAF: one header, then fragments (moof + mdat) that each start at a
 * sync sample. ffmpeg runs as a child process and its output is split box by box as it arrives, so
 * memory holds one fragment at a time, whatever the input's length.
 */
export async function* cmafTrack(
  input: string,
  stream: MediaStream,
  options: CmafOptions,
): AsyncGenerator<CmafEvent> {
  const micros = Math.round(options.fragmentSeconds * 1e6);
  let failure: Error | undefined;
  let exited!: () => void;
  const exit = new Promise<void>((resolve) => {
    exited = resolve;
  });
  const command = ffmpeg(input)
    .outputOptions([
      '-map',
      `0:${stream.index}`,
      ...codecOptions(stream, options),
      '-map_metadata',
      '-1',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof+skip_trailer',
      // Video: cut at the first keyframe at least this long after the fragment's start. Audio (every
      // frame a sync sample): cut at this length.
      stream.kind === 'video' ? '-min_frag_duration' : '-frag_duration',
      String(micros),
    ])
    .format('mp4')
    .on('error', (error: Error, _stdout: string | null, stderr: string | null) => {
      const line = stderr
        ?.split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .at(-1);
      failure = new MediaError(input, `ffmpeg failed on stream ${stream.index} (${line ?? error.message})`);
      exited();
    })
    .on('end', () => exited());
  const output = command.pipe() as PassThrough;
  let init: InitInfo | undefined;
  let header: Uint8Array[] = [];
  let moof: Uint8Array | undefined;
  try {
    for await (const box of topLevelBoxes(output)) {
      if (box.type === 'ftyp') header = [box.bytes];
      else if (box.type === 'moov') {
        header.push(box.bytes);
        const bytes = Buffer.concat(header);
        init = parseInit(bytes);
        yield { kind: 'init', bytes, info: init };
      } else if (box.type === 'moof') moof = box.bytes;
      else if (box.type === 'mdat') {
        if (!init || !moof) throw new MediaError(input, 'ffmpeg wrote media data before its header');
        const bytes = Buffer.concat([moof, box.bytes]);
        moof = undefined;
        yield { kind: 'fragment', bytes, info: parseFragment(bytes, init) };
      }
    }
  } catch (error) {
    throw failure ?? error;
  } finally {
    // A consumer that stops early (or an error) must not leave ffmpeg running.
    if (!output.readableEnded) command.kill('SIGKILL');
  }
  // The muxer's output can end cleanly even when ffmpeg failed: wait for its exit status.
  await exit;
  if (failure) throw failure;
  if (!init) throw new MediaError(input, `ffmpeg produced no CMAF header for stream ${stream.index}`);
}
