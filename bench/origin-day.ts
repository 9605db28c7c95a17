/**
 * Helpers of bench/origin.ts for the 24-hour timeline: 43,200 fake 2-second fragments of one stream
 * track with a CMAF header, written and published through the engine into a memory store, packed 16 to
 * a bucket (as 1 MiB fragments would be in the packager's 16 MiB buckets); and latency sampling.
 */

import { parseRate, type Tick } from '@dreamdb/engine';
import { MemoryStore, Session, SpaceStore } from '@dreamdb/engine/store';
import { publish, spill, Writer } from '@dreamdb/engine/write';

export const SECOND = 1_000_000_000n;
export const DAY_FRAGMENTS = 43_200;
export const FRAGMENTS_PER_BUCKET = 16;

/**
 * A published 24-hour timeline `day` in space `bench` (track `video`), and its fragment ticks. Its CMAF
 * header and first fragment are real ones (`media`), for routes that parse them (DASH reads the first
 * fragment's tfdt); the other fragments are small made-up bytes.
 */
export async function dayTimeline(media: {
  init: Uint8Array;
  first: Uint8Array;
}): Promise<{ store: MemoryStore; ticks: BigInt64Array }> {
  const store = new MemoryStore();
  const session = new Session(new SpaceStore(store, 'bench'));
  const init = await session.store.putObject(media.init);
  const writer = new Writer().timeline({ name: 'day', genesis: 1_764_000_000_000_000_000n }).track({
    timeline: 'day',
    name: 'video',
    kind: 'stream',
    modality: 'video.h264',
    rate: parseRate('90000'),
    codecs: 'avc1.64001f',
    init,
    attrs: { width: 1280, height: 720, frame_rate: '30' },
  });
  const ticks = new BigInt64Array(DAY_FRAGMENTS);
  for (let i = 0; i < DAY_FRAGMENTS; i++) {
    const tick = BigInt(i) * 2n * SECOND;
    ticks[i] = tick;
    let payload = media.first;
    if (i > 0) {
      payload = new Uint8Array(200 + (i % 97));
      payload[0] = i & 0xff;
      payload[1] = i >> 8;
    }
    writer.write('day', 'video', [{ tick, duration: 2n * SECOND, payload }]);
    if (i % FRAGMENTS_PER_BUCKET === FRAGMENTS_PER_BUCKET - 1) await spill(session, writer, 'day', 'video');
  }
  await publish(session, writer, { ref: 'main' });
  return { store, ticks };
}

/** The greatest tick <= t in a sorted array (index), by binary search: the seek floor. */
export function floorIndex(ticks: BigInt64Array, t: Tick): number {
  let lo = 0;
  let hi = ticks.length - 1;
  if (hi < 0 || t < ticks[0]!) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (ticks[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Milliseconds of each of `n` runs of `fn(i)`, one after the other; fewer (at least 5) when they take
 * over `budgetMs` in all, so a slow path cannot stretch the run.
 */
export async function sample(
  n: number,
  fn: (i: number) => unknown,
  budgetMs = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  const out: number[] = [];
  let spent = 0;
  for (let i = 0; i < n && (i < 5 || spent < budgetMs); i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - start) / 1e6);
    spent += out.at(-1)!;
  }
  return out;
}

/** A seeded uniform random number generator in [0, 1) (an LCG: same places every run). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
