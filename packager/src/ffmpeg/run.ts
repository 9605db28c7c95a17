import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { MediaError } from '../errors.js';

/** A running ffmpeg with its output pipes. */
export interface FfmpegRun {
  /** Output i is ffmpeg's `pipe:${3 + i}`. */
  readonly outputs: readonly Readable[];
  /** Resolves when ffmpeg exits 0; rejects with a one-line MediaError otherwise. */
  readonly done: Promise<void>;
  /** ffmpeg's own failure once it has exited with one (not when it was killed). */
  failure(): MediaError | undefined;
  kill(): void;
}

/**
 * Run ffmpeg with `outputs` extra pipes (file descriptors 3, 4, …), so one decode of the input feeds
 * every output (a ladder's rungs, audio and video): the input is read and decoded once.
 * The caller must read every output: ffmpeg waits on a full pipe.
 */
export function runFfmpeg(file: string, args: readonly string[], outputs: number, what?: string): FfmpegRun {
  const making = what ? ` making ${what}` : '';
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...args], {
    stdio: ['ignore', 'ignore', 'pipe', ...Array.from({ length: outputs }, () => 'pipe' as const)],
  });
  const tail: string[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    tail.push(...text.split('\n').filter((l) => l.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - 20));
  });
  let killed = false;
  let failure: MediaError | undefined;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => {
      failure = new MediaError(file, `cannot run ffmpeg${making} (${error.message})`);
      reject(failure);
    });
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      if (killed) return reject(new MediaError(file, 'ffmpeg was stopped'));
      // The first error line names the cause; later ones are its consequences.
      const cause = tail.find((l) => !/^(Error|Conversion failed|av_interleaved)/.test(l)) ?? tail[0];
      failure = new MediaError(file, `ffmpeg failed${making} (${cause ?? `exit ${code ?? signal}`})`);
      reject(failure);
    });
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection
  return {
    outputs: Array.from({ length: outputs }, (_, i) => child.stdio[3 + i] as Readable),
    done,
    failure: () => failure,
    kill() {
      killed = true;
      child.kill('SIGKILL');
    },
  };
}
