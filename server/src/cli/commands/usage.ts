import { assertName } from '@dreamdb/engine';
import {
  type Compaction,
  compactUsage,
  sumUsage,
  USAGE_FIELDS,
  type UsageCounts,
} from '@dreamdb/engine/access';
import { openStore } from '@dreamdb/engine/node/open';
import type { Command } from 'commander';

/** The usage table: one row per space, then the total. */
function table(spaces: Record<string, UsageCounts>, total: UsageCounts): string {
  const rows: string[][] = [
    ['space', ...USAGE_FIELDS],
    ...Object.keys(spaces)
      .sort()
      .map((space) => [space, ...USAGE_FIELDS.map((f) => String(spaces[space]![f]))]),
    ['total', ...USAGE_FIELDS.map((f) => String(total[f]))],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

/** `dreamdb usage <tenant>`: the sum of every origin's usage batches (spec 0018 §5.3). */
export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description("a tenant's usage per space and in total, summed over every origin's batches")
    .argument('<tenant>', 'the tenant name')
    .option('--json', 'print one JSON line')
    .option('--compact', "first fold each origin's batches into one (crash-safe; see spec 0018 §5.3)")
    .option(
      '--store <spec>',
      'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)',
    )
    .action(async (tenant: string, opts: { json?: boolean; compact?: boolean; store?: string }) => {
      assertName(tenant, 'tenant');
      const opened = await openStore(opts.store);
      try {
        const compactions: (Compaction & { origin: string })[] = [];
        if (opts.compact)
          for (const origin of (await sumUsage(opened.store, tenant)).origins)
            compactions.push({ origin, ...(await compactUsage(opened.store, tenant, origin)) });
        const sum = await sumUsage(opened.store, tenant);
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ tenant, spaces: sum.spaces, total: sum.total, batches: sum.batches, origins: sum.origins, ...(opts.compact && { compactions }) })}\n`,
          );
          return;
        }
        for (const c of compactions)
          process.stdout.write(
            c.key
              ? `compacted origin ${c.origin}: ${c.replaced} batches into one (${c.deleted} deleted)\n`
              : `origin ${c.origin}: nothing to compact\n`,
          );
        process.stdout.write(`${table(sum.spaces, sum.total)}\n`);
        process.stdout.write(
          `usage of tenant ${tenant}: ${sum.batches} batches from ${sum.origins.length} origins (${sum.origins.join(', ') || 'none'})\n`,
        );
      } finally {
        await opened.close();
      }
    });
}
