// How the sample session is ingested (`dreamdb ingest` arguments), shared by `npm start` and the
// browser tests: its recording with the derived tracks the player shows, its captions and its events.
import { join } from 'node:path';

/** The genesis the sample is ingested with: its clock times read 2026-11-25 09:00 UTC onwards. */
export const GENESIS = '2026-11-25T09:00:00Z';

/** `dreamdb ingest` arguments for the sample made in `dir` (by make.mjs) into a space and timeline. */
export function ingestArgs(dir, space, timeline) {
  return [
    'ingest',
    join(dir, 'recording.mp4'),
    ...['--space', space, '--timeline', timeline, '--genesis', GENESIS],
    ...['--thumbnails', '2s', '--embeddings', '1s', '--audio-level'],
    ...['--captions', join(dir, 'transcript.vtt'), '--events', join(dir, 'events.jsonl')],
  ];
}
