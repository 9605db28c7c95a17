import { FFFSType, FFmpeg } from '@ffmpeg/ffmpeg';

/** Where the server serves ffmpeg.wasm's single-thread core (vite.config.ts copies it there). */
declare const __FFMPEG_CORE__: string;

/** What to cut from a recording, and how to encode the cut. */
export interface TrimOptions {
  /** Seconds from the recording's start. */
  readonly start: number;
  readonly end: number;
  /** Largest picture height kept (smaller pictures are not enlarged); undefined: the recording's own. */
  readonly maxHeight?: number;
  /** Fragment duration the server will cut (a keyframe is forced at each boundary). */
  readonly fragmentSeconds?: number;
  /** Share of the encode done, 0–1. */
  readonly onProgress?: (done: number) => void;
}

let loaded: Promise<FFmpeg> | undefined;

/** The ffmpeg.wasm instance, loaded once per page (its ~32 MB core comes from our origin, not a CDN). */
function ffmpeg(): Promise<FFmpeg> {
  loaded ??= (async () => {
    const instance = new FFmpeg();
    const base = new URL(__FFMPEG_CORE__, location.href).href;
    await instance.load({ coreURL: `${base}ffmpeg-core.js`, wasmURL: `${base}ffmpeg-core.wasm` });
    return instance;
  })().catch((error: unknown) => {
    loaded = undefined; // a failed load is tried again next time
    throw error;
  });
  return loaded;
}

/**
 * Cut [start, end) out of a recording in the browser and encode it as H.264/AAC MP4 with a keyframe at
 * every fragment boundary, so the server remuxes rather than re-encodes it. The input is mounted
 * (WORKERFS), not copied into the wasm heap; only the cut is held in memory.
 */
export async function trim(input: Blob, name: string, options: TrimOptions): Promise<Blob> {
  if (!(options.end > options.start && options.start >= 0))
    throw new Error(`trim: the end (${options.end} s) must come after the start (${options.start} s)`);
  const ff = await ffmpeg();
  const log: string[] = [];
  const onLog = ({ message }: { message: string }) => {
    log.push(message);
    if (log.length > 40) log.shift();
  };
  const duration = options.end - options.start;
  const onProgress = ({ time }: { time: number }) =>
    // `time` is the output's position in microseconds.
    options.onProgress?.(Math.min(1, Math.max(0, time / 1e6 / duration)));
  ff.on('log', onLog);
  ff.on('progress', onProgress);
  const dir = '/input';
  const safe = name.replace(/[^\w.-]+/g, '_') || 'input';
  await ff.createDir(dir).catch(() => {});
  await ff.mount(FFFSType.WORKERFS, { blobs: [{ name: safe, data: input }] }, dir);
  try {
    const every = options.fragmentSeconds ?? 2;
    const scale = options.maxHeight ? ['-vf', `scale=-2:'min(${options.maxHeight},ih)'`] : [];
    const code = await ff.exec([
      '-ss',
      options.start.toFixed(3),
      '-i',
      `${dir}/${safe}`,
      '-t',
      duration.toFixed(3),
      ...scale,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '23',
      '-pix_fmt',
      'yuv420p',
      '-force_key_frames',
      `expr:gte(t,n_forced*${every})`,
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-movflags',
      '+faststart',
      'out.mp4',
    ]);
    if (code !== 0) {
      const why = log.filter((l) => /error|invalid|no such|not/i.test(l)).slice(-2);
      throw new Error(`trim: ffmpeg failed on ${name} (${why.join('; ') || `exit ${code}`})`);
    }
    const data = await ff.readFile('out.mp4');
    await ff.deleteFile('out.mp4');
    return new Blob([data as Uint8Array<ArrayBuffer>], { type: 'video/mp4' });
  } finally {
    ff.off('log', onLog);
    ff.off('progress', onProgress);
    await ff.unmount(dir).catch(() => {});
  }
}
