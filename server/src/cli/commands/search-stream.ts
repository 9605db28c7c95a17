import { formatAddress, read, search, stream, tickToHex } from '@dreamdb/engine';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  genesisOf,
  itemJson,
  type VersionOptions,
  version,
  versionOptions,
  withSession,
} from '../session-options.js';
import { parseTimeArg } from '../time-arg.js';

/** `dreamdb search` and `dreamdb stream`. */
export function registerSearchStream(program: Command): void {
  versionOptions(
    program
      .command('search')
      .description('the k nearest items of a vector track by cosine (exact, brute force in v0)'),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .requiredOption('--track <name>', 'the vector track (vector.f32;dim=N)')
    .option('--vector <numbers>', 'the query: comma-separated numbers')
    .option('--like <time>', 'the query: the vector of the item at this time')
    .option('--k <n>', 'how many hits', '10')
    .option('--from <time>', 'only items at or after this time')
    .option('--to <time>', 'only items before this time')
    .action(
      (
        opts: VersionOptions & {
          timeline: string;
          track: string;
          vector?: string;
          like?: string;
          k: string;
          from?: string;
          to?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          const resolved = await version(session, opts);
          const genesis = genesisOf(resolved.manifest, opts.timeline);
          let vector: number[] | Float32Array;
          if (opts.vector !== undefined) vector = opts.vector.split(',').map(Number);
          else if (opts.like !== undefined) {
            const tick = parseTimeArg(opts.like, genesis);
            const item = await read(session, resolved, { timeline: opts.timeline, track: opts.track, tick });
            const payload =
              item?.payload instanceof Uint8Array
                ? item.payload
                : (item?.payload as { vector?: unknown } | undefined)?.vector;
            if (!(payload instanceof Uint8Array))
              throw new UsageError(`no vector item of ${opts.track} at ${opts.like}`);
            vector = new Float32Array(
              payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength),
            );
          } else throw new UsageError('give --vector or --like');
          const hits = await search(session, resolved, {
            timeline: opts.timeline,
            track: opts.track,
            vector,
            k: Number(opts.k),
            ...(opts.from && { t0: parseTimeArg(opts.from, genesis) }),
            ...(opts.to && { t1: parseTimeArg(opts.to, genesis) }),
          });
          for (const hit of hits) {
            const line = {
              tick: hit.tick.toString(),
              hex: tickToHex(hit.tick),
              score: hit.score,
              address: formatAddress(hit.address),
            };
            process.stdout.write(`${JSON.stringify(line)}\n`);
          }
        }),
    );

  versionOptions(
    program
      .command('stream')
      .description(
        'items in time order from a tick on, fetched ahead (what playback uses); prints prefetch stats last',
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .option('--tracks <names>', 'comma-separated tracks (default: all)')
    .requiredOption('--from <time>', 'where to start')
    .option('--to <time>', 'where to stop (exclusive)')
    .option('--limit <n>', 'stop after this many items')
    .action(
      (
        opts: VersionOptions & {
          timeline: string;
          tracks?: string;
          from: string;
          to?: string;
          limit?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          const resolved = await version(session, opts);
          const genesis = genesisOf(resolved.manifest, opts.timeline);
          const items = stream(session, resolved, {
            timeline: opts.timeline,
            ...(opts.tracks && { tracks: opts.tracks.split(',') }),
            from: parseTimeArg(opts.from, genesis),
            ...(opts.to && { to: parseTimeArg(opts.to, genesis) }),
          });
          const limit = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
          let n = 0;
          for await (const item of items) {
            if (++n > limit) break;
            process.stdout.write(`${JSON.stringify(itemJson(item))}\n`);
          }
          process.stdout.write(`${JSON.stringify({ stats: items.stats })}\n`);
        }),
    );
}
