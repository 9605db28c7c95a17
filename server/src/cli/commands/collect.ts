import { parseTimeArg } from '@dreamdb/engine';
import { collect } from '@dreamdb/engine/versions';
import type { Command } from 'commander';
import { type SpaceOptions, spaceOptions, withSession } from '../session-options.js';

/** `dreamdb collect`: the engine's garbage collection. */
export function registerCollect(program: Command): void {
  spaceOptions(
    program
      .command('collect')
      .description('garbage-collect objects no ref reaches (older than the grace period)'),
  )
    .option('--grace <time>', 'keep unreachable objects younger than this (seconds, e.g. 3600s)', '3600s')
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .action((opts: SpaceOptions & { grace: string; dryRun?: boolean }) =>
      withSession(opts, async (session) => {
        const graceMs = Number(parseTimeArg(opts.grace, { name: '--grace' }) / 1_000_000n);
        const report = await collect(session, { graceMs, dryRun: opts.dryRun ?? false });
        for (const hex of report.deleted)
          process.stdout.write(`${opts.dryRun ? 'would delete' : 'deleted'} ${hex}\n`);
        process.stdout.write(
          `collect ${opts.space}: ${report.refs} refs, ${report.manifests} manifests, ${report.reachable} reachable of ${report.scanned} objects; ${report.deleted.length} ${opts.dryRun ? 'to delete' : 'deleted'} (${report.bytesFreed} bytes), ${report.keptYoung} kept as too young\n`,
        );
      }),
    );
}
