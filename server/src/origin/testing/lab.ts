import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { FsStore } from '@dreamdb/engine/node';
import { Session, SpaceStore } from '@dreamdb/engine/store';
import { type IngestOptions, ingest, makeClip } from '@dreamdb/packager';
import { serve } from '@hono/node-server';
import { createOrigin, type Origin, type OriginOptions } from '../app.js';

/** A served test session: space `lab`, timeline `s1`, a 6 s clip in two rungs with captions, events, thumbnails. */
export interface Lab {
  readonly base: string;
  readonly origin: Origin;
  readonly report: Awaited<ReturnType<typeof ingest>>;
  close(): Promise<void>;
}

/** The two captions every lab session has (0.5–1.5 s "Hello", 3–4.25 s "World"). */
const CAPTIONS = 'WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello\n\n00:00:03.000 --> 00:00:04.250\nWorld\n';

/**
 * Make a 6 s 320x180 clip in `dir`, ingest it into an FsStore there with a 180/144 ladder, the captions,
 * `events` (JSONL text) and thumbnails, and serve it on loopback.
 */
export async function serveLab(
  dir: string,
  events: string,
  options: Partial<Pick<IngestOptions, 'genesis' | 'thumbnails'>> = {},
  /** Options of the origin besides its store (issuer keys, for token tests). */
  originOptions: Omit<OriginOptions, 'store'> = {},
): Promise<Lab> {
  const input = makeClip(join(dir, 'clip.mp4'), { seconds: 6, size: '320x180', audio: 48000 });
  const store = await FsStore.open(join(dir, 'store'));
  writeFileSync(join(dir, 'talk.vtt'), CAPTIONS);
  writeFileSync(join(dir, 'events.jsonl'), events);
  const report = await ingest(new Session(new SpaceStore(store, 'lab')), input, {
    captions: join(dir, 'talk.vtt'),
    events: join(dir, 'events.jsonl'),
    thumbnails: { everySeconds: 2 },
    timeline: 's1',
    ladder: [180, 144],
    ...options,
  });
  const origin = createOrigin({ store, ...originOptions });
  const server = serve({ fetch: origin.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    origin,
    report,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    },
  };
}

/** The streams of a media file by ffprobe: codec type and duration (seconds, as text). */
export async function probeStreams(file: string): Promise<{ codec_type: string; duration: string }[]> {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_type,duration',
    '-of',
    'json',
    file,
  ]);
  return (JSON.parse(stdout) as { streams: { codec_type: string; duration: string }[] }).streams;
}

/** The events most origin tests' sessions carry: a mark by ana at 1 s, a grasp (with a quote) at 3.5 s. */
export const LAB_EVENTS =
  '{"seconds": 1, "label": "start", "who": "ana"}\n{"seconds": 3.5, "duration_s": 1.5, "label": "grasp \\"cup\\""}\n';

/**
 * A lab session for the tests of one file: made in a new folder and served before them, removed after
 * them. Read its fields inside the tests (they are set once `before` has run).
 */
export function labForTests(
  name: string,
  events = LAB_EVENTS,
  options: Partial<Pick<IngestOptions, 'genesis' | 'thumbnails'>> = {
    thumbnails: { everySeconds: 2, width: 96 },
    genesis: 1_795_600_000_000_000_000n,
  },
  originOptions: Omit<OriginOptions, 'store'> = {},
): { readonly dir: string; readonly lab: Lab } {
  const dir = mkdtempSync(join(tmpdir(), `dreamdb-${name}-`));
  let lab: Lab | undefined;
  before(async () => {
    lab = await serveLab(dir, events, options, originOptions);
  });
  after(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    get lab() {
      if (!lab) throw new Error('the lab session is served once before() has run');
      return lab;
    },
  };
}
