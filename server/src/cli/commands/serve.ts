import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readIssuerKeys } from '../issuer-keys.js';

interface ServeOptions {
  store?: string;
  host: string;
  port: string;
  cacheMb: string;
  maxUploadMb: string;
  log: boolean;
  player?: string;
  issuerKey?: string[];
  insecureOpen?: boolean;
  heavyConcurrency: string;
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
      '--issuer-key <key...>',
      'check capability tokens signed by this issuer (ddb-issuer:<hex> or a key file; env DREAMDB_ISSUER_KEYS)',
    )
    .option('--insecure-open', 'serve off loopback with no token checks (anyone reaching it may write)')
    .option(
      '--heavy-concurrency <n>',
      'searches and merges run at once, scheduled fairly between tenants (more: overlap a slow store)',
      '1',
    )
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
      const issuers = readIssuerKeys(opts.issuerKey ?? []);
      const { isLoopback } = await import('@dreamdb/engine/node');
      // Open mode is for one person on one machine: anywhere else an origin checks tokens unless told not to.
      if (issuers.size === 0 && !isLoopback(opts.host) && !opts.insecureOpen)
        throw new UsageError(
          `--host ${opts.host} is not a loopback address: give --issuer-key (dreamdb token keygen) or, knowingly, --insecure-open`,
        );
      const heavy = Number(opts.heavyConcurrency);
      if (!Number.isInteger(heavy) || heavy < 1)
        throw new UsageError(`--heavy-concurrency ${opts.heavyConcurrency}: give a whole number, at least 1`);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${opts.port}: give a port number from 0 to 65535`);
      const { openStore } = await import('@dreamdb/engine/node/open');
      const { serve } = await import('@hono/node-server');
      const { createOrigin } = await import('../../origin/app.js');
      const logger = opts.log ? (await import('pino')).pino({ base: undefined }) : undefined;
      // Held, not just opened: every other dreamdb command on this directory goes through this process.
      const opened = await openStore(opts.store, process.env, { hold: true });
      const playerDir = opts.player ?? defaultPlayerDir();
      const app = createOrigin({
        ...(issuers.size > 0 && { issuers, tenancy: { concurrency: heavy } }),
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
        process.stdout.write(
          issuers.size > 0
            ? `dreamdb serve: checking capability tokens of ${issuers.size} issuer key(s) on every request\n`
            : `dreamdb serve: open mode: no token checks (${opts.insecureOpen ? '--insecure-open' : 'loopback only'})\n`,
        );
      });
      // Usage counted and not yet written goes to the store before the store closes.
      const stop = () =>
        server.close(
          () =>
            void app
              .close()
              .then(() => opened.close())
              .then(() => process.exit(0)),
        );
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** player/dist of the checkout this program runs from (server/{src,dist}/cli/commands/ -> the repository root). */
function defaultPlayerDir(): string {
  return fileURLToPath(new URL('../../../../player/dist', import.meta.url));
}
