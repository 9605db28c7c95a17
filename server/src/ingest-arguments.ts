import { type DurationBounds, parseDurationArg, ticksToSecondsNumber } from '@dreamdb/engine';

/**
 * The durations an ingest takes as text, read alike by `dreamdb ingest` and the upload route: a bare
 * number is seconds, suffixes as everywhere (2s, 1500ms).
 */

/** Fragment durations the packager cuts (0007: 1–30 s). */
export const FRAGMENT_BOUNDS: DurationBounds = { min: 1_000_000_000n, max: 30_000_000_000n };
/** Sampling intervals of thumbnails and frame embeddings. */
export const SAMPLE_BOUNDS: DurationBounds = { min: 10_000_000n, max: 86_400_000_000_000n };

/** A fragment duration argument, in the packager's seconds; a refusal names `name`. */
export const fragmentSeconds = (text: string, name: string): number =>
  ticksToSecondsNumber(parseDurationArg(text, name, FRAGMENT_BOUNDS));

/** A thumbnail or embedding interval argument, in the packager's seconds; a refusal names `name`. */
export const sampleSeconds = (text: string, name: string): number =>
  ticksToSecondsNumber(parseDurationArg(text, name, SAMPLE_BOUNDS));
