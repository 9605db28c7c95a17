import { EngineError, quote } from '../errors.js';
import { assertTick, TICKS_PER_SECOND, type Tick } from './ticks.js';

/** A media rate in units per second as an exact fraction: 90000/1 (video timescale), 30000/1001 (frames). */
export interface Rate {
  readonly num: bigint;
  readonly den: bigint;
}

/** How a conversion that does not land on an integer is rounded. */
export type Rounding = 'floor' | 'ceil' | 'nearest';

const RATE_TEXT = /^([1-9][0-9]*)(?:\/([1-9][0-9]*))?$/;

/** Build a rate from numerator and denominator (both positive integers). */
export function rate(num: bigint | number, den: bigint | number = 1n): Rate {
  const n = typeof num === 'number' && Number.isSafeInteger(num) ? BigInt(num) : num;
  const d = typeof den === 'number' && Number.isSafeInteger(den) ? BigInt(den) : den;
  return assertRate({ num: n as bigint, den: d as bigint });
}

/**
 * Refuse a rate that is not two positive integers, or that is finer than a tick (over 1e9 units per
 * second, where units -> ticks -> units would no longer give the units back).
 */
export function assertRate(mediaRate: Rate): Rate {
  const { num, den } = mediaRate ?? {};
  if (typeof num !== 'bigint' || typeof den !== 'bigint' || num <= 0n || den <= 0n) {
    throw new EngineError('E_RATE', `rate ${quote(num)}/${quote(den)} must be two positive integers`);
  }
  if (num > TICKS_PER_SECOND * den) {
    throw new EngineError('E_RATE', `rate ${num}/${den} is finer than one unit per nanosecond tick`);
  }
  return mediaRate;
}

function assertUnits(units: bigint): bigint {
  if (typeof units !== 'bigint')
    throw new EngineError('E_TICK_FORMAT', `media time ${quote(units)} must be a bigint`);
  if (units < 0n) throw new EngineError('E_TICK_RANGE', `media time ${units} is negative`);
  return units;
}

/** Parse "90000" or "30000/1001". */
export function parseRate(text: string): Rate {
  const match = RATE_TEXT.exec(text);
  if (!match) throw new EngineError('E_RATE', `${quote(text)} is not a rate like 90000 or 30000/1001`);
  return rate(BigInt(match[1]!), BigInt(match[2] ?? '1'));
}

/** Integer division of non-negative n by positive d with the given rounding. */
export function divRound(n: bigint, d: bigint, rounding: Rounding): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n || rounding === 'floor') return q;
  if (rounding === 'ceil') return q + 1n;
  return 2n * r >= d ? q + 1n : q; // nearest, ties away from zero (all operands are non-negative)
}

/**
 * Media units (a tfdt, a sample count, a frame number) to ticks. The default rounding is ceil: unit u
 * starts at the first tick at or after its exact instant, so with ticksToUnits' floor the two are exact
 * inverses for every rate up to 1e9 units per second.
 */
export function unitsToTicks(units: bigint, mediaRate: Rate, rounding: Rounding = 'ceil'): Tick {
  assertUnits(units);
  assertRate(mediaRate);
  return assertTick(
    divRound(units * TICKS_PER_SECOND * mediaRate.den, mediaRate.num, rounding),
    `${units} units`,
  );
}

/** Ticks to media units; the default floor gives the unit that contains the tick. */
export function ticksToUnits(tick: Tick, mediaRate: Rate, rounding: Rounding = 'floor'): bigint {
  assertRate(mediaRate);
  return divRound(assertTick(tick) * mediaRate.num, TICKS_PER_SECOND * mediaRate.den, rounding);
}

/** Convert a count between two media rates (e.g. 48000 audio samples to a 90000 timescale). */
export function rescale(units: bigint, from: Rate, to: Rate, rounding: Rounding = 'floor'): bigint {
  assertUnits(units);
  assertRate(from);
  assertRate(to);
  return divRound(units * to.num * from.den, from.num * to.den, rounding);
}
