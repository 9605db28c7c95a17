import { multihashFromHex, multihashToHex, parseTimeArg } from '@dreamdb/engine';
import { compact, type DeleteSelector, deleteItems, END, erase } from '@dreamdb/engine/write';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { genesisOf, type SpaceOptions, spaceOptions, withSession } from '../session-options.js';

interface DeleteOpts extends SpaceOptions {
  timeline: string;
  track?: string;
  tick?: string;
  from?: string;
  to?: string;
  ref: string;
  erase?: boolean;
  author?: string;
  message?: string;
}

/** `dreamdb delete`: a timeline, a track, one item or a tick range, deleted on a branch and published. */
export function registerDelete(program: Command): void {
  spaceOptions(
    program
      .command('delete')
      .description(
        'delete a timeline, a track, one item (--tick) or a range of items (--from/--to) on a branch; earlier versions keep them unless --erase',
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline (alone: the whole timeline and its tracks)')
    .option('--track <name>', 'the track (alone: the whole track)')
    .option('--tick <time>', 'the one item at this time')
    .option('--from <time>', 'items at or after this time')
    .option('--to <time>', 'items before this time (exclusive)')
    .option('--ref <name>', 'the branch to delete on (tags never change)', 'main')
    .option('--erase', 'also erase the bytes from every earlier version (spec 0020 §7)')
    .option('--author <name>', 'who deleted')
    .option('--message <text>', 'why')
    .action((opts: DeleteOpts) =>
      withSession(opts, async (session) => {
        if (opts.tick !== undefined && (opts.from !== undefined || opts.to !== undefined))
          throw new UsageError('give --tick, or --from and --to, not both');
        if (opts.track === undefined && (opts.tick ?? opts.from ?? opts.to) !== undefined)
          throw new UsageError('--tick, --from and --to delete items of one track: give --track');
        const base = await session.resolve(opts.ref);
        const genesis = base ? genesisOf(base.manifest, opts.timeline) : undefined;
        const time = (text: string, name: string) => parseTimeArg(text, { name, genesis });
        const tick = opts.tick === undefined ? undefined : time(opts.tick, '--tick');
        const selector: DeleteSelector = {
          timeline: opts.timeline,
          ...(opts.track !== undefined && { track: opts.track }),
          ...(tick !== undefined && { from: tick, to: tick + 1n }),
          ...(opts.from !== undefined && { from: time(opts.from, '--from') }),
          ...(opts.to !== undefined && { to: time(opts.to, '--to') }),
        };
        const done = await deleteItems(session, {
          ref: opts.ref,
          selectors: [selector],
          ...(opts.erase && { erase: true }),
          ...(opts.author && { author: opts.author }),
          ...(opts.message && { message: opts.message }),
        });
        process.stdout.write(
          `${JSON.stringify({
            manifest: done.published ? multihashToHex(done.published.hash) : null,
            deleted: done.deleted,
            ...(done.erasure && { erasure: done.erasure }),
            tombstones: done.tombstones.map((t) => ({
              timeline: t.timeline,
              ...(t.track !== undefined && { track: t.track }),
              ...(t.from !== undefined && { from: t.from.toString() }),
              ...(t.to !== undefined && t.to !== END && { to: t.to.toString() }),
              count: t.count,
            })),
          })}\n`,
        );
      }),
    );

  spaceOptions(
    program
      .command('compact')
      .description(
        "rewrite the buckets of a branch's head that still hold deleted items' bytes, and publish (spec 0020 §6)",
      ),
  )
    .option('--ref <name>', 'the branch', 'main')
    .option('--message <text>', 'why', 'compact')
    .action((opts: SpaceOptions & { ref: string; message: string }) =>
      withSession(opts, async (session) => {
        const done = await compact(session, { ref: opts.ref, message: opts.message });
        process.stdout.write(
          `${JSON.stringify({ ...done, manifest: done.manifest ? multihashToHex(done.manifest) : null })}\n`,
        );
      }),
    );

  spaceOptions(
    program
      .command('erase')
      .description(
        'erase from every version the items a delete removed (what delete --erase does; run it again to finish one that stopped)',
      ),
  )
    .requiredOption('--manifest <hash>', 'the manifest the delete published')
    .action((opts: SpaceOptions & { manifest: string }) =>
      withSession(opts, async (session) => {
        process.stdout.write(`${JSON.stringify(await erase(session, multihashFromHex(opts.manifest)))}\n`);
      }),
    );
}
