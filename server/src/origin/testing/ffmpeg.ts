import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Have ffmpeg, a client nobody here wrote, read `url` (an HLS playlist or a DASH MPD) to the end and copy
 * the streams `maps` selects (`-map` values; none: ffmpeg's default pick) into `out` without re-encoding.
 * Rejects when ffmpeg fails. Asynchronous: the origin answering it may run in the calling process.
 */
export async function ffmpegCopy(url: string, out: string, maps: readonly string[] = []): Promise<void> {
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-i',
    url,
    ...maps.flatMap((m) => ['-map', m]),
    '-c',
    'copy',
    out,
  ]);
}
