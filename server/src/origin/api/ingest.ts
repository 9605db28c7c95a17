import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError, MULTIHASH_HEX } from '@dreamdb/engine';
import { branchRef, refName } from '@dreamdb/engine/versions';
import type { IngestOptions } from '@dreamdb/packager';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { fragmentSeconds, sampleSeconds } from '../../ingest-arguments.js';
import type { OriginContext } from '../context.js';
import { names } from '../http/params.js';
import type { HTTP_STATUS } from '../http/status.js';
import { apiError, refusal } from './errors.js';
import { createSpool } from './spool.js';

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
  /** Where a failure after the answer started (a line of the NDJSON form) is logged. */
  readonly logger?: Logger;
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
function capped(max: number, counted: (bytes: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      counted(seen);
      if (seen > max) done(new EngineError('E_TOO_LARGE', `body: over the upload limit of ${max} bytes`));
      else done(null, chunk);
    },
  });
}

/** What an upload became: the status and body of the answer (201/200 with the report, or an error). */
interface Outcome {
  readonly status: 200 | 201 | NonNullable<(typeof HTTP_STATUS)[string]>;
  readonly body: Record<string, unknown>;
}

/**
 * Package a spooled upload in its turn and publish it, reporting progress lines to `report`. Refusals
 * and failures become an outcome (nothing is published): E_MEDIA naming the upload, E_ABORTED when the
 * client went away, an engine refusal with its status; anything else is thrown.
 */
async function packageUpload(
  origin: OriginContext,
  turn: <T>(fn: () => Promise<T>) => Promise<T>,
  upload: {
    space: string;
    timeline: string;
    file: string;
    name: string;
    signal: AbortSignal;
    report?: (line: Record<string, unknown>) => void;
    ingest: Omit<IngestOptions, 'signal' | 'onProgress' | 'onStage'>;
  },
): Promise<Outcome> {
  const { ingest, MediaError, reportJson } = await import('@dreamdb/packager');
  const report = upload.report;
  let last = 0;
  try {
    const done = await turn(() =>
      ingest(origin.session(upload.space), upload.file, {
        ...upload.ingest,
        // A client gone before the publish (waiting its turn, or while packaging) gets nothing published.
        signal: upload.signal,
        ...(report && {
          onProgress: (p) => {
            // At most four lines a second, whatever the fragment rate.
            if (Date.now() - last < 250) return;
            last = Date.now();
            report({ stage: 'packaging', ...p });
          },
          onStage: (stage) => report(stage),
        }),
      }),
    );
    return {
      status: done.unchanged ? 200 : 201,
      body: { space: upload.space, timeline: upload.timeline, ...reportJson(done) },
    };
  } catch (error) {
    if (upload.signal.aborted)
      return {
        status: 400,
        body: { error: 'E_ABORTED', message: 'the client went away; nothing was published' },
      };
    if (error instanceof MediaError) {
      // The spool file's path means nothing to the client: the message names the upload instead.
      const reason = error.reason.replaceAll(upload.file, upload.name);
      return { status: 400, body: { error: 'E_MEDIA', message: `${upload.name}: ${reason}` } };
    }
    const refused = refusal(error, upload.space);
    if (refused) return refused;
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
  app.onError(apiError);
  // A refusal may come before the body is read: closing the connection keeps the unread rest of the
  // upload from being taken for the client's next request on it.
  app.use('*', async (c, next) => {
    await next();
    if (c.res.status >= 400) c.res.headers.set('connection', 'close');
  });

  app.post('/:space/timelines/:timeline/ingest', async (c) => {
    const { space, timeline } = names(c, 'space', 'timeline');
    const q = c.req.query();
    const given = q.branch ? branchRef(q.branch) : (q.ref ?? 'main');
    // An upload moves a ref: a manifest hash names a version, which never moves.
    if (MULTIHASH_HEX.test(given))
      throw new EngineError('E_BAD_REQUEST', `ref: ${given} is a manifest hash; upload to a branch or main`);
    const ref = refName(given);
    // Every parameter is checked before the body is read: a mistake costs no upload.
    const fragment = q.fragment ? fragmentSeconds(q.fragment, 'fragment') : 2;
    const sample = (v: string | undefined, what: string, fallback: number) =>
      v === 'true' ? fallback : v ? sampleSeconds(v, what) : undefined;
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
    const dir = await createSpool(options.spoolDir ?? tmpdir());
    const file = join(dir, 'input');
    const release = async () => {
      inFlight--;
      await rm(dir, { recursive: true, force: true });
    };
    let bytes = 0;
    try {
      await pipeline(
        Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream),
        capped(maxBytes, (n) => {
          bytes = n;
        }),
        createWriteStream(file),
      );
    } catch (error) {
      await release();
      if (c.req.raw.signal.aborted) throw new EngineError('E_BAD_REQUEST', 'the client went away mid-upload');
      throw error;
    }
    const packaged = (report?: (line: Record<string, unknown>) => void) =>
      packageUpload(origin, turn, {
        space,
        timeline,
        file,
        name,
        signal: c.req.raw.signal,
        ...(report && { report }),
        ingest: {
          timeline,
          ref,
          fragmentSeconds: fragment,
          formats: UPLOAD_FORMATS,
          requireNew,
          message: `upload ${name} into ${timeline}`,
          ...(q.transcode === '1' && { transcode: true }),
          ...(thumbnails !== undefined && { thumbnails: { everySeconds: thumbnails } }),
          ...(embeddings !== undefined && { embeddings: { everySeconds: embeddings } }),
          ...(audioLevels && { audioLevels: true }),
        },
      }).finally(release);
    if (!(c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      const { status, body } = await packaged();
      return c.json(body, status);
    }
    // Lines as the upload is packaged (received, the cut's progress, each derived track, publishing),
    // then the outcome: a long recording is not a silent wait.
    const encoder = new TextEncoder();
    const lines = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (line: Record<string, unknown>) => {
          if (!c.req.raw.signal.aborted) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        };
        send({ stage: 'received', bytes });
        try {
          const { status, body } = await packaged(send);
          send({ stage: status < 300 ? 'done' : 'failed', status, ...body });
        } catch (error) {
          options.logger?.error({ err: error, path: c.req.path }, 'internal error');
          const message = (error as Error).message.split('\n')[0];
          send({ stage: 'failed', status: 500, error: 'E_INTERNAL', message });
        }
        controller.close();
      },
    });
    return new Response(lines, {
      headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' },
    });
  });
  return app;
}
