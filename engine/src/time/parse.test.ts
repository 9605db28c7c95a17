import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { parseRfc3339 } from './clock.js';
import { parseDurationArg, parseTimeArg, timeArgForm } from './parse.js';
import { MAX_TICK } from './ticks.js';

/** Assert a refusal with `code` whose message matches `pattern`. */
function refused(run: () => unknown, code: string, pattern: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof EngineError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test('every unit suffix means the same in instants and durations, exactly to the nanosecond', () => {
  const cases: [string, bigint][] = [
    ['1.5s', 1_500_000_000n],
    ['0s', 0n],
    ['500ms', 500_000_000n],
    ['2.25ms', 2_250_000n],
    ['5ms', 5_000_000n],
    ['20us', 20_000n],
    ['20µs', 20_000n], // the micro sign, U+00B5
    ['20μs', 20_000n], // the Greek mu, U+03BC (what NFKC makes of the micro sign)
    ['1.5us', 1_500n],
    ['7ns', 7n],
    ['0.000000001s', 1n],
    // Digits finer than a nanosecond are floored away, as 0003 §3 reads seconds.
    ['0.0000000019s', 1n],
    ['1.9ns', 1n],
    ['18446744073.709551615s', MAX_TICK],
  ];
  for (const [text, ticks] of cases) {
    assert.equal(parseTimeArg(text), ticks, `${text} as an instant`);
    assert.equal(parseTimeArg(text, { bare: 'seconds' }), ticks, `${text} as a duration`);
    assert.equal(timeArgForm(text), 'seconds', text);
  }
});

test('a bare number is ticks for an instant and seconds for a duration; 16 hex digits are a hex tick', () => {
  assert.equal(parseTimeArg('123'), 123n);
  assert.equal(parseTimeArg('0'), 0n);
  assert.equal(parseTimeArg('123', { bare: 'seconds' }), 123_000_000_000n);
  assert.equal(parseTimeArg('1.5', { bare: 'seconds' }), 1_500_000_000n);
  assert.equal(parseTimeArg('1.5', { form: 'seconds' }), 1_500_000_000n);
  assert.equal(parseTimeArg('0000000059682f00'), 1_500_000_000n);
  assert.equal(timeArgForm('0000000059682f00'), 'hex');
  // Sixteen decimal digits are hex unless hex is off (request bodies): then they are ticks.
  assert.equal(parseTimeArg('1000000000000000'), 0x1000000000000000n);
  assert.equal(parseTimeArg('1000000000000000', { hex: false }), 1_000_000_000_000_000n);
  assert.equal(parseTimeArg('1000000000000000', { form: 'ticks' }), 1_000_000_000_000_000n);
  assert.equal(parseTimeArg('18446744073709551615'), MAX_TICK);
});

test('RFC 3339 is read against the genesis, and refused without one', () => {
  const genesis = parseRfc3339('2026-11-24T00:00:00Z');
  assert.equal(parseTimeArg('2026-11-24T00:00:01.5Z', { genesis }), 1_500_000_000n);
  assert.equal(parseTimeArg('2026-11-24T02:00:01.5+02:00', { genesis }), 1_500_000_000n);
  assert.equal(timeArgForm('2026-11-24T00:00:01Z'), 'rfc3339');
  refused(
    () => parseTimeArg('2026-11-24T00:00:01Z', { name: '--from' }),
    'E_TIME_FORMAT',
    /^E_TIME_FORMAT: --from: "2026-11-24T00:00:01Z" is an RFC 3339 time, which needs a timeline's genesis/,
  );
  refused(
    () => parseTimeArg('2026-11-23T23:59:59Z', { name: 'from', genesis }),
    'E_TICK_RANGE',
    /^E_TICK_RANGE: from: "2026-11-23T23:59:59Z" is before the timeline's genesis/,
  );
  refused(
    () => parseTimeArg('2026-13-01T00:00:00Z', { name: 'to', genesis }),
    'E_TIME_FORMAT',
    /^E_TIME_FORMAT: to: /,
  );
});

test('refusals name the argument and the forms it takes', () => {
  const forms =
    /give ticks \(123\), 16 hex digits .*, a number with a unit s, ms, us or µs, ns .*, RFC 3339$/;
  for (const text of ['soon', '1.5', '-1', '5 ms', '5MS', '1e3s', '.5s', '05s', '', '000000000000007B'])
    refused(() => parseTimeArg(text, { name: '--like' }), 'E_TIME_FORMAT', /^E_TIME_FORMAT: --like: /);
  refused(() => parseTimeArg('soon', { name: 'from' }), 'E_TIME_FORMAT', forms);
  refused(() => parseTimeArg('1.5', { name: 'tick' }), 'E_TIME_FORMAT', /"1.5" has no unit/);
  refused(() => parseTimeArg('0123', { name: 'tick' }), 'E_TIME_FORMAT', /leading zero/);
  refused(() => parseTimeArg('abc', { form: 'hex' }), 'E_TIME_FORMAT', /not 16 lowercase hex digits/);
  refused(() => parseTimeArg('1.5s', { form: 'ticks' }), 'E_TIME_FORMAT', /not a whole number of ticks/);
  refused(
    () => parseTimeArg('1x', { name: 'grace', bare: 'seconds' }),
    'E_TIME_FORMAT',
    /give seconds \(2, 1.5\)/,
  );
  // Without a name, no prefix (a request body's path names the field).
  refused(() => parseTimeArg('soon'), 'E_TIME_FORMAT', /^E_TIME_FORMAT: "soon" is not a time; give /);
  // Hex is not offered where it is not taken.
  refused(() => parseTimeArg('x', { hex: false }), 'E_TIME_FORMAT', /^(?!.*hex digits)/);
  refused(() => parseTimeArg('18446744073709551616'), 'E_TICK_RANGE', /past 2\^64-1/);
  refused(() => parseTimeArg('18446744073.709551616s'), 'E_TICK_RANGE', /past 2\^64-1/);
});

test('a duration argument is checked against its bounds, naming them', () => {
  const fragment = { min: 1_000_000_000n, max: 30_000_000_000n };
  assert.equal(parseDurationArg('2', '--fragment', fragment), 2_000_000_000n);
  assert.equal(parseDurationArg('2s', '--fragment', fragment), 2_000_000_000n);
  assert.equal(parseDurationArg('1500ms', '--fragment', fragment), 1_500_000_000n);
  assert.equal(parseDurationArg(' 30s ', '--fragment', fragment), 30_000_000_000n);
  refused(
    () => parseDurationArg('500ms', '--fragment', fragment),
    'E_TIME_FORMAT',
    /^E_TIME_FORMAT: --fragment: "500ms" is outside 1 s to 30 s/,
  );
  refused(() => parseDurationArg('31', 'fragment', fragment), 'E_TIME_FORMAT', /outside 1 s to 30 s/);
  refused(
    () => parseDurationArg('soon', 'thumbnails', fragment),
    'E_TIME_FORMAT',
    /^E_TIME_FORMAT: thumbnails: /,
  );
});
