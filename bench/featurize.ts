/**
 * The frame featurizer (issue 7) against ffmpeg alone on the same frames, in the same script:
 * - ffmpeg: the decode that frameEmbeddings runs (sample every interval, scale to 64×36 YUV 4:4:4, raw
 *   frames on a pipe), its bytes read and dropped: the floor for the track;
 * - frameEmbeddings: the same run with every frame described and encoded (the derived track's items);
 * - frameDescriptor alone on frames already in memory (the descriptor's own cost).
 * Frames per second of each, at one frame a second (the default) and at 25 a second, on a 720p
 * H.264 recording (2 minutes by default).
 * Run: npm run bench -- featurize   (DREAMDB_BENCH_FEATURIZE_SECONDS=120)
 */
import {
  FRAME_BYTES,
  FRAME_FILTERS,
  frameDescriptor,
  frameEmbeddings,
  rawFrames,
  runFfmpeg,
  sampleFrames,
} from '@dreamdb/packager';
import { best, printTable, type Row, recording } from './lib.ts';

const SECONDS = Number(process.env.DREAMDB_BENCH_FEATURIZE_SECONDS ?? 120);
const input = recording(SECONDS);

/** The frames ffmpeg gives for the track at `every` ticks, read and dropped; how many. */
async function decodeOnly(every: bigint): Promise<number> {
  const { args } = await sampleFrames(input, every, FRAME_FILTERS, 'bench');
  const run = runFfmpeg(input, [...args, '-f', 'rawvideo', 'pipe:3'], 1, 'bench');
  let bytes = 0;
  for await (const chunk of run.outputs[0]!) bytes += (chunk as Buffer).length;
  await run.done;
  return bytes / FRAME_BYTES;
}

async function featurize(everySeconds: number): Promise<number> {
  let count = 0;
  for await (const _ of frameEmbeddings(input, { origin: 0n, everySeconds }).items) count++;
  return count;
}

for (const [label, everySeconds] of [
  ['1 frame/s', 1],
  ['25 frames/s', 0.04],
] as const) {
  const every = BigInt(Math.round(everySeconds * 1e9));
  let frames = 0;
  const ffmpegSeconds = await best(3, async () => {
    frames = await decodeOnly(every);
  });
  let items = 0;
  const oursSeconds = await best(3, async () => {
    items = await featurize(everySeconds);
  });
  // The descriptor alone, on the decoded frames held in memory (a few MB at most for the bench).
  const run = runFfmpeg(
    input,
    [...(await sampleFrames(input, every, FRAME_FILTERS, 'bench')).args, '-f', 'rawvideo', 'pipe:3'],
    1,
  );
  const held: Uint8Array[] = [];
  for await (const frame of rawFrames(run.outputs[0]!, FRAME_BYTES)) if (held.length < 2000) held.push(frame);
  await run.done;
  const describeSeconds = await best(3, () => {
    for (const frame of held) frameDescriptor(frame);
  });
  const rows: Row[] = [
    { name: 'ffmpeg: decode, sample, scale to 64x36, pipe', value: frames / ffmpegSeconds, unit: 'frames/s' },
    {
      name: 'frameEmbeddings: the same, each frame described',
      value: items / oursSeconds,
      unit: 'frames/s',
      note: items === frames ? `${items} frames` : `${items} items for ${frames} frames!`,
    },
    {
      name: 'frameDescriptor alone (frames in memory)',
      value: held.length / describeSeconds,
      unit: 'frames/s',
    },
  ];
  printTable(
    `Frame featurizer, ${label}, ${SECONDS} s of 720p H.264 (best of 3; media time ${(SECONDS / oursSeconds).toFixed(0)}x real time)`,
    rows,
    'ffmpeg: decode, sample, scale to 64x36, pipe',
  );
}
