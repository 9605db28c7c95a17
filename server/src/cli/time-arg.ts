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
