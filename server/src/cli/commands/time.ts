import {
  parseRate,
  parseRfc3339,
  parseTimeArg,
  type Rate,
  TIME_ARG_FORMS,
  type Tick,
  type TimeArgForm,
  ticksToSeconds,
  ticksToUnits,
  tickToHex,
  tickToRfc3339,
  timeArgForm,
  unitsToTicks,
} from '@dreamdb/engine';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** The time argument forms, plus media units at a --rate (a form of this command only). */
const FORMS = [...TIME_ARG_FORMS, 'units'] as const;
type Form = TimeArgForm | 'units';

interface TimeOptions {
  from?: Form;
  genesis?: string;
  rate?: string;
  json?: boolean;
}

function toTicks(
  value: string,
  form: Form | undefined,
  genesis: bigint | undefined,
  rate: Rate | undefined,
): Tick {
  if ((form ?? timeArgForm(value)) === 'rfc3339' && genesis === undefined)
    throw new UsageError('an RFC 3339 time needs --genesis to become a tick');
  if (form !== 'units')
    return parseTimeArg(value, {
      name: '<value>',
      ...(form !== undefined && { form }),
      ...(genesis !== undefined && { genesis }),
    });
  if (rate === undefined) throw new UsageError('--from units needs --rate');
  if (!/^[0-9]+$/.test(value))
    throw new UsageError(`media units ${JSON.stringify(value)} must be a non-negative integer`);
  return unitsToTicks(BigInt(value), rate);
}

/** `dreamdb time <value>`: one instant in every form DreamDB writes. */
export function registerTime(program: Command): void {
  program
    .command('time')
    .description(
      'convert a time between ticks (ns), 16-char hex, seconds, RFC 3339 (given --genesis) and media units (given --rate)',
    )
    .argument(
      '<value>',
      'ticks (123), hex (000000000000007b), a number with a unit (1.5s, 500ms, 20us, 7ns), RFC 3339, or units with --from units',
    )
    .option('--from <form>', `the form of <value>: ${FORMS.join(', ')} (default: detected)`)
    .option('--genesis <rfc3339>', 'the wall-clock time of tick 0')
    .option('--rate <n[/d]>', 'a media rate in units per second, e.g. 90000 or 30000/1001')
    .option('--json', 'print one JSON object')
    .action((value: string, opts: TimeOptions) => {
      if (opts.from !== undefined && !(FORMS as readonly string[]).includes(opts.from)) {
        throw new UsageError(`--from ${JSON.stringify(opts.from)} is not one of ${FORMS.join(', ')}`);
      }
      const genesis = opts.genesis === undefined ? undefined : parseRfc3339(opts.genesis);
      const rate = opts.rate === undefined ? undefined : parseRate(opts.rate);
      const ticks = toTicks(value, opts.from, genesis, rate);
      const out: Record<string, string> = {
        ticks: ticks.toString(),
        hex: tickToHex(ticks),
        seconds: ticksToSeconds(ticks),
      };
      if (genesis !== undefined) out.rfc3339 = tickToRfc3339(ticks, genesis);
      if (rate !== undefined) out.units = ticksToUnits(ticks, rate).toString();
      if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else for (const [k, v] of Object.entries(out)) process.stdout.write(`${k.padEnd(8)}${v}\n`);
    });
}
