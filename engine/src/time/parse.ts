import { EngineError, quote } from '../errors.js';
import { rfc3339ToTick, type UnixNanos } from './clock.js';
import { assertTick, type Tick, tickFromHex, toTick } from './ticks.js';

/**
 * Time arguments as people type them (spec 0006 §5): one parser for the CLI, the origin's query and path
 * parameters, request bodies and the upload route, so a suffix means the same everywhere.
 */

/** The forms of a time argument. `seconds` is a decimal number with a unit (1.5s, 500ms, 20us, 7ns). */
export type TimeArgForm = 'ticks' | 'hex' | 'seconds' | 'rfc3339';

/** The forms, for messages and option checks. */
export const TIME_ARG_FORMS: readonly TimeArgForm[] = ['ticks', 'hex', 'seconds', 'rfc3339'];

/** Ticks per unit of each suffix; µs is written with the micro sign (U+00B5) or the Greek mu (U+03BC). */
const UNITS: Readonly<Record<string, bigint>> = {
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ns: 1n,
};

const NUMBER = '(0|[1-9][0-9]*)(?:\\.([0-9]+))?';
const WITH_UNIT = new RegExp(`^${NUMBER}(s|ms|us|µs|μs|ns)$`);
const BARE_NUMBER = new RegExp(`^${NUMBER}$`);
const HEX = /^[0-9a-f]{16}$/;
const DIGITS = /^[0-9]+$/;
const RFC3339_START = /^[0-9]{4}-[0-9]{2}-/;

/** How a caller reads time arguments. */
export interface TimeArgOptions {
  /** The argument's name, which starts every error ("--like", "from"); none where the caller adds a path. */
  readonly name?: string;
  /** What a bare number is: ticks (instants, the default) or seconds (durations, e.g. a fragment length). */
  readonly bare?: 'ticks' | 'seconds';
  /** The form the caller was told (`dreamdb time --from`); detected from the text otherwise. */
  readonly form?: TimeArgForm;
  /** The timeline's genesis (signed Unix ns): an RFC 3339 time is read against it. */
  readonly genesis?: UnixNanos;
  /** Whether 16 hex digits are a tick (default true); a request body says no, as there a 16-digit decimal string is ticks. */
  readonly hex?: boolean;
}

/** A number and its unit as ticks, exactly; digits finer than a tick are floored away (as 0003 §3 reads seconds). */
function withUnit(whole: string, fraction: string | undefined, perUnit: bigint, what: string): Tick {
  const digits = fraction ?? '';
  const scale = 10n ** BigInt(digits.length);
  return assertTick(BigInt(whole) * perUnit + (BigInt(digits || '0') * perUnit) / scale, what);
}

/** The accepted forms, named in every refusal. */
function accepted(options: TimeArgOptions): string {
  const bare = options.bare === 'seconds' ? 'seconds (2, 1.5)' : 'ticks (123)';
  const hex = options.hex === false ? [] : ['16 hex digits (000000000000007b)'];
  return [bare, ...hex, 'a number with a unit s, ms, us or µs, ns (1.5s, 500ms, 20us, 7ns)', 'RFC 3339'].join(
    ', ',
  );
}

/** The form of a time argument's text, or undefined when it has none of them. */
export function timeArgForm(text: string, options: TimeArgOptions = {}): TimeArgForm | undefined {
  if (options.hex !== false && HEX.test(text)) return 'hex';
  if (DIGITS.test(text)) return options.bare === 'seconds' ? 'seconds' : 'ticks';
  if (WITH_UNIT.test(text) || (options.bare === 'seconds' && BARE_NUMBER.test(text))) return 'seconds';
  if (RFC3339_START.test(text)) return 'rfc3339';
  return undefined;
}

/**
 * A tick from a time argument: ticks, 16 hex digits, a number with a unit, or RFC 3339 against the
 * genesis. A refusal (E_TIME_FORMAT, E_TICK_RANGE) names the argument and the forms it takes.
 */
export function parseTimeArg(text: string, options: TimeArgOptions = {}): Tick {
  const name = options.name ?? 'time';
  const prefix = options.name === undefined ? '' : `${options.name}: `;
  const refuse = (why: string): never => {
    throw new EngineError('E_TIME_FORMAT', `${prefix}${quote(text)} ${why}; give ${accepted(options)}`);
  };
  if (typeof text !== 'string') return refuse('is not text');
  const form = options.form ?? timeArgForm(text, options);
  switch (form) {
    case 'hex':
      if (!HEX.test(text)) return refuse('is not 16 lowercase hex digits');
      return tickFromHex(text);
    case 'ticks':
      if (!DIGITS.test(text)) return refuse('is not a whole number of ticks');
      if (text.length > 1 && text.startsWith('0')) return refuse('has a leading zero');
      return toTick(text, name);
    case 'seconds': {
      const unit = WITH_UNIT.exec(text);
      if (unit) return withUnit(unit[1]!, unit[2], UNITS[unit[3]!]!, name);
      // Told the form (or a duration): a bare number is seconds.
      const bare = BARE_NUMBER.exec(text);
      if (bare && (options.form === 'seconds' || options.bare === 'seconds'))
        return withUnit(bare[1]!, bare[2], UNITS.s!, name);
      return refuse('is not a number with a unit');
    }
    case 'rfc3339':
      if (options.genesis === undefined)
        throw new EngineError(
          'E_TIME_FORMAT',
          `${prefix}${quote(text)} is an RFC 3339 time, which needs a timeline's genesis; none is known here`,
        );
      try {
        return rfc3339ToTick(text, options.genesis);
      } catch (error) {
        // The clock's refusal (a malformed date, a time before genesis), named after the argument.
        if (!(error instanceof EngineError)) throw error;
        throw new EngineError(error.code, `${prefix}${error.message.replace(/^E_[A-Z_]+: /, '')}`);
      }
    default:
      if (/^[0-9]+\.[0-9]+$/.test(text)) return refuse('has no unit (a bare number is ticks)');
      return refuse('is not a time');
  }
}

/** The bounds of a duration argument, in ticks. */
export interface DurationBounds {
  readonly min: Tick;
  readonly max: Tick;
}

/**
 * A duration argument (a fragment length, a sampling interval): parseTimeArg with a bare number in
 * seconds, then checked against `bounds`; a refusal names the argument and the bounds.
 */
export function parseDurationArg(text: string, name: string, bounds: DurationBounds): Tick {
  const ticks = parseTimeArg(text.trim(), { name, bare: 'seconds', hex: false });
  if (ticks < bounds.min || ticks > bounds.max)
    throw new EngineError(
      'E_TIME_FORMAT',
      `${name}: ${quote(text)} is outside ${seconds(bounds.min)} to ${seconds(bounds.max)} (e.g. 2s, 500ms)`,
    );
  return ticks;
}

/** Ticks as seconds for a message: "0.01 s", "30 s". */
const seconds = (ticks: Tick) => `${Number(ticks) / 1e9} s`;
