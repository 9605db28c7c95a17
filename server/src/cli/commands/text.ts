import { textSearch } from '@dreamdb/engine/query';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { at, countOption, listOption, print, windowOptions } from '../options.js';
import { genesisOf, type VersionOptions, version, versionOptions, withSession } from '../session-options.js';

/** `dreamdb text`: the engine's textSearch (BM25 over a timeline's text-indexed tracks). */
export function registerText(program: Command): void {
  versionOptions(
    program
      .command('text')
      .description(
        'BM25 text search over the text-indexed tracks of a timeline (captions, annotations), best first',
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .requiredOption('--query <text>', 'words, "phrases" and -exclusions')
    .option('--tracks <names>', 'comma-separated tracks (default: every text-indexed track)')
    .option('--k <n>', 'how many hits', '10')
    .option('--from <time>', 'only items at or after this time')
    .option('--to <time>', 'only items before this time')
    .action(
      (
        opts: VersionOptions & {
          timeline: string;
          query: string;
          tracks?: string;
          k: string;
          from?: string;
          to?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          if (opts.query.trim() === '') throw new UsageError('--query is empty: give words to look for');
          const k = countOption('--k', opts.k)!;
          const tracks = listOption('--tracks', opts.tracks);
          const resolved = await version(session, opts);
          const window = windowOptions(opts, genesisOf(resolved.manifest, opts.timeline));
          const hits = await textSearch(session, resolved, {
            timeline: opts.timeline,
            query: opts.query,
            k,
            ...(tracks && { tracks }),
            ...window,
          });
          for (const hit of hits)
            print({
              track: hit.track,
              ...at(hit.tick),
              duration: hit.duration.toString(),
              score: hit.score,
              matches: hit.matches,
            });
        }),
    );
}
