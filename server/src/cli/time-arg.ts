import { rfc3339ToTick, secondsToTicks, type Tick, tickFromHex, toTick } from '@dreamdb/engine';
import { UsageError } from './errors.js';

/** The forms a time argument can take on the command line. */
export type TimeForm = 'ticks' | 'hex' | 'seconds' | 'rfc3339';

/** Guess the form of a time value; a 16-digit decimal tick count needs an explicit form. */
export function detectTimeForm(value: string): TimeForm {
  if (/^[0-9a-f]{16}$/.test(value)) return 'hex';
  if (/^[0-9]+$/.test(value)) return 'ticks';
  if (/^[0-9]+(\.[0-9]+)?s$/.test(value)) return 'seconds';
  if (/^[0-9]{4}-/.test(value)) return 'rfc3339';
  throw new UsageError(
    `cannot tell what ${JSON.stringify(value)} is: give ticks (123), hex (16 lowercase digits), seconds (1.5s) or RFC 3339`,
  );
}

/** A tick from a command-line time: ticks, hex, seconds ("1.5s") or RFC 3339 (needs the genesis). */
export function parseTimeArg(value: string, genesis?: bigint, form: TimeForm = detectTimeForm(value)): Tick {
  switch (form) {
    case 'ticks':
      return toTick(value);
    case 'hex':
      return tickFromHex(value);
    case 'seconds':
      return secondsToTicks(value.endsWith('s') ? value.slice(0, -1) : value);
    case 'rfc3339':
      if (genesis === undefined)
        throw new UsageError(`${value}: an RFC 3339 time needs the timeline's genesis`);
      return rfc3339ToTick(value, genesis);
  }
}

/**
 * Seconds from a duration argument: "1.5s", "500ms" or a bare number of seconds, within [min, max].
 * (Durations are not ticks: a bare number here means seconds.)
 */
export function parseSeconds(value: string, what: string, range: { min: number; max: number }): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(s|ms)?$/.exec(value.trim());
  const seconds = m ? Number(m[1]) / (m[2] === 'ms' ? 1000 : 1) : Number.NaN;
  if (!(seconds >= range.min && seconds <= range.max))
    throw new UsageError(
      `${what} ${JSON.stringify(value)}: give a duration from ${range.min} s to ${range.max} s (e.g. 2s, 500ms)`,
    );
  return seconds;
}

/** Fragment durations the packager cuts, in seconds. */
export const FRAGMENT_SECONDS = { min: 1, max: 30 };
/** Sampling intervals of thumbnails and frame embeddings, in seconds. */
export const SAMPLE_SECONDS = { min: 0.01, max: 86_400 };
