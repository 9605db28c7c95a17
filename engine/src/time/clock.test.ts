import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import {
  formatRfc3339,
  parseRfc3339,
  rfc3339ToTick,
  secondsToTicks,
  ticksFromSecondsNumber,
  ticksToSeconds,
  ticksToSecondsNumber,
  tickToRfc3339,
} from './clock.js';
import { MAX_TICK } from './ticks.js';

test('RFC 3339 agrees with Date at millisecond precision across four centuries', () => {
  for (let i = 0; i < 5000; i++) {
    const ms = Math.round(((i * 7919) % 5000) * 2.53e9 - 6.3e12 + i * 977);
    const text = new Date(ms).toISOString();
    assert.equal(parseRfc3339(text), BigInt(ms) * 1_000_000n, text);
    assert.equal(formatRfc3339(BigInt(ms) * 1_000_000n).replace(/\.(\d{3})000000Z$/, '.$1Z'), text);
  }
});

test('RFC 3339 keeps every nanosecond and applies offsets', () => {
  const t = parseRfc3339('2026-11-24T23:45:35.123456789Z');
  assert.equal(formatRfc3339(t), '2026-11-24T23:45:35.123456789Z');
  assert.equal(parseRfc3339('2026-11-25T01:45:35.123456789+02:00'), t);
  assert.equal(
    formatRfc3339(parseRfc3339('1969-12-31T23:59:59.999999999Z')),
    '1969-12-31T23:59:59.999999999Z',
  );
});

test('impossible dates, leap seconds and bad offsets are refused with E_TIME_FORMAT', () => {
  for (const bad of [
    '2023-02-29T00:00:00Z',
    '2016-12-31T23:59:60Z',
    '2026-01-01T00:00:00+25:00',
    '2026-01-01',
    'now',
  ]) {
    assert.throws(
      () => parseRfc3339(bad),
      (e: unknown) => e instanceof EngineError && e.code === 'E_TIME_FORMAT',
      bad,
    );
  }
});

test('ticks relative to a genesis', () => {
  const genesis = parseRfc3339('2026-11-24T00:00:00Z');
  assert.equal(rfc3339ToTick('2026-11-24T00:00:01.5Z', genesis), 1_500_000_000n);
  assert.equal(tickToRfc3339(1_500_000_000n, genesis), '2026-11-24T00:00:01.500000000Z');
  assert.throws(() => rfc3339ToTick('2026-11-23T23:59:59Z', genesis), /before the timeline's genesis/);
});

test('seconds strings convert exactly; digits past the ninth are floored', () => {
  assert.equal(secondsToTicks('1.5'), 1_500_000_000n);
  assert.equal(secondsToTicks('0.0000000019'), 1n);
  assert.equal(ticksToSeconds(MAX_TICK), '18446744073.709551615');
  assert.equal(secondsToTicks(ticksToSeconds(MAX_TICK)), MAX_TICK);
  assert.throws(() => secondsToTicks('1e3'), /not a non-negative decimal/);
});

test('the floating-point boundary (a media element clock) rounds to the nearest tick', () => {
  assert.equal(ticksFromSecondsNumber(10.01), 10_010_000_000n);
  assert.equal(ticksFromSecondsNumber(1 / 3), 333_333_333n);
  assert.equal(ticksToSecondsNumber(10_010_000_000n), 10.01);
  for (let i = 0; i < 1000; i++) {
    const t = BigInt(i) * 33_366_667n + 17n;
    assert.equal(ticksFromSecondsNumber(ticksToSecondsNumber(t)), t);
  }
  assert.throws(() => ticksFromSecondsNumber(-1), /non-negative/);
  assert.throws(() => ticksFromSecondsNumber(Number.NaN), /finite/);
});

test('RFC 3339 results outside years 0000-9999 and space separators are refused', () => {
  assert.throws(() => parseRfc3339('0000-01-01T00:00:00+01:00'), /outside years 0000-9999/);
  assert.throws(() => parseRfc3339('9999-12-31T23:59:59-01:00'), /outside years 0000-9999/);
  assert.throws(() => parseRfc3339('2026-01-01 00:00:00Z'), /not an RFC 3339/);
  assert.throws(() => tickToRfc3339(1n, 5 as unknown as bigint), /must be bigint/);
});
