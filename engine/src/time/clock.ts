import { EngineError, quote } from '../errors.js';
import { assertTick, TICKS_PER_SECOND, type Tick } from './ticks.js';

/** Nanoseconds since the Unix epoch, signed: the genesis back-reference of a timeline. */
export type UnixNanos = bigint;

const SECONDS = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const RFC3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})$/;
const NS_PER_DAY = 86_400n * TICKS_PER_SECOND;
// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z: the years RFC 3339 can write.
const FIRST_UNIX_NS = -62_167_219_200n * TICKS_PER_SECOND;
const LAST_UNIX_NS = 253_402_300_800n * TICKS_PER_SECOND - 1n;

/** Parse decimal seconds ("12", "12.5", "0.000000001") exactly; digits past the ninth are floored away. */
export function secondsToTicks(text: string): Tick {
  const match = typeof text === 'string' ? SECONDS.exec(text) : null;
  if (!match)
    throw new EngineError('E_TIME_FORMAT', `${quote(text)} is not a non-negative decimal number of seconds`);
  const fraction = (match[2] ?? '').slice(0, 9).padEnd(9, '0');
  return assertTick(BigInt(match[1]!) * TICKS_PER_SECOND + BigInt(fraction), `${text} s`);
}

/** Seconds with all nine decimals, e.g. 1500000000n -> "1.500000000". */
export function ticksToSeconds(tick: Tick): string {
  const t = assertTick(tick);
  return `${t / TICKS_PER_SECOND}.${(t % TICKS_PER_SECOND).toString().padStart(9, '0')}`;
}

/**
 * The boundary with floating-point clocks (a video element's currentTime): the double is printed to nine
 * decimals, then parsed as an integer. Past ~104 days a double no longer holds every nanosecond.
 */
export function ticksFromSecondsNumber(seconds: number): Tick {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new EngineError(
      'E_TIME_FORMAT',
      `${quote(seconds)} is not a finite non-negative number of seconds`,
    );
  }
  return secondsToTicks(seconds.toFixed(9));
}

/** Ticks as a double number of seconds, for display and media elements only; never for arithmetic. */
export function ticksToSecondsNumber(tick: Tick): number {
  const t = assertTick(tick);
  return Number(t / TICKS_PER_SECOND) + Number(t % TICKS_PER_SECOND) / 1e9;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil, integer only). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of daysFromCivil. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function daysInMonth(year: number, month: number): number {
  return (
    daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) -
    daysFromCivil(year, month, 1)
  );
}

/**
 * Parse an RFC 3339 date-time to Unix nanoseconds. Fractions finer than 1 ns are floored; a leap second
 * (":60") is refused, since ticks count POSIX seconds.
 */
export function parseRfc3339(text: string): UnixNanos {
  const match = typeof text === 'string' ? RFC3339.exec(text) : null;
  if (!match) throw new EngineError('E_TIME_FORMAT', `${quote(text)} is not an RFC 3339 date-time`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new EngineError('E_TIME_FORMAT', `${quote(text)} names a day that does not exist`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new EngineError(
      'E_TIME_FORMAT',
      `${quote(text)} has a time of day out of range (leap seconds are refused)`,
    );
  }
  const zone = match[8]!;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59)
      throw new EngineError('E_TIME_FORMAT', `${quote(text)} has an invalid UTC offset`);
    offsetMinutes = sign * (oh * 60 + om);
  }
  const fraction = BigInt((match[7] ?? '').slice(0, 9).padEnd(9, '0'));
  const secondsOfDay = BigInt(hour * 3600 + minute * 60 + second - offsetMinutes * 60);
  const unix =
    BigInt(daysFromCivil(year, month, day)) * NS_PER_DAY + secondsOfDay * TICKS_PER_SECOND + fraction;
  if (unix < FIRST_UNIX_NS || unix > LAST_UNIX_NS) {
    throw new EngineError('E_TIME_FORMAT', `${quote(text)} is outside years 0000-9999 in UTC`);
  }
  return unix;
}

/** Format Unix nanoseconds as RFC 3339 in UTC with nine fractional digits: 2026-01-02T03:04:05.000000006Z. */
export function formatRfc3339(unixNanos: UnixNanos): string {
  if (typeof unixNanos !== 'bigint')
    throw new EngineError('E_TIME_FORMAT', `${quote(unixNanos)} is not a bigint`);
  let days = unixNanos / NS_PER_DAY;
  let rest = unixNanos % NS_PER_DAY;
  if (rest < 0n) {
    days -= 1n;
    rest += NS_PER_DAY;
  }
  const [year, month, day] = civilFromDays(Number(days));
  if (year < 0 || year > 9999)
    throw new EngineError('E_TIME_FORMAT', `${unixNanos} ns is outside years 0000-9999`);
  const secondsOfDay = Number(rest / TICKS_PER_SECOND);
  const nanos = (rest % TICKS_PER_SECOND).toString().padStart(9, '0');
  const two = (n: number) => n.toString().padStart(2, '0');
  return (
    `${year.toString().padStart(4, '0')}-${two(month)}-${two(day)}T` +
    `${two(Math.floor(secondsOfDay / 3600))}:${two(Math.floor(secondsOfDay / 60) % 60)}:${two(secondsOfDay % 60)}.${nanos}Z`
  );
}

/** The wall-clock time of a tick on a timeline whose genesis is `genesis` (Unix ns). */
export function tickToRfc3339(tick: Tick, genesis: UnixNanos): string {
  if (typeof genesis !== 'bigint')
    throw new EngineError('E_TIME_FORMAT', `genesis ${quote(genesis)} must be bigint Unix ns`);
  return formatRfc3339(genesis + assertTick(tick));
}

/** The tick of a wall-clock time; a time before genesis is refused. */
export function rfc3339ToTick(text: string, genesis: UnixNanos): Tick {
  const unix = parseRfc3339(text);
  if (unix < genesis) {
    throw new EngineError(
      'E_TICK_RANGE',
      `${quote(text)} is before the timeline's genesis ${formatRfc3339(genesis)}`,
    );
  }
  return assertTick(unix - genesis, `time ${text}`);
}
