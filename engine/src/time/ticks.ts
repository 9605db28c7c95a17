import { EngineError, quote } from '../errors.js';

/** A point on a timeline: unsigned 64-bit nanoseconds since the timeline's genesis (tick 0). */
export type Tick = bigint;

/** Ticks per second: a tick is one nanosecond. */
export const TICKS_PER_SECOND = 1_000_000_000n;
/** The greatest tick, 2^64 - 1 (about 584 years after genesis). */
export const MAX_TICK: Tick = (1n << 64n) - 1n;

const HEX_TICK = /^[0-9a-f]{16}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Return `value` if it is a valid tick, else throw E_TICK_RANGE naming `what`. */
export function assertTick(value: bigint, what = 'tick'): Tick {
  if (typeof value !== 'bigint') {
    throw new EngineError('E_TICK_RANGE', `${what} must be a bigint, got ${typeof value} ${quote(value)}`);
  }
  if (value < 0n) throw new EngineError('E_TICK_RANGE', `${what} ${value} is negative; ticks are unsigned`);
  if (value > MAX_TICK)
    throw new EngineError('E_TICK_RANGE', `${what} ${value} is past 2^64-1, the last tick`);
  return value;
}

/** A tick from a bigint, a safe-integer number or a decimal string; anything else is refused. */
export function toTick(value: bigint | number | string, what = 'tick'): Tick {
  if (typeof value === 'bigint') return assertTick(value, what);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new EngineError(
        'E_TICK_FORMAT',
        `${what} ${quote(value)} is not a safe integer; pass ticks past 2^53 as bigint or decimal string`,
      );
    }
    return assertTick(BigInt(value), what);
  }
  if (typeof value === 'string' && DECIMAL.test(value)) return assertTick(BigInt(value), what);
  throw new EngineError('E_TICK_FORMAT', `${what} ${quote(value)} is not a decimal tick count`);
}

/** The 16-character lowercase, zero-padded hex form used in keys and URIs. */
export function tickToHex(tick: Tick): string {
  return assertTick(tick).toString(16).padStart(16, '0');
}

/** Parse the 16-character lowercase hex form; any other length, case or character is refused. */
export function tickFromHex(text: string): Tick {
  if (typeof text !== 'string' || !HEX_TICK.test(text)) {
    throw new EngineError('E_TICK_FORMAT', `${quote(text)} is not a 16-character lowercase hex tick`);
  }
  return BigInt(`0x${text}`);
}

/** a + b, refused if the sum passes the last tick. */
export function addTicks(a: Tick, b: Tick): Tick {
  return assertTick(assertTick(a) + assertTick(b), `sum ${a} + ${b}`);
}

/** a - b, refused if b is later than a (ticks are never negative). */
export function subTicks(a: Tick, b: Tick): Tick {
  return assertTick(assertTick(a) - assertTick(b), `difference ${a} - ${b}`);
}
