import type { Command } from 'commander';

/** `dreamdb serve`: the origin (HLS and the HTTP API) over a store. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve HLS playlists, content-addressed bytes and the HTTP API from a store')
    .option(
      '--store <spec>',
      'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    )
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port (0: any free one)', '8080')
    .action(async (opts: { store?: string; host: string; port: string }) => {
      const { openStore } = await import('@dreamdb/engine/node/open');
      const { serve } = await import('@hono/node-server');
      const { createOrigin } = await import('../../origin/app.js');
      const opened = await openStore(opts.store);
      const app = createOrigin({ store: opened.store });
      const server = serve({ fetch: app.fetch, hostname: opts.host, port: Number(opts.port) }, (info) => {
        process.stdout.write(
          `dreamdb serve: http://${opts.host}:${info.port} (store ${opened.store.name})\n`,
        );
      });
      const stop = () => server.close(() => void opened.close().then(() => process.exit(0)));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
