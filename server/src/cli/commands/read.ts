import { multihashToHex, parseTimeArg } from '@dreamdb/engine';
import { range, read } from '@dreamdb/engine/query';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  genesisOf,
  itemJson,
  type TimelineOptions,
  type VersionOptions,
  version,
  versionOptions,
  withSession,
  withTimeline,
} from '../session-options.js';

/** `dreamdb resolve`, `read` and `range`: the engine's read verbs. */
export function registerReads(program: Command): void {
  versionOptions(
    program.command('resolve').description('print the manifest a ref points at (hash, parents, tracks)'),
  ).action((opts: VersionOptions) =>
    withSession(opts, async (session) => {
      const { hash, manifest } = await version(session, opts);
      process.stdout.write(
        `${JSON.stringify({
          manifest: multihashToHex(hash),
          parents: manifest.parents.map(multihashToHex),
          created: manifest.created.toString(),
          ...(manifest.author && { author: manifest.author }),
          ...(manifest.message && { message: manifest.message }),
          timelines: manifest.timelines.map((t) => t.name),
          tracks: manifest.tracks.map((t) => ({
            timeline: t.timeline,
            name: t.name,
            kind: t.kind,
            modality: t.modality,
            items: t.index?.count ?? 0,
            ...(t.index && { first: t.index.first.toString(), last: t.index.last.toString() }),
          })),
        })}\n`,
      );
    }),
  );

  versionOptions(
    program
      .command('read')
      .description('one item by tick: the item covering it (stream) or at/before it (event)'),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .requiredOption('--track <name>', 'the track')
    .requiredOption('--tick <time>', 'ticks, hex, seconds (1.5s) or RFC 3339')
    .action((opts: VersionOptions & { timeline: string; track: string; tick: string }) =>
      withSession(opts, async (session) => {
        const resolved = await version(session, opts);
        const tick = parseTimeArg(opts.tick, {
          name: '--tick',
          genesis: genesisOf(resolved.manifest, opts.timeline),
        });
        const item = await read(session, resolved, { timeline: opts.timeline, track: opts.track, tick });
        if (!item) throw new UsageError(`no item of ${opts.timeline}/${opts.track} at ${opts.tick}`);
        process.stdout.write(`${JSON.stringify(itemJson(item))}\n`);
      }),
    );

  versionOptions(
    program.command('range').description('items of tracks in [from, to), one JSON line each, in time order'),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .option('--tracks <names>', 'comma-separated tracks (default: all of the timeline)')
    .requiredOption('--from <time>', 'start (inclusive)')
    .requiredOption('--to <time>', 'end (exclusive)')
    .option('--limit <n>', 'at most this many items; prints a cursor line to resume')
    .option('--cursor <cursor>', 'resume after a previous page')
    .action(
      (
        opts: TimelineOptions & {
          tracks?: string;
          from: string;
          to: string;
          limit?: string;
          cursor?: string;
        },
      ) =>
        withTimeline(opts, async (session, resolved, genesis) => {
          const limit = opts.limit === undefined ? undefined : Number(opts.limit);
          if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
            throw new UsageError(`--limit ${opts.limit} is not a positive count`);
          const page = await range(session, resolved, {
            timeline: opts.timeline,
            ...(opts.tracks && { tracks: opts.tracks.split(',') }),
            t0: parseTimeArg(opts.from, { name: '--from', genesis }),
            t1: parseTimeArg(opts.to, { name: '--to', genesis }),
            ...(limit !== undefined && { limit }),
            ...(opts.cursor && { cursor: opts.cursor }),
          });
          for (const item of page.items) process.stdout.write(`${JSON.stringify(itemJson(item))}\n`);
          if (page.cursor) process.stdout.write(`${JSON.stringify({ cursor: page.cursor })}\n`);
        }),
    );
}
