import { openStore } from '@dreamdb/engine/node/open';
import { fsck } from '@dreamdb/engine/versions';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface ServeOptions {
  port: string;
  host: string;
  bucket: string;
  accessKey?: string;
  secretKey?: string;
  insecureOpen?: boolean;
}

/** `dreamdb store serve DIR`: the embedded object store on its own, over HTTP/1.1 and h2c. */
export function registerStore(program: Command): void {
  const store = program.command('store').description('the embedded object store (S3 REST subset, spec 0005)');
  store
    .command('serve')
    .description(
      'serve a store directory over HTTP/1.1 and h2c until interrupted; other dreamdb commands on it go through this process',
    )
    .argument('<dir>', 'the store directory (created if missing)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '7480')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--bucket <name>', 'the bucket it serves', 'dreamdb')
    .option('--access-key <id>', 'require SigV4 with this access key (env DREAMDB_STORE_ACCESS_KEY)')
    .option('--secret-key <secret>', 'its secret (env DREAMDB_STORE_SECRET_KEY)')
    .option(
      '--insecure-open',
      'on a non-loopback --host, serve without credentials: anyone who reaches it may write',
    )
    .action(async (dir: string, opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${opts.port} is not a port number`);
      const accessKeyId = opts.accessKey ?? process.env.DREAMDB_STORE_ACCESS_KEY;
      const secretAccessKey = opts.secretKey ?? process.env.DREAMDB_STORE_SECRET_KEY;
      if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
        throw new UsageError('--access-key and --secret-key go together');
      }
      const { holdStore, isLoopback, startStoreServer } = await import('@dreamdb/engine/node');
      if (!accessKeyId && !opts.insecureOpen && !isLoopback(opts.host)) {
        throw new UsageError(
          `--host ${opts.host} is not a loopback address: give --access-key and --secret-key, or --insecure-open to take anonymous writes from the network`,
        );
      }
      // Held first (one lock, a holder file for the other commands), then served where asked.
      const held = await holdStore(dir, { bucket: opts.bucket });
      let server: Awaited<ReturnType<typeof startStoreServer>>;
      try {
        server = await startStoreServer({
          store: held.store,
          port,
          host: opts.host,
          ...(accessKeyId && secretAccessKey && { credentials: [{ accessKeyId, secretAccessKey }] }),
          ...(opts.insecureOpen && { allowAnonymous: true }),
        });
      } catch (error) {
        await held.close();
        throw error;
      }
      process.stdout.write(
        `dreamdb store: serving ${dir} at ${server.url}/${server.bucket} (HTTP/1.1 and h2c)\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await held.close();
    });
}

/** `dreamdb fsck`: verify every object's hash and every ref's target. */
export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description('verify every object in the store hashes to its key and every ref points at a sound object')
    .option(
      '--store <spec>',
      'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { store?: string; json?: boolean }) => {
      const opened = await openStore(opts.store);
      try {
        const report = await fsck(opened.store);
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          for (const problem of report.problems) process.stdout.write(`CORRUPT ${problem}\n`);
          process.stdout.write(
            `fsck ${opened.store.name}: ${report.objects} objects (${report.bytes} bytes), ${report.refs} refs, ${report.problems.length} problems\n`,
          );
        }
        if (report.problems.length > 0) process.exitCode = 1;
      } finally {
        await opened.close();
      }
    });
}
