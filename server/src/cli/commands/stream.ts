import { parseTimeArg } from '@dreamdb/engine';
import { stream } from '@dreamdb/engine/query';
import type { Command } from 'commander';
import { print } from '../options.js';
import { itemJson, type TimelineOptions, versionOptions, withTimeline } from '../session-options.js';

/** `dreamdb stream`: the engine's stream verb (items in time order, fetched ahead). */
export function registerStream(program: Command): void {
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
        opts: TimelineOptions & {
          tracks?: string;
          from: string;
          to?: string;
          limit?: string;
        },
      ) =>
        withTimeline(opts, async (session, resolved, genesis) => {
          const items = stream(session, resolved, {
            timeline: opts.timeline,
            ...(opts.tracks && { tracks: opts.tracks.split(',') }),
            from: parseTimeArg(opts.from, { name: '--from', genesis }),
            ...(opts.to && { to: parseTimeArg(opts.to, { name: '--to', genesis }) }),
          });
          const limit = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
          let n = 0;
          for await (const item of items) {
            if (++n > limit) break;
            print(itemJson(item));
          }
          print({ stats: items.stats });
        }),
    );
}
