import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/dreamdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-ingest-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const store = join(dir, 'store');

function dreamdb(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--store', store, '--space', 'lab'], {
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('dreamdb ingest publishes CMAF stream tracks into the embedded store; a bad file is refused in one line', () => {
  const input = join(dir, 'clip.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=192x108:rate=25:duration=4',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000:duration=4',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-c:a',
    'aac',
    input,
  ]);
  const missing = dreamdb('ingest', join(dir, 'nope.mp4'), '--timeline', 's1');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.mp4: no such file/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.equal(dreamdb('resolve').code, 2, 'nothing was published');

  const ingested = dreamdb(
    'ingest',
    input,
    '--timeline',
    's1',
    '--genesis',
    '2026-11-25T10:00:00Z',
    '--json',
  );
  assert.equal(ingested.code, 0, ingested.stderr);
  const result = JSON.parse(ingested.stdout);
  assert.deepEqual(
    result.tracks.map((t: { name: string; modality: string; fragments: number }) => [
      t.name,
      t.modality,
      t.fragments,
    ]),
    [
      ['video', 'video.h264', 2],
      ['audio', 'audio.aac', 3], // AAC frames of 1024 samples: 2.005 s, 2.005 s and the rest
    ],
  );
  assert.match(ingested.stderr, /ingest .*clip\.mp4: .* fragments/);
  const range = dreamdb('range', '--timeline', 's1', '--from', '0s', '--to', '60s');
  assert.equal(range.code, 0, range.stderr);
  const items = range.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(items.length, 5);
  assert.deepEqual([...new Set(items.map((i: { track: string }) => i.track))].sort(), ['audio', 'video']);
  const resolved = dreamdb('resolve');
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.match(resolved.stdout, new RegExp(result.manifest));
  const fsck = spawnSync(process.execPath, [BIN, 'fsck', '--store', store], { encoding: 'utf8' });
  assert.equal(fsck.status, 0, fsck.stderr);
  assert.match(fsck.stdout, / 0 problems/);
});
