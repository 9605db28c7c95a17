import { parseRfc3339, ticksToSeconds } from '@dreamdb/engine';
import type { Command } from 'commander';
import { fragmentSeconds, sampleSeconds } from '../../ingest-arguments.js';
import { UsageError } from '../errors.js';
import { type SpaceOptions, spaceOptions, withSession } from '../session-options.js';

interface IngestFlags extends SpaceOptions {
  timeline: string;
  genesis?: string;
  fragment: string;
  transcode?: boolean;
  remux?: boolean;
  ladder?: string;
  ref: string;
  branch?: string;
  thumbnails?: string | boolean;
  embeddings?: string | boolean;
  audioLevel?: boolean;
  captions?: string;
  events?: string;
  json?: boolean;
}

/** A progress bar on a terminal; a line every few seconds otherwise (logs stay readable). */
async function progressReporter(file: string) {
  if (process.stderr.isTTY) {
    const { SingleBar } = await import('cli-progress');
    const bar = new SingleBar({
      format: `${file} [{bar}] {percentage}% | {value}/{total} s of media | ETA {eta}s | {fragments} fragments`,
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    return {
      update(p: { seconds: number; duration?: number; fragments: number }) {
        if (!started) bar.start(Math.ceil(p.duration ?? p.seconds), 0, { fragments: 0 });
        started = true;
        bar.update(Math.min(Math.floor(p.seconds), Math.ceil(p.duration ?? p.seconds)), {
          fragments: p.fragments,
        });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0; // the first report at once, then every 5 s
  return {
    update(p: { seconds: number; duration?: number; fragments: number }) {
      // A line every 5 s of wall time keeps logs readable whatever the input's speed.
      if (Date.now() - last < 5000) return;
      last = Date.now();
      const of = p.duration !== undefined ? ` of ${p.duration.toFixed(1)}` : '';
      process.stderr.write(`ingest ${file}: ${p.seconds.toFixed(1)}${of} s, ${p.fragments} fragments\n`);
    },
    stop() {},
  };
}

/** `dreamdb ingest`: a media file in, CMAF stream tracks out, one manifest published. */
export function registerIngest(program: Command): void {
  spaceOptions(
    program
      .command('ingest')
      .description(
        'cut a media file into CMAF fragments (remuxed when browsers play its codecs, else transcoded) and publish them as stream tracks',
      )
      .argument('<file>', 'the media file'),
  )
    .requiredOption('--timeline <name>', 'the timeline (created if missing)')
    .option('--genesis <rfc3339>', 'wall-clock time of tick 0 of a new timeline')
    .option('--fragment <time>', 'fragment duration, 1s to 30s', '2s')
    .option('--remux', 'only remux: refuse an input whose codecs browsers do not play')
    .option('--transcode', 'transcode to H.264/AAC even when the codecs are playable')
    .option('--ladder <heights>', 'encode a video ladder, e.g. 1080,720,480,360 (keyframes aligned)')
    .option('--thumbnails [interval]', 'a thumbnail track, one JPEG every interval (default 2s)')
    .option(
      '--embeddings [interval]',
      'a frame-embeddings track: a 256-d descriptor of the frame every interval (default 1s), for "more like this frame"',
    )
    .option('--audio-level', 'an audio-level track: peak and RMS every 100 ms, for a waveform')
    .option('--captions <file>', 'a WebVTT or SRT file: its cues become the captions track')
    .option('--events <file>', 'a JSONL or CSV file of events (tick or seconds, duration, label, fields)')
    .option('--ref <name>', 'the ref to publish to', 'main')
    .option('--branch <name>', 'publish to the branch heads/<name> instead of --ref')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: IngestFlags) =>
      withSession(opts, async (session) => {
        const fragment = fragmentSeconds(opts.fragment, '--fragment');
        if ([opts.remux, opts.transcode, opts.ladder].filter(Boolean).length > 1)
          throw new UsageError('--remux, --transcode and --ladder exclude each other');
        const ladder = opts.ladder?.split(',').map((h) => {
          const height = Number(h);
          if (!Number.isInteger(height) || height < 64 || height > 4320)
            throw new UsageError(`--ladder: ${JSON.stringify(h)} is not a height between 64 and 4320`);
          return height;
        });
        const genesis = opts.genesis === undefined ? undefined : parseRfc3339(opts.genesis);
        // Loaded here, not at start-up: the other commands do not pay for the packager.
        const { ingest, MediaError, reportJson } = await import('@dreamdb/packager');
        const progress = await progressReporter(file);
        let report: Awaited<ReturnType<typeof ingest>>;
        try {
          report = await ingest(session, file, {
            timeline: opts.timeline,
            fragmentSeconds: fragment,
            ref: opts.branch ? `heads/${opts.branch}` : opts.ref,
            ...(genesis !== undefined && { genesis }),
            ...(opts.transcode && { transcode: true }),
            ...(opts.remux && { remuxOnly: true }),
            ...(ladder && { ladder }),
            ...(opts.thumbnails && {
              thumbnails: {
                everySeconds:
                  typeof opts.thumbnails === 'string' ? sampleSeconds(opts.thumbnails, '--thumbnails') : 2,
              },
            }),
            ...(opts.embeddings && {
              embeddings: {
                everySeconds:
                  typeof opts.embeddings === 'string' ? sampleSeconds(opts.embeddings, '--embeddings') : 1,
              },
            }),
            ...(opts.audioLevel && { audioLevels: true }),
            ...(opts.captions && { captions: opts.captions }),
            ...(opts.events && { events: opts.events }),
            onProgress: (p) => progress.update(p),
          });
        } catch (error) {
          // A media refusal is the user's input: exit 2 with its one line.
          throw error instanceof MediaError ? new UsageError(error.message) : error;
        } finally {
          progress.stop();
        }
        const result = reportJson(report);
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else {
          for (const t of report.tracks) {
            process.stdout.write(
              `${t.name}: ${t.modality} (${t.codec}, ${t.remuxed ? 'remuxed' : 'transcoded'}), ${t.fragments} fragments, ${ticksToSeconds(t.first)}s to ${ticksToSeconds(t.end)}s\n`,
            );
          }
          for (const d of report.derived) process.stdout.write(`${d.name}: ${d.count} items\n`);
          process.stdout.write(
            report.unchanged
              ? `already ingested: ${result.ref} stays at ${result.manifest}\n`
              : `published ${result.manifest} to ${result.ref}\n`,
          );
        }
      }),
    );
}
