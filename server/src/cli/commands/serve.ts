import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface ServeOptions {
  store?: string;
  host: string;
  port: string;
  cacheMb: string;
  maxUploadMb: string;
  log: boolean;
  player?: string;
}

/** `dreamdb serve`: the origin (HLS, DASH, content-addressed bytes and the HTTP API) over a store. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve HLS and DASH, content-addressed bytes and the HTTP API from a store')
    .option(
      '--store <spec>',
      'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    )
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port (0: any free one)', '8080')
    .option('--cache-mb <n>', 'MiB of fragment bytes kept in memory (read-ahead cache)', '256')
    .option('--max-upload-mb <n>', 'MiB of the largest media upload (POST …/ingest); 0: no uploads', '2048')
    .option('--no-log', 'no JSON log line per request on standard output')
    .option(
      '--player <dir>',
      'the built web player to serve at / (default: player/dist of this checkout, if built)',
    )
    .action(async (opts: ServeOptions) => {
      const cacheMb = Number(opts.cacheMb);
      if (!(cacheMb >= 1))
        throw new UsageError(`--cache-mb ${opts.cacheMb}: give a number of MiB, at least 1`);
      const uploadMb = Number(opts.maxUploadMb);
      if (!(uploadMb >= 0))
        throw new UsageError(`--max-upload-mb ${opts.maxUploadMb}: give a number of MiB (0: no uploads)`);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${opts.port}: give a port number from 0 to 65535`);
      const { openStore } = await import('@dreamdb/engine/node/open');
      const { serve } = await import('@hono/node-server');
      const { createOrigin } = await import('../../origin/app.js');
      const logger = opts.log ? (await import('pino')).pino({ base: undefined }) : undefined;
      const opened = await openStore(opts.store);
      const playerDir = opts.player ?? defaultPlayerDir();
      const app = createOrigin({
        store: opened.store,
        ...(existsSync(join(playerDir, 'index.html')) && { playerDir }),
        cacheBytes: cacheMb * 1024 * 1024,
        maxUploadBytes: Math.floor(uploadMb * 1024 * 1024),
        ...(logger && { logger }),
      });
      // Start-up housekeeping first: the upload spools of servers killed mid-upload are gone before any new one.
      await app.ready;
      // An upload of a large recording takes longer than node's default 5 minutes for a whole request.
      const serverOptions = { requestTimeout: 60 * 60 * 1000 };
      const server = serve({ fetch: app.fetch, hostname: opts.host, port, serverOptions }, (info) => {
        process.stdout.write(
          `dreamdb serve: http://${opts.host}:${info.port} (store ${opened.store.name})${existsSync(join(playerDir, 'index.html')) ? '; the player is at /' : ''}\n`,
        );
      });
      const stop = () => server.close(() => void opened.close().then(() => process.exit(0)));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** player/dist of the checkout this program runs from (server/{src,dist}/cli/commands/ -> the repository root). */
function defaultPlayerDir(): string {
  return fileURLToPath(new URL('../../../../player/dist', import.meta.url));
}
