import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fromJsonForm, multihashFromHex, multihashToHex, parseTimeArg, type Track } from '@dreamdb/engine';
import { indexesFromOptions } from '@dreamdb/engine/indexes';
import { publish, Writer } from '@dreamdb/engine/write';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { genesisOf, type SpaceOptions, spaceOptions, withSession } from '../session-options.js';

/** `--indexes`: a JSON map of scheme -> the kind's options, as the engine's kinds read them. */
function indexesOption(track: Track, text: string): Track['indexes'] {
  let options: unknown;
  try {
    options = JSON.parse(text);
  } catch {
    throw new UsageError(
      `--indexes ${JSON.stringify(text)} is not JSON: give {"scheme": {options}}, or {} for none`,
    );
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new UsageError('--indexes must be a JSON object: {"scheme": {options}}, or {} for none');
  try {
    return indexesFromOptions(track, options as Record<string, Record<string, unknown>>);
  } catch (error) {
    throw new UsageError(`--indexes: ${(error as Error).message.replace(/^E_[A-Z_]+: /, '')}`);
  }
}

/** `dreamdb write` (JSONL items staged with the engine's Writer, then published) and `dreamdb publish`. */
export function registerWrites(program: Command): void {
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
    .option(
      '--indexes <json>',
      "the indexes of a new track, by scheme with each kind's options, e.g. '{\"dreamdb.text-bm25\": {}}'; '{}' for none (default: every kind's default)",
    )
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
          indexes?: string;
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
            const track: Track = {
              timeline: opts.timeline,
              name: opts.track,
              kind: 'event',
              modality: opts.modality,
              bucketDuration: parseTimeArg(opts.bucketDuration, { name: '--bucket-duration' }),
            };
            writer.track(
              opts.indexes === undefined ? track : { ...track, indexes: indexesOption(track, opts.indexes) },
            );
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
}
