import { parseTimeArg } from '@dreamdb/engine';
import { hybrid } from '@dreamdb/engine/query';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  at,
  countOption,
  listOption,
  numberOption,
  print,
  vectorKnobs,
  vectorOption,
  windowOptions,
} from '../options.js';
import { genesisOf, type VersionOptions, version, versionOptions, withSession } from '../session-options.js';

/** `dreamdb hybrid`: the engine's hybrid verb (text and vector queries fused by reciprocal rank). */
export function registerHybrid(program: Command): void {
  versionOptions(
    program
      .command('hybrid')
      .description(
        'text and vector search fused by reciprocal rank: moments where a caption matches and the picture looks alike rank first',
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .option('--text <query>', 'the text query: words, "phrases" and -exclusions')
    .option('--text-tracks <names>', 'comma-separated tracks the text query searches (default: all indexed)')
    .option('--vector <numbers>', 'the vector query: comma-separated numbers')
    .option('--like <time>', 'the vector query: the vector of the vector track item at this time')
    .option('--vector-track <name>', "the vector track (default: the timeline's only one)")
    .option('--labels <labels>', 'comma-separated labels: only moments inside an event item with one of them')
    .option('--k <n>', 'how many hits', '10')
    .option('--from <time>', 'only moments at or after this time')
    .option('--to <time>', 'only moments before this time')
    .option('--rrf-k <n>', 'the reciprocal rank fusion constant', '60')
    .option('--text-weight <n>', 'weight of the text ranks', '1')
    .option('--vector-weight <n>', 'weight of the vector ranks', '1')
    .option('--depth <n>', 'hits each query contributes (default: max(50, 4k))')
    .option('--exact', 'scan every vector instead of using the spatial index')
    .option('--probes <n>', 'index lookups per table, 1 to bits+1')
    .option('--rerank <n>', 'candidates re-ranked exactly, at least --k')
    .action(
      (
        opts: VersionOptions & {
          timeline: string;
          text?: string;
          textTracks?: string;
          vector?: string;
          like?: string;
          vectorTrack?: string;
          labels?: string;
          k: string;
          from?: string;
          to?: string;
          rrfK: string;
          textWeight: string;
          vectorWeight: string;
          depth?: string;
          exact?: boolean;
          probes?: string;
          rerank?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          if (opts.text === undefined && opts.vector === undefined && opts.like === undefined)
            throw new UsageError('give --text, --vector or --like (or --text with one of them)');
          if (opts.vector !== undefined && opts.like !== undefined)
            throw new UsageError('give --vector or --like, not both');
          if (opts.text !== undefined && opts.text.trim() === '')
            throw new UsageError('--text is empty: give words to look for');
          const k = countOption('--k', opts.k)!;
          const depth = countOption('--depth', opts.depth);
          if (depth !== undefined && depth < k) throw new UsageError(`--depth ${depth} is under --k (${k})`);
          const knobs = vectorKnobs(opts, k);
          const rrfK = numberOption('--rrf-k', opts.rrfK)!;
          const weights = {
            text: numberOption('--text-weight', opts.textWeight)!,
            vector: numberOption('--vector-weight', opts.vectorWeight)!,
          };
          const textTracks = listOption('--text-tracks', opts.textTracks);
          const labels = listOption('--labels', opts.labels);
          const vector = opts.vector === undefined ? undefined : vectorOption(opts.vector);
          const resolved = await version(session, opts);
          const genesis = genesisOf(resolved.manifest, opts.timeline);
          const window = windowOptions(opts, genesis);
          const hits = await hybrid(session, resolved, {
            timeline: opts.timeline,
            k,
            ...(opts.text !== undefined && { text: opts.text }),
            ...(textTracks && { textTracks }),
            ...(vector && { vector }),
            ...(opts.like !== undefined && { like: parseTimeArg(opts.like, { name: '--like', genesis }) }),
            ...(opts.vectorTrack !== undefined && { vectorTrack: opts.vectorTrack }),
            ...(labels && { labels }),
            ...window,
            rrfK,
            weights,
            ...(depth !== undefined && { depth }),
            ...knobs,
          });
          for (const hit of hits) {
            const { text, vector: seen } = hit.matched;
            print({
              track: hit.track,
              ...at(hit.tick),
              duration: hit.duration.toString(),
              score: hit.score,
              matched: {
                ...(text && { text: { rank: text.rank, score: text.score, terms: text.terms } }),
                ...(seen && {
                  vector: { rank: seen.rank, score: seen.score, track: seen.track, ...at(seen.tick) },
                }),
              },
            });
          }
        }),
    );
}
