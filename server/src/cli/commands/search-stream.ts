import {
  EngineError,
  formatAddress,
  hybrid,
  multihashFromHex,
  parseTimeArg,
  payloadVector,
  type Resolved,
  read,
  type Session,
  search,
  stream,
  type Tick,
  textSearch,
  tickToHex,
  vectorDimension,
} from '@dreamdb/engine';
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

/** A count option (--k, --probes, --rerank): a positive integer, or a usage error naming the option. */
function countOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a positive integer`);
  return n;
}

/** A number option (--rrf-k, weights): a finite number >= 0. */
function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${name} ${JSON.stringify(value)} is not a number >= 0`);
  return n;
}

/** A query vector: comma-separated finite numbers. */
function vectorOption(value: string): number[] {
  const parts = value.split(',');
  const numbers = parts.map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  const bad = numbers.findIndex((n) => !Number.isFinite(n));
  if (bad >= 0)
    throw new UsageError(`--vector: component ${bad} (${JSON.stringify(parts[bad])}) is not a number`);
  return numbers;
}

/** A comma-separated list option (--tracks, --labels), without empty entries. */
function listOption(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').filter((v) => v !== '');
  if (list.length === 0) throw new UsageError(`${name} is empty`);
  return list;
}

/** The time window [--from, --to) of a query, checked non-empty. */
function windowOptions(opts: { from?: string; to?: string }, genesis: bigint | undefined) {
  const t0 = opts.from === undefined ? undefined : parseTimeArg(opts.from, { name: '--from', genesis });
  const t1 = opts.to === undefined ? undefined : parseTimeArg(opts.to, { name: '--to', genesis });
  if (t0 !== undefined && t1 !== undefined && t1 <= t0)
    throw new UsageError(`--to ${opts.to} must be after --from ${opts.from}`);
  return { ...(t0 !== undefined && { t0 }), ...(t1 !== undefined && { t1 }) };
}

/** The index knobs of a vector query, checked against each other and k. */
function vectorKnobs(opts: { exact?: boolean; probes?: string; rerank?: string }, k: number) {
  const probes = countOption('--probes', opts.probes);
  const rerank = countOption('--rerank', opts.rerank);
  if (opts.exact && (probes !== undefined || rerank !== undefined))
    throw new UsageError('--probes and --rerank tune the index: not with --exact');
  if (rerank !== undefined && rerank < k) throw new UsageError(`--rerank ${rerank} is under --k (${k})`);
  return {
    ...(opts.exact && { exact: true }),
    ...(probes !== undefined && { probes }),
    ...(rerank !== undefined && { rerank }),
  };
}

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

/** The moments search, text and hybrid print: tick as decimal and hex. */
const at = (tick: Tick) => ({ tick: tick.toString(), hex: tickToHex(tick) });

const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** `dreamdb search`, `dreamdb text`, `dreamdb hybrid` and `dreamdb stream`. */
export function registerSearchStream(program: Command): void {
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
