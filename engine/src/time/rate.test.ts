import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { divRound, parseRate, rate, rescale, ticksToUnits, unitsToTicks } from './rate.js';
import { MAX_TICK } from './ticks.js';

const RATES = [
  '90000',
  '48000',
  '44100',
  '30000/1001',
  '24000/1001',
  '60000/1001',
  '25',
  '1',
  '7',
  '1000000000',
].map(parseRate);

/** A deterministic pseudo-random bigint stream (xorshift), so failures reproduce. */
function* randomUnits(seed: bigint, count: number, bound: bigint): Generator<bigint> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    yield x % bound;
  }
}

test('units -> ticks (ceil) -> units (floor) is the identity at every rate up to 1e9/s', () => {
  for (const r of RATES) {
    const bound = (MAX_TICK * r.num) / (1_000_000_000n * r.den);
    for (const u of randomUnits(0x9e3779b97f4a7c15n, 2000, bound)) {
      assert.equal(ticksToUnits(unitsToTicks(u, r), r), u, `rate ${r.num}/${r.den}, units ${u}`);
    }
  }
});

test('tick t lies in unit floor(t*rate), which starts at or before t and ends after it', () => {
  const r = parseRate('30000/1001');
  for (const t of randomUnits(12345n, 2000, 10n ** 15n)) {
    const u = ticksToUnits(t, r);
    assert.ok(unitsToTicks(u, r) <= t);
    assert.ok(unitsToTicks(u + 1n, r) > t);
  }
});

test('NTSC frames land on exact ticks: frame 30000 at 30000/1001 is 1001 s', () => {
  const r = parseRate('30000/1001');
  assert.equal(unitsToTicks(30000n, r), 1_001_000_000_000n);
  assert.equal(unitsToTicks(1n, r), 33_366_667n); // 33366666.67 rounded up
  assert.equal(ticksToUnits(33_366_666n, r), 0n);
  assert.equal(ticksToUnits(33_366_667n, r), 1n);
});

test('rounding modes', () => {
  assert.equal(divRound(7n, 2n, 'floor'), 3n);
  assert.equal(divRound(7n, 2n, 'ceil'), 4n);
  assert.equal(divRound(7n, 2n, 'nearest'), 4n);
  assert.equal(divRound(5n, 3n, 'nearest'), 2n);
  assert.equal(divRound(4n, 3n, 'nearest'), 1n);
  assert.equal(divRound(6n, 3n, 'ceil'), 2n);
});

test('rescale converts between media timescales exactly', () => {
  assert.equal(rescale(48000n, parseRate('48000'), parseRate('90000')), 90000n);
  assert.equal(rescale(1024n, parseRate('48000'), parseRate('90000')), 1920n);
  assert.equal(rescale(1n, parseRate('44100'), parseRate('90000'), 'ceil'), 3n);
});

test('bad rates and negative media times are refused', () => {
  for (const text of ['0', '-1', '1/0', '29.97', '', 'x']) {
    assert.throws(
      () => parseRate(text),
      (e: unknown) => e instanceof EngineError && e.code === 'E_RATE',
      text,
    );
  }
  assert.throws(() => rate(0n), /positive/);
  assert.throws(() => unitsToTicks(-1n, parseRate('90000')), /negative/);
});

test('rates finer than a tick and hand-built zero rates are refused with E_RATE', () => {
  assert.throws(() => parseRate('3000000000'), /finer than one unit per nanosecond/);
  assert.throws(
    () => unitsToTicks(1n, { num: 0n, den: 1n }),
    (e: unknown) => e instanceof EngineError && e.code === 'E_RATE',
  );
  assert.throws(() => unitsToTicks(5 as unknown as bigint, parseRate('90000')), /must be a bigint/);
  assert.equal(unitsToTicks(1n, parseRate('1000000000')), 1n);
});
