/**
 * The packager against ffmpeg on the same file, in the same script (issue 5):
 * - remux: `dreamdb ingest --remux` of a 720p H.264/AAC recording (10 minutes by default) into the
 *   embedded store, against `ffmpeg -c copy -f hls -hls_segment_type fmp4 -hls_time 2`: MB/s of input and
 *   peak RSS of each (GNU time's %M: the largest of the process and its children).
 * - ladder: `dreamdb ingest --ladder 720,480,360` against the bare ffmpeg command line that encodes the
 *   same ladder (the packager's own plan, written to files): wall time and overhead.
 * Run: npm run bench -- packager   (DREAMDB_BENCH_MINUTES=10, DREAMDB_BENCH_LADDER_SECONDS=60)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FsStore } from '@dreamdb/engine/node';
import { Session, SpaceStore } from '@dreamdb/engine/store';
import { ingest, planCmaf, probe } from '@dreamdb/packager';
import { BENCH_MEDIA, printTable, type Row, recording } from './lib.ts';

const MINUTES = Number(process.env.DREAMDB_BENCH_MINUTES ?? 10);
const LADDER_SECONDS = Number(process.env.DREAMDB_BENCH_LADDER_SECONDS ?? 60);
const BIN = fileURLToPath(new URL('../server/bin/dreamdb.js', import.meta.url));
const cache = BENCH_MEDIA;
mkdirSync(cache, { recursive: true });

/** Wall seconds and peak RSS (MiB) of a command, through GNU time. */
function measure(command: string, args: string[]): { seconds: number; rssMiB: number } {
  const start = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.slice(-500)}`);
  const kib = Number(result.stderr.trim().split('\n').at(-1));
  return { seconds, rssMiB: kib / 1024 };
}

const work = mkdtempSync(join(tmpdir(), 'dreamdb-bench-packager-'));
try {
  const input = recording(MINUTES * 60);
  const mb = statSync(input).size / 1e6;
  mkdirSync(join(work, 'hls'));
  const ffmpegRemux = measure('ffmpeg', [
    '-v',
    'error',
    '-i',
    input,
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_segment_type',
    'fmp4',
    '-hls_time',
    '2',
    '-hls_playlist_type',
    'vod',
    join(work, 'hls', 'index.m3u8'),
  ]);
  const ours = measure(process.execPath, [
    BIN,
    'ingest',
    input,
    '--remux',
    '--timeline',
    's1',
    '--store',
    join(work, 'store'),
    '--space',
    'bench',
    '--json',
  ]);
  // The same ingest as a library call in this process: the command's start-up (node and its modules,
  // about 0.3 s) left out.
  const library = await FsStore.open(join(work, 'store-library'));
  const start = process.hrtime.bigint();
  await ingest(new Session(new SpaceStore(library, 'bench')), input, { timeline: 's1', remuxOnly: true });
  const librarySeconds = Number(process.hrtime.bigint() - start) / 1e9;
  await library.close();
  const remux: Row[] = [
    {
      name: 'ffmpeg -c copy -f hls (fmp4, 2 s)',
      value: mb / ffmpegRemux.seconds,
      unit: 'MB/s',
      note: `peak RSS ${ffmpegRemux.rssMiB.toFixed(0)} MiB`,
    },
    {
      name: 'dreamdb ingest --remux (embedded store)',
      value: mb / ours.seconds,
      unit: 'MB/s',
      note: `peak RSS ${ours.rssMiB.toFixed(0)} MiB`,
    },
  ];
  remux.push({ name: 'packager ingest() in-process, same store', value: mb / librarySeconds, unit: 'MB/s' });
  printTable(`Remux of a ${MINUTES}-minute 720p H.264/AAC file (${mb.toFixed(0)} MB)`, remux, remux[0]!.name);

  const short = recording(LADDER_SECONDS);
  const heights = [720, 480, 360];
  const plan = planCmaf(short, (await probe(short)).streams, { fragmentSeconds: 2, ladder: heights });
  // The same encodes, written to files by ffmpeg alone.
  let pipe = 3;
  const bare = plan.args.map((a) => (a === `pipe:${pipe}` ? join(work, `rung-${pipe++}.mp4`) : a));
  const ffmpegLadder = measure('ffmpeg', ['-v', 'error', '-y', ...bare]);
  const oursLadder = measure(process.execPath, [
    BIN,
    'ingest',
    short,
    '--ladder',
    heights.join(','),
    '--timeline',
    's1',
    '--store',
    join(work, 'store-ladder'),
    '--space',
    'bench',
    '--json',
  ]);
  const ladder: Row[] = [
    {
      name: 'ffmpeg alone, same ladder to files',
      value: ffmpegLadder.seconds,
      unit: 's',
      note: `peak RSS ${ffmpegLadder.rssMiB.toFixed(0)} MiB`,
    },
    {
      name: 'dreamdb ingest --ladder 720,480,360',
      value: oursLadder.seconds,
      unit: 's',
      note: `peak RSS ${oursLadder.rssMiB.toFixed(0)} MiB`,
    },
  ];
  printTable(
    `Ladder of a ${LADDER_SECONDS}-second 720p file (3 rungs, x264 veryfast)`,
    ladder,
    ladder[0]!.name,
  );
  console.log(
    `ladder overhead: ${((oursLadder.seconds / ffmpegLadder.seconds - 1) * 100).toFixed(1)}% (goal <= 10%)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
