import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The CLI under test is the built program, exactly as users run it.
const BIN = fileURLToPath(new URL('../../bin/dreamdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function dreamdb(args: string[], input?: string | Buffer) {
  const result = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectUsageError(args: string[], pattern: RegExp, input?: string) {
  const { code, stdout, stderr } = dreamdb(args, input);
  assert.equal(code, 2, `dreamdb ${args.join(' ')} exited ${code}: ${stderr}`);
  assert.equal(stdout, '');
  assert.equal(stderr.trim().split('\n').length, 1, `one line expected, got: ${stderr}`);
  assert.match(stderr, pattern);
}

test('dreamdb hash prints 1e20 + the b3sum digest, for files and for stdin', () => {
  const path = join(dir, 'data.bin');
  const data = randomBytes(300_001);
  writeFileSync(path, data);
  const digest = execFileSync('b3sum', ['--no-names', path], { encoding: 'utf8' }).trim();
  assert.equal(dreamdb(['hash', path]).stdout, `1e20${digest}\n`);
  assert.equal(dreamdb(['hash', '-'], data).stdout, `1e20${digest}\n`);
});

test('dreamdb cbor encode writes deterministic CBOR and decode reads it back', () => {
  const json =
    '{"b":[1,1.5,{"$bytes":"00ff"}],"a":{"$tag":65524,"$value":{"$bigint":"18446744073709551615"}}}';
  const encoded = dreamdb(['cbor', 'encode', json]);
  assert.equal(encoded.code, 0, encoded.stderr);
  assert.equal(encoded.stdout, 'a26161d9fff41bffffffffffffffff61628301f93e004200ff\n');
  const decoded = dreamdb(['cbor', 'decode'], encoded.stdout);
  assert.deepEqual(JSON.parse(decoded.stdout), {
    a: { $tag: 65524, $value: { $bigint: '18446744073709551615' } },
    b: [1, 1.5, { $bytes: '00ff' }],
  });
  const check = execFileSync(
    '/usr/bin/python3',
    ['-c', 'import sys,cbor2; print(cbor2.loads(bytes.fromhex(sys.argv[1])))', encoded.stdout.trim()],
    {
      encoding: 'utf8',
    },
  );
  assert.match(check, /'a': CBORTag\(65524, 18446744073709551615\)/);
});

test('dreamdb time converts between every form', () => {
  const out = dreamdb([
    'time',
    '1.5s',
    '--genesis',
    '2026-11-24T00:00:00Z',
    '--rate',
    '30000/1001',
    '--json',
  ]);
  assert.deepEqual(JSON.parse(out.stdout), {
    ticks: '1500000000',
    hex: '0000000059682f00',
    seconds: '1.500000000',
    rfc3339: '2026-11-24T00:00:01.500000000Z',
    units: '44',
  });
  const back = dreamdb(['time', '2026-11-24T00:00:01.5Z', '--genesis', '2026-11-24T00:00:00Z', '--json']);
  assert.equal(JSON.parse(back.stdout).hex, '0000000059682f00');
  assert.equal(JSON.parse(dreamdb(['time', '0000000059682f00', '--json']).stdout).ticks, '1500000000');
  // Every unit suffix, and a bare number as seconds when told the form.
  for (const [value, ticks] of [
    ['1500ms', '1500000000'],
    ['20us', '20000'],
    ['20µs', '20000'],
    ['7ns', '7'],
  ])
    assert.equal(JSON.parse(dreamdb(['time', value!, '--json']).stdout).ticks, ticks, value);
  assert.equal(
    JSON.parse(dreamdb(['time', '1.5', '--from', 'seconds', '--json']).stdout).ticks,
    '1500000000',
  );
  assert.equal(
    JSON.parse(dreamdb(['time', '45', '--from', 'units', '--rate', '30000/1001', '--json']).stdout).ticks,
    '1501500000',
  );
});

test('bad arguments exit 2 with one line that names the problem', () => {
  expectUsageError(['time', '000000000000007B'], /<value>: "000000000000007B" is not a time; give ticks/);
  expectUsageError(['time', '1.5'], /<value>: "1.5" has no unit \(a bare number is ticks\)/);
  expectUsageError(['time', '-1'], /unknown option '-1'|is not a time/);
  expectUsageError(['time', '2026-11-24T00:00:00Z'], /needs --genesis/);
  expectUsageError(['time', '1s', '--rate', '0'], /E_RATE/);
  expectUsageError(['time', '1', '--from', 'years'], /--from "years"/);
  expectUsageError(['time', '99999999999999999999'], /E_TICK_RANGE/);
  expectUsageError(['hash', join(dir, 'missing.bin')], /no such file: .*missing\.bin/);
  expectUsageError(['hash'], /missing required argument 'file'/);
  expectUsageError(['cbor', 'encode', '{nope'], /input is not JSON/);
  expectUsageError(['cbor', 'encode', '{"$tag":1,"$value":0}'], /E_CBOR_VALUE: .*tag 1/);
  expectUsageError(
    ['cbor', 'decode', 'a2616201616101'],
    /E_CBOR_NONCANONICAL: at byte 4: map keys are not sorted/,
  );
  expectUsageError(['cbor', 'decode', 'zz'], /E_CBOR_JSON/);
  expectUsageError(['frobnicate'], /unknown command 'frobnicate'/);
});

test('every command has --help', () => {
  for (const args of [[], ['hash'], ['cbor'], ['cbor', 'encode'], ['cbor', 'decode'], ['time'], ['check']]) {
    const { code, stdout } = dreamdb([...args, '--help']);
    assert.equal(code, 0, args.join(' '));
    assert.match(stdout, /Usage: dreamdb/);
  }
});

test('dreamdb check runs every conformance vector and they all pass', () => {
  const { code, stdout } = dreamdb(['check']);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /vectors: \d{3,} passed, 0 failed/);
  // Every folder of spec/vectors, not only the top level.
  for (const path of ['dag/dag.json', 'text/text.json', 'text/hybrid.json', 'serving/hls.json', 'model.json'])
    assert.match(stdout, new RegExp(`^ok +spec \\d{4} +${path.replace('.', '\\.')} `, 'm'), path);
});
