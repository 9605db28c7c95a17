import { assertName } from '@dreamdb/engine';
import {
  claimSpace,
  newTenant,
  ownerOf,
  type Quotas,
  readTenant,
  type TenantRecord,
  updateTenant,
  writeTenant,
} from '@dreamdb/engine/access';
import { openStore } from '@dreamdb/engine/node/open';
import type { ObjectStore } from '@dreamdb/engine/store';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

const STORE_HELP =
  'the store: a directory, s3://bucket/prefix or http(s)://host/bucket (default: DREAMDB_STORE or ./.dreamdb/store)';

interface QuotaOptions {
  quotaBytes?: string;
  quotaObjects?: string;
  rate?: string;
  ingests?: string;
}

/** The quota flags, each a count >= 0, or `none` to lift it (undefined in the result: not given). */
function quotaFlags(opts: QuotaOptions): Partial<Record<keyof Quotas, number | null>> {
  const out: Partial<Record<keyof Quotas, number | null>> = {};
  const flags: [keyof Quotas, string, string | undefined][] = [
    ['bytes', '--quota-bytes', opts.quotaBytes],
    ['objects', '--quota-objects', opts.quotaObjects],
    ['requestsPerSecond', '--rate', opts.rate],
    ['ingests', '--ingests', opts.ingests],
  ];
  for (const [field, flag, text] of flags) {
    if (text === undefined) continue;
    if (text === 'none') out[field] = null;
    else if (/^(0|[1-9][0-9]*)$/.test(text) && Number.isSafeInteger(Number(text))) out[field] = Number(text);
    else throw new UsageError(`${flag} ${JSON.stringify(text)} is not a count (an integer >= 0) or none`);
  }
  return out;
}

/** Quotas with the flags applied: a number sets a quota, null lifts it. */
function applyQuotas(quotas: Quotas, flags: Partial<Record<keyof Quotas, number | null>>): Quotas {
  const out: Record<string, number> = { ...quotas } as Record<string, number>;
  for (const [field, value] of Object.entries(flags)) {
    if (value === null) delete out[field];
    else if (value !== undefined) out[field] = value;
  }
  return out;
}

function quotaOptions(command: Command): Command {
  return command
    .option('--quota-bytes <n>', 'bytes of objects stored at most (none: unlimited)')
    .option('--quota-objects <n>', 'objects stored at most (none: unlimited)')
    .option('--rate <n>', 'requests per second, bursts of twice as many (none: unlimited)')
    .option('--ingests <n>', 'ingests running at once (none: unlimited)')
    .option('--store <spec>', STORE_HELP);
}

async function withStore<T>(spec: string | undefined, fn: (store: ObjectStore) => Promise<T>): Promise<T> {
  const opened = await openStore(spec);
  try {
    return await fn(opened.store);
  } finally {
    await opened.close();
  }
}

/** A record as printed: one JSON line. */
const printRecord = (record: TenantRecord) =>
  process.stdout.write(
    `${JSON.stringify({ tenant: record.tenant, quotas: record.quotas, spaces: record.spaces })}\n`,
  );

/** `dreamdb tenant create|show|claim|set`: tenants, their spaces and quotas (spec 0018 §5). */
export function registerTenant(program: Command): void {
  const tenant = program
    .command('tenant')
    .description('tenants: the spaces they own and their quotas (spec 0018)');

  quotaOptions(
    tenant
      .command('create')
      .description('create a tenant, with its quotas, and claim spaces for it; prints its record')
      .argument('<tenant>', 'the tenant name')
      .option(
        '--space <name>',
        'claim this space for it (repeatable)',
        (v: string, all: string[]) => [...all, v],
        [],
      ),
  ).action((name: string, opts: QuotaOptions & { space: string[]; store?: string }) =>
    withStore(opts.store, async (store) => {
      assertName(name, 'tenant');
      for (const space of opts.space) assertName(space, 'space');
      const flags = quotaFlags(opts);
      // Spaces another tenant owns are refused before the tenant is written, so a refusal leaves nothing.
      for (const space of opts.space) {
        const owner = await ownerOf(store, space);
        if (owner !== undefined && owner !== name)
          throw new UsageError(`space ${space} is owned by tenant ${owner}: nothing was created`);
      }
      await writeTenant(store, newTenant(name, applyQuotas({}, flags)));
      let record = (await readTenant(store, name))!.record;
      for (const space of opts.space) record = (await claimSpace(store, space, name)).record;
      printRecord(record);
    }),
  );

  tenant
    .command('show')
    .description("print a tenant's record (quotas, spaces and their quotas) as one JSON line")
    .argument('<tenant>', 'the tenant name')
    .option('--store <spec>', STORE_HELP)
    .action((name: string, opts: { store?: string }) =>
      withStore(opts.store, async (store) => {
        const stored = await readTenant(store, name);
        if (!stored) throw new UsageError(`tenant ${name} does not exist`);
        printRecord(stored.record);
      }),
    );

  tenant
    .command('claim')
    .description('claim a space for a tenant (once: a space claimed by another tenant is refused)')
    .argument('<tenant>', 'the tenant name')
    .argument('<space>', 'the space')
    .option('--store <spec>', STORE_HELP)
    .action((name: string, space: string, opts: { store?: string }) =>
      withStore(opts.store, async (store) => {
        await claimSpace(store, space, name);
        process.stdout.write(`space ${space} is owned by tenant ${name}\n`);
      }),
    );

  quotaOptions(
    tenant
      .command('set')
      .description("change a tenant's quotas, or one of its spaces' (--space); prints its record")
      .argument('<tenant>', 'the tenant name')
      .option('--space <name>', 'set the quotas of this space of the tenant instead'),
  ).action((name: string, opts: QuotaOptions & { space?: string; store?: string }) =>
    withStore(opts.store, async (store) => {
      const flags = quotaFlags(opts);
      if (Object.keys(flags).length === 0)
        throw new UsageError('nothing to set: give --quota-bytes, --quota-objects, --rate or --ingests');
      const { record } = await updateTenant(store, name, (r) => {
        if (opts.space === undefined) return { ...r, quotas: applyQuotas(r.quotas, flags) };
        const current = r.spaces[opts.space];
        if (!current) throw new UsageError(`tenant ${name} has no space ${opts.space} (claim it first)`);
        return { ...r, spaces: { ...r.spaces, [opts.space]: applyQuotas(current, flags) } };
      });
      printRecord(record);
    }),
  );
}
