import {
  EngineError,
  formatAddress,
  multihashFromHex,
  parseTimeArg,
  payloadVector,
  type Tick,
} from '@dreamdb/engine';
import { read, search, vectorDimension } from '@dreamdb/engine/query';
import type { Resolved, Session } from '@dreamdb/engine/store';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { at, countOption, print, vectorKnobs, vectorOption, windowOptions } from '../options.js';
import { genesisOf, type VersionOptions, version, versionOptions, withSession } from '../session-options.js';

/** The vector of a vector track's item at (or before) a time: what --like queries with. */
async function likeVector(
  session: Session,
  resolved: Resolved,
  timeline: string,
  track: string,
  tick: Tick,
  shown: string,
): Promise<Float32Array> {
  const found = resolved.manifest.tracks.find((t) => t.timeline === timeline && t.name === track);
  if (!found) throw new UsageError(`track ${timeline}/${track} is not in this manifest`);
  const dim = vectorDimension(found);
  const item = await read(session, resolved, { timeline, track, tick });
  if (!item) throw new UsageError(`--like ${shown}: no item of ${timeline}/${track} at or before it`);
  try {
    return payloadVector(item.payload, dim, `--like ${shown}: item ${timeline}/${track}@${item.tick}`);
  } catch (error) {
    throw error instanceof EngineError ? new UsageError(error.message.replace(/^E_[A-Z_]+: /, '')) : error;
  }
}

/** `dreamdb search`: the engine's search verb (k nearest items of a vector track). */
export function registerSearch(program: Command): void {
  versionOptions(
    program
      .command('search')
      .description(
        "the k nearest items of a vector track by cosine, found by the track's spatial index (dreamdb.lsh-cosine) or, with --exact, by scanning every vector",
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline')
    .requiredOption('--track <name>', 'the vector track (vector.f32;dim=N)')
    .option('--vector <numbers>', 'the query: comma-separated numbers')
    .option('--like <time>', 'the query: the vector of the item at this time')
    .option('--k <n>', 'how many hits', '10')
    .option('--from <time>', 'only items at or after this time')
    .option('--to <time>', 'only items before this time')
    .option('--exact', 'scan every vector instead of using the spatial index (the exact answer)')
    .option('--probes <n>', "index lookups per table, 1 to bits+1 (default: the index's own)")
    .option('--rerank <n>', 'candidates re-ranked exactly, at least --k (default: all found)')
    .option('--index <lineage>', 'the spatial index lineage (1e20 + 64 hex) the track must be indexed under')
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
          exact?: boolean;
          probes?: string;
          rerank?: string;
          index?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          if ((opts.vector === undefined) === (opts.like === undefined))
            throw new UsageError('give one of --vector and --like');
          const k = countOption('--k', opts.k)!;
          const knobs = vectorKnobs(opts, k);
          if (opts.index !== undefined && !/^1e20[0-9a-f]{64}$/.test(opts.index))
            throw new UsageError(
              `--index ${JSON.stringify(opts.index)} is not a spatial index lineage (1e20 then 64 lowercase hex digits)`,
            );
          const resolved = await version(session, opts);
          const genesis = genesisOf(resolved.manifest, opts.timeline);
          const window = windowOptions(opts, genesis);
          const vector =
            opts.vector !== undefined
              ? vectorOption(opts.vector)
              : await likeVector(
                  session,
                  resolved,
                  opts.timeline,
                  opts.track,
                  parseTimeArg(opts.like!, { name: '--like', genesis }),
                  opts.like!,
                );
          const hits = await search(session, resolved, {
            timeline: opts.timeline,
            track: opts.track,
            vector,
            k,
            ...window,
            ...knobs,
            ...(opts.index !== undefined && { index: multihashFromHex(opts.index) }),
          });
          for (const hit of hits)
            print({ ...at(hit.tick), score: hit.score, address: formatAddress(hit.address) });
        }),
    );
}
