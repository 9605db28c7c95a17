import { EngineError } from '../errors.js';
import type { Track } from '../model/track.js';
import { range } from '../queries/read.js';
import { type Resolved, Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import type { ObjectStore, PutOptions } from '../store/object-store.js';
import { SpaceStore } from '../store/space-store.js';
import { parseRate } from '../time/rate.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';

/** One second in ticks. */
export const SECOND = 1_000_000_000n;

/** The test recording's detections: an event track `det` of timeline s1 (60 s buckets unless said). */
export const detections = (bucketDuration = 60n * SECOND): Track => ({
  timeline: 's1',
  name: 'det',
  kind: 'event',
  modality: 'event.detection',
  bucketDuration,
});

/** The detections of a version as tick in seconds -> label: what the merge tests and DAG vectors compare. */
export async function detectionLabels(session: Session, version: Resolved): Promise<Record<string, string>> {
  const page = await range(session, version, {
    timeline: 's1',
    tracks: ['det'],
    t0: 0n,
    t1: 1_000_000n * SECOND,
  });
  return Object.fromEntries(
    page.items.map((i) => [String(i.tick / SECOND), (i.payload as { label: string }).label]),
  );
}

/** A writer for the test recording: timeline s1 with a video stream track (cam) and detections (det). */
export function camAndDetections(base?: Resolved): Writer {
  return new Writer(base)
    .timeline({ name: 's1', genesis: 1_764_000_000_000_000_000n })
    .track({
      timeline: 's1',
      name: 'cam',
      kind: 'stream',
      modality: 'video.h264',
      rate: parseRate('90000'),
      codecs: 'avc1.64001f',
    })
    .track(detections());
}

/** A memory store (`inner`) whose writes fail with E_STORE while `fail()` says so. */
export function failingStore(fail: () => boolean, inner = new MemoryStore()): ObjectStore {
  return {
    name: 'flaky',
    get: (k, r) => inner.get(k, r),
    head: (k) => inner.head(k),
    delete: (k) => inner.delete(k),
    list: (p, o) => inner.list(p, o),
    put: async (k: string, body: Uint8Array, options?: PutOptions) => {
      if (fail()) throw new EngineError('E_STORE', `injected failure writing ${k}`);
      return inner.put(k, body, options);
    },
  };
}

/**
 * A minute of timeline s1 published on main: 2 s fragments (cam), a labelled detection every second
 * (det, text-indexed) and a 4-d vector every second (emb, LSH). Fragment 10 s and detection 17 s carry
 * the texts given: what the delete and erasure tests aim at.
 */
export async function minuteRecording(
  store: ObjectStore,
  marks: { fragment10?: string; detection17?: string } = {},
) {
  const space = new SpaceStore(store, 'lab');
  const session = new Session(space);
  const writer = camAndDetections().track({
    timeline: 's1',
    name: 'emb',
    kind: 'event',
    modality: 'vector.f32;dim=4',
    bucketDuration: 60n * SECOND,
  });
  const fragments = [];
  for (let s = 0n; s < 60n; s += 2n)
    fragments.push({
      tick: s * SECOND,
      duration: 2n * SECOND,
      payload: new TextEncoder().encode(s === 10n && marks.fragment10 ? marks.fragment10 : `fragment@${s}`),
    });
  const dets = [];
  const vecs = [];
  for (let s = 0n; s < 60n; s++) {
    dets.push({
      tick: s * SECOND,
      payload: { label: s === 17n ? (marks.detection17 ?? 'zqxmarker') : `person ${s}` },
    });
    vecs.push({ tick: s * SECOND, payload: [1, Number(s), s === 17n ? 100 : 0, 1] });
  }
  writer.write('s1', 'cam', fragments).write('s1', 'det', dets).write('s1', 'emb', vecs);
  const first = await publish(session, writer, { ref: 'main' });
  return { space, session, first };
}
