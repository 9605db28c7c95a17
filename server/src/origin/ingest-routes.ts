import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, refName } from '@dreamdb/engine';
import { Hono } from 'hono';
import { UsageError } from '../cli/errors.js';
import { FRAGMENT_SECONDS, parseSeconds, SAMPLE_SECONDS } from '../cli/time-arg.js';
import { HASH_HEX, type OriginContext } from './context.js';
import { names, verbError } from './verb-routes.js';

/** Knobs of the upload route. */
export interface IngestRouteOptions {
  /** Largest upload, in bytes (default 2 GiB). */
  readonly maxUploadBytes?: number;
  /** Where uploads are spooled while they are packaged (default the OS temporary directory). */
  readonly spoolDir?: string;
  /** Ingests packaged at once; later uploads wait their turn (default 1: ffmpeg uses every core). */
  readonly concurrency?: number;
  /** Uploads being received or waiting at once (default 4); more are 503 (the spool disk is finite). */
  readonly inFlight?: number;
}

const GiB = 1024 ** 3;

/**
 * The containers an upload may be (ffmpeg demuxer names): recordings only. Playlists (hls, concat) and
 * image sequences would make ffmpeg open other files of the server.
 */
export const UPLOAD_FORMATS = [
  'mov',
  'mp4',
  'matroska',
  'webm',
  'mpegts',
  'avi',
  'flv',
  'ogg',
  'wav',
  'mp3',
  'flac',
  'aac',
];

/** A counting semaphore: at most `n` holders; the rest wait in order. */
function semaphore(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

/** Refuses a stream past `max` bytes (a body without Content-Length, or longer than it said). */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max) done(new EngineError('E_TOO_LARGE', `body: over the upload limit of ${max} bytes`));
      else done(null, chunk);
    },
  });
}

/** A duration query parameter in seconds (absent: undefined), or 400 naming it. */
function seconds(value: string | undefined, what: string, range: { min: number; max: number }) {
  if (value === undefined || value === '') return undefined;
  try {
    return parseSeconds(value, what, range);
  } catch (error) {
    if (error instanceof UsageError) throw new EngineError('E_BAD_REQUEST', error.message);
    throw error;
  }
}

/**
 * POST /v0/spaces/:space/timelines/:timeline/ingest: a media file as the request body, packaged as
 * `dreamdb ingest` packages a file (CMAF stream tracks, derived tracks on request) and published to
 * `?ref=` in one manifest. The body is spooled to a temporary file as it arrives (never held in memory)
 * and removed afterwards; a refused or failed ingest publishes nothing, so every ref stays as it was.
 */
export function ingestRoutes(origin: OriginContext, options: IngestRouteOptions = {}): Hono {
  const app = new Hono();
  const maxBytes = options.maxUploadBytes ?? 2 * GiB;
  const turn = semaphore(options.concurrency ?? 1);
  const maxInFlight = options.inFlight ?? 4;
  let inFlight = 0;
  app.onError(verbError);
  // A refusal may come before the body is read: closing the connection keeps the unread rest of the
  // upload from being taken for the client's next request on it.
  app.use('*', async (c, next) => {
    await next();
    if (c.res.status >= 400) c.res.headers.set('connection', 'close');
  });

  app.post('/:space/timelines/:timeline/ingest', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const q = c.req.query();
    const given = q.branch ? `heads/${q.branch}` : (q.ref ?? 'main');
    // An upload moves a ref: a manifest hash names a version, which never moves.
    if (HASH_HEX.test(given))
      throw new EngineError('E_BAD_REQUEST', `ref: ${given} is a manifest hash; upload to a branch or main`);
    const ref = refName(given);
    // Every parameter is checked before the body is read: a mistake costs no upload.
    const fragmentSeconds = seconds(q.fragment, 'fragment', FRAGMENT_SECONDS) ?? 2;
    const sample = (v: string | undefined, what: string, fallback: number) =>
      v === 'true' ? fallback : seconds(v, what, SAMPLE_SECONDS);
    const thumbnails = sample(q.thumbnails, 'thumbnails', 2);
    const embeddings = sample(q.embeddings, 'embeddings', 1);
    const audioLevels = q.audioLevel === '1' || q.audioLevel === 'true';
    const requireNew = q.new === '1' || q.new === 'true';
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > maxBytes)
      throw new EngineError('E_TOO_LARGE', `body: ${declared} bytes is over the upload limit of ${maxBytes}`);
    if (declared === 0 || !c.req.raw.body)
      throw new EngineError('E_BAD_REQUEST', 'body: no media file was sent');
    if (requireNew) {
      // Asked again by the ingest against the version it builds on; this early answer spares the upload.
      const base = await origin.session(space).resolve(ref);
      if (base?.manifest.timelines.some((t) => t.name === timeline))
        throw new EngineError('E_CONFLICT', `timeline ${timeline} already exists in ${space}@${ref}`);
    }
    if (inFlight >= maxInFlight)
      return c.json(
        { error: 'E_BUSY', message: `${inFlight} uploads are in progress here; try again shortly` },
        503,
        { 'retry-after': '10' },
      );
    // The upload's name is for messages and the log only: the spool file has a fixed name.
    const name = (q.name ?? 'upload').replace(/[^\w.-]+/g, '_').slice(0, 80) || 'upload';
    inFlight++;
    const dir = await mkdtemp(join(options.spoolDir ?? tmpdir(), 'dreamdb-upload-'));
    const file = join(dir, 'input');
    try {
      await pipeline(
        Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream),
        capped(maxBytes),
        createWriteStream(file),
      );
      const { ingest, MediaError, reportJson } = await import('@dreamdb/packager');
      let report: Awaited<ReturnType<typeof ingest>>;
      try {
        report = await turn(() => {
          // A client gone while the upload waited its turn wants nothing published.
          if (c.req.raw.signal.aborted) throw new EngineError('E_BAD_REQUEST', 'the client went away');
          return ingest(origin.session(space), file, {
            timeline,
            ref,
            fragmentSeconds,
            formats: UPLOAD_FORMATS,
            requireNew,
            message: `upload ${name} into ${timeline}`,
            ...(q.transcode === '1' && { transcode: true }),
            ...(thumbnails !== undefined && { thumbnails: { everySeconds: thumbnails } }),
            ...(embeddings !== undefined && { embeddings: { everySeconds: embeddings } }),
            ...(audioLevels && { audioLevels: true }),
          });
        });
      } catch (error) {
        if (!(error instanceof MediaError)) throw error;
        // The spool file's path means nothing to the client: the message names the upload instead.
        const reason = error.message.slice(error.file.length + 2).replaceAll(file, name);
        return c.json({ error: 'E_MEDIA', message: `${name}: ${reason}` }, 400);
      }
      return c.json({ space, timeline, ...reportJson(report) }, report.unchanged ? 200 : 201);
    } finally {
      inFlight--;
      await rm(dir, { recursive: true, force: true });
    }
  });
  return app;
}
