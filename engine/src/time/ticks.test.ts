import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { addTicks, assertTick, MAX_TICK, subTicks, tickFromHex, tickToHex, toTick } from './ticks.js';

const code = (c: string) => (e: unknown) => e instanceof EngineError && e.code === c;

test('hex form is 16 lowercase zero-padded characters and round-trips', () => {
  for (const t of [0n, 1n, 0xabcdefn, 2n ** 53n + 1n, MAX_TICK]) {
    const hex = tickToHex(t);
    assert.match(hex, /^[0-9a-f]{16}$/);
    assert.equal(tickFromHex(hex), t);
  }
  assert.equal(tickToHex(255n), '00000000000000ff');
});

test('hex order equals tick order, so keys sort by time', () => {
  const ticks = Array.from({ length: 200 }, (_, i) => BigInt(i) ** 7n % MAX_TICK);
  const byHex = [...ticks].sort((a, b) => (tickToHex(a) < tickToHex(b) ? -1 : 1));
  const byValue = [...ticks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(byHex, byValue);
});

test('negative and overflowing ticks are refused with E_TICK_RANGE', () => {
  assert.throws(() => assertTick(-1n), code('E_TICK_RANGE'));
  assert.throws(() => assertTick(MAX_TICK + 1n), code('E_TICK_RANGE'));
  assert.throws(() => addTicks(MAX_TICK, 1n), /past 2\^64-1/);
  assert.throws(() => subTicks(1n, 2n), /negative/);
  assert.equal(addTicks(MAX_TICK - 1n, 1n), MAX_TICK);
});

test('toTick accepts bigint, safe integers and decimal strings only', () => {
  assert.equal(toTick(5), 5n);
  assert.equal(toTick('18446744073709551615'), MAX_TICK);
  assert.throws(() => toTick(2 ** 60), code('E_TICK_FORMAT'));
  assert.throws(() => toTick(1.5), code('E_TICK_FORMAT'));
  assert.throws(() => toTick('0x10'), code('E_TICK_FORMAT'));
  assert.throws(() => toTick('18446744073709551616'), code('E_TICK_RANGE'));
});
