import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  collect,
  fromJsonForm,
  multihashFromHex,
  multihashToHex,
  parseTimeArg,
  publish,
  range,
  read,
  Writer,
} from '@dreamdb/engine';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  genesisOf,
  itemJson,
  type SpaceOptions,
  spaceOptions,
  type VersionOptions,
  version,
  versionOptions,
  withSession,
} from '../session-options.js';

/**
 * The verbs as commands: resolve, read, range, write (+ publish), publish, collect. search, text, hybrid
 * and stream are registered by search-stream.ts.
 */
export function registerVerbs(program: Command): void {
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
        opts: VersionOptions & {
          timeline: string;
          tracks?: string;
          from: string;
          to: string;
          limit?: string;
          cursor?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          const resolved = await version(session, opts);
          const genesis = genesisOf(resolved.manifest, opts.timeline);
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

  spaceOptions(
    program
      .command('write')
      .description(
        'write JSONL items into a track and publish them (one line: {"tick", "duration"?, "payload"})',
      ),
  )
    .requiredOption('--timeline <name>', 'the timeline (created if missing)')
    .requiredOption('--track <name>', 'the track (created as an event track if missing)')
    .option('--modality <tag>', 'modality of a new track', 'event.annotation')
    .option('--bucket-duration <time>', 'bucket duration of a new event track', '60s')
    .option('--file <path>', 'the JSONL file, or - for stdin', '-')
    .option('--ref <name>', 'the ref to publish to', 'main')
    .option('--rebase', 'if another publish moved the ref meanwhile, merge onto it instead of failing')
    .option('--author <name>', 'who wrote it')
    .option('--message <text>', 'why')
    .action(
      (
        opts: SpaceOptions & {
          timeline: string;
          track: string;
          modality: string;
          bucketDuration: string;
          file: string;
          ref: string;
          rebase?: boolean;
          author?: string;
          message?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          const base = await session.resolve(opts.ref);
          const writer = new Writer(base);
          if (!base?.manifest.timelines.some((t) => t.name === opts.timeline))
            writer.timeline({ name: opts.timeline });
          if (!base?.manifest.tracks.some((t) => t.timeline === opts.timeline && t.name === opts.track)) {
            writer.track({
              timeline: opts.timeline,
              name: opts.track,
              kind: 'event',
              modality: opts.modality,
              bucketDuration: parseTimeArg(opts.bucketDuration, { name: '--bucket-duration' }),
            });
          }
          const genesis = base ? genesisOf(base.manifest, opts.timeline) : undefined;
          const lines = createInterface({
            input: opts.file === '-' ? process.stdin : createReadStream(opts.file),
          });
          let n = 0;
          const batch = [];
          for await (const line of lines) {
            n++;
            if (line.trim() === '') continue;
            let row: { tick?: unknown; duration?: unknown; payload?: unknown };
            try {
              row = JSON.parse(line);
            } catch {
              throw new UsageError(`line ${n}: not JSON`);
            }
            if (typeof row.tick !== 'string' && typeof row.tick !== 'number')
              throw new UsageError(`line ${n}: "tick" is missing`);
            if (row.payload === undefined) throw new UsageError(`line ${n}: "payload" is missing`);
            batch.push({
              tick: parseTimeArg(String(row.tick), { name: `line ${n}: tick`, genesis }),
              ...(row.duration !== undefined && {
                duration: parseTimeArg(String(row.duration), { name: `line ${n}: duration` }),
              }),
              payload: fromJsonForm(row.payload),
            });
          }
          writer.write(opts.timeline, opts.track, batch);
          const published = await publish(session, writer, {
            ref: opts.ref,
            ...(opts.rebase && { rebase: true }),
            ...(opts.author && { author: opts.author }),
            ...(opts.message && { message: opts.message }),
          });
          process.stdout.write(
            `${JSON.stringify({ manifest: multihashToHex(published.hash), items: batch.length, objects: published.objectsWritten })}\n`,
          );
        }),
    );

  spaceOptions(
    program
      .command('publish')
      .description('point a ref at a new manifest with the content of another version and explicit parents'),
  )
    .requiredOption('--ref <name>', 'the ref to move or create (e.g. heads/team-a)')
    .option('--from <ref-or-hash>', 'the version whose content to publish (default: the ref itself)')
    .option('--parents <hashes>', 'comma-separated parent manifests (default: the --from manifest)')
    .option('--author <name>', 'who')
    .option('--message <text>', 'why')
    .action(
      (
        opts: SpaceOptions & {
          ref: string;
          from?: string;
          parents?: string;
          author?: string;
          message?: string;
        },
      ) =>
        withSession(opts, async (session) => {
          const from = opts.from ?? opts.ref;
          const base = /^1e20[0-9a-f]{64}$/.test(from)
            ? { hash: multihashFromHex(from), manifest: await session.manifest(multihashFromHex(from)) }
            : await session.resolve(from);
          if (!base) throw new UsageError(`space ${opts.space} has no ref ${from}`);
          const published = await publish(session, new Writer(base), {
            ref: opts.ref,
            ...(opts.parents && { parents: opts.parents.split(',').map(multihashFromHex) }),
            ...(opts.author && { author: opts.author }),
            ...(opts.message && { message: opts.message }),
          });
          process.stdout.write(
            `${JSON.stringify({ ref: opts.ref, manifest: multihashToHex(published.hash) })}\n`,
          );
        }),
    );

  spaceOptions(
    program
      .command('collect')
      .description('garbage-collect objects no ref reaches (older than the grace period)'),
  )
    .option('--grace <time>', 'keep unreachable objects younger than this (seconds, e.g. 3600s)', '3600s')
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .action((opts: SpaceOptions & { grace: string; dryRun?: boolean }) =>
      withSession(opts, async (session) => {
        const graceMs = Number(parseTimeArg(opts.grace, { name: '--grace' }) / 1_000_000n);
        const report = await collect(session, { graceMs, dryRun: opts.dryRun ?? false });
        for (const hex of report.deleted)
          process.stdout.write(`${opts.dryRun ? 'would delete' : 'deleted'} ${hex}\n`);
        process.stdout.write(
          `collect ${opts.space}: ${report.refs} refs, ${report.manifests} manifests, ${report.reachable} reachable of ${report.scanned} objects; ${report.deleted.length} ${opts.dryRun ? 'to delete' : 'deleted'} (${report.bytesFreed} bytes), ${report.keptYoung} kept as too young\n`,
        );
      }),
    );
}
