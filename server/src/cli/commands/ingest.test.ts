import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeClip } from '@dreamdb/packager';

const BIN = fileURLToPath(new URL('../../../bin/dreamdb.js', import.meta.url));
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
  const input = makeClip(join(dir, 'clip.mp4'), { seconds: 4, size: '192x108', audio: 48000 });

  const missing = dreamdb('ingest', join(dir, 'nope.mp4'), '--timeline', 's1');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.mp4: no such file/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.equal(dreamdb('resolve').code, 2, 'nothing was published');

  const vtt = join(dir, 'talk.vtt');
  writeFileSync(
    vtt,
    'WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello\n\n00:00:02.000 --> 00:00:03.250\nWorld\n',
  );
  const events = join(dir, 'events.jsonl');
  writeFileSync(
    events,
    [
      '{"seconds": 0.25, "label": "start"}',
      '{"tick": "1.5s", "duration": "1s", "label": "wave"}',
      '{"seconds": 3, "label": "end", "who": "ana"}',
    ].join('\n'),
  );
  const ingested = dreamdb(
    'ingest',
    input,
    '--timeline',
    's1',
    '--genesis',
    '2026-11-25T10:00:00Z',
    '--thumbnails',
    '--embeddings',
    '--audio-level',
    '--captions',
    vtt,
    '--events',
    events,
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
  assert.deepEqual(result.derived, [
    { name: 'thumbnails', count: 2 },
    { name: 'frame-embeddings', count: 4 },
    { name: 'audio-level', count: 41 }, // 4 s in 100 ms windows, and the AAC tail past 4 s
    { name: 'captions', count: 2 },
    { name: 'events', count: 3 },
  ]);
  const range = dreamdb('range', '--timeline', 's1', '--from', '0s', '--to', '60s');
  assert.equal(range.code, 0, range.stderr);
  const items = range.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // 2 video and 3 audio fragments, the RenditionPlaylist and the derived items.
  assert.equal(items.length, 6 + 2 + 4 + 41 + 2 + 3);
  assert.deepEqual([...new Set(items.map((i: { track: string }) => i.track))].sort(), [
    'audio',
    'audio-level',
    'captions',
    'events',
    'frame-embeddings',
    'renditions',
    'thumbnails',
    'video',
  ]);
  const cue = items.find((i: { track: string }) => i.track === 'captions');
  assert.equal(BigInt(cue.tick) - BigInt(result.origin), 500_000_000n);
  const resolved = dreamdb('resolve');
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.match(resolved.stdout, new RegExp(result.manifest));
  const fsck = spawnSync(process.execPath, [BIN, 'fsck', '--store', store], { encoding: 'utf8' });
  assert.equal(fsck.status, 0, fsck.stderr);
  assert.match(fsck.stdout, / 0 problems/);
});

test('an ingest killed part way publishes nothing; the next run completes it', async () => {
  const input = join(dir, 'long.mp4');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=25:duration=40',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '50',
    input,
  ]);
  const killStore = join(dir, 'kill-store');
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [BIN, 'ingest', input, '--timeline', 's1', '--transcode', '--store', killStore, '--space', 'lab'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Killed as soon as it reports progress: fragments are being written, nothing is published yet.
  const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('fragments')) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => resolve(signal));
  });
  assert.equal(killed, 'SIGKILL');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args, '--store', killStore, '--space', 'lab'], { encoding: 'utf8' });
  assert.equal(run('resolve').status, 2, 'the ref was never written');
  const again = run('ingest', input, '--timeline', 's1', '--transcode', '--json');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).tracks[0].fragments, 20);
});
