// `npm start`: the main job. Until the origin and player land (issues 6, 9), it builds everything, runs
// every conformance vector (`dreamdb check`), makes the sample session (samples/lab-session: a recording
// made with ffmpeg, its transcript and annotations), ingests it into the embedded store (./.dreamdb/store)
// as CMAF stream tracks with thumbnails, frame embeddings, audio levels, captions and events, reads a
// moment back by time range, finds moments by text and by "words + looks like this frame" (hybrid), has a
// reviewer annotate on a branch that is merged into main (spec 0008), and verifies the store (`dreamdb fsck`).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build, ensureNode, ensureNodeModules, ensureSystemPackages, ROOT, run } from './lib/bootstrap.mjs';

const dreamdb = (args, input) => {
  console.log(`\n$ dreamdb ${args.join(' ')}`);
  const result = spawnSync('node', ['server/bin/dreamdb.js', ...args], {
    cwd: ROOT,
    input,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`dreamdb ${args[0]} exited with ${result.status}`);
};
/** A step that may already have been done by an earlier run (its refusal is printed, not fatal). */
const dreamdbOnce = (args) => {
  try {
    dreamdb(args);
  } catch {
    console.log('(already done by an earlier run)');
  }
};

try {
  ensureNode();
  ensureNodeModules();
  ensureSystemPackages();
  build();
  run('node', ['server/bin/dreamdb.js', '--help']);
  dreamdb(['check']);
  // The sample session (3 minutes, six scenes, speech, captions, events), made once into .dreamdb/lab-session
  // (make.mjs does nothing when its files are there and it has not changed).
  const sample = join(ROOT, '.dreamdb', 'lab-session');
  run('node', [join(ROOT, 'samples', 'lab-session', 'make.mjs'), sample]);
  dreamdb([
    'ingest',
    join(sample, 'recording.mp4'),
    '--space',
    'demo',
    '--timeline',
    'lab-session',
    '--genesis',
    '2026-11-25T09:00:00Z',
    '--thumbnails',
    '2s',
    '--embeddings',
    '1s',
    '--audio-level',
    '--captions',
    join(sample, 'transcript.vtt'),
    '--events',
    join(sample, 'events.jsonl'),
  ]);
  dreamdb(['resolve', '--space', 'demo']);
  dreamdb([
    'range',
    '--space',
    'demo',
    '--timeline',
    'lab-session',
    '--tracks',
    'captions,events',
    '--from',
    '12s',
    '--to',
    '14s',
  ]);
  // Find moments: words in the captions and annotations (BM25): the spoken sentence at 63 s comes first.
  dreamdb([
    'text',
    '--space',
    'demo',
    '--timeline',
    'lab-session',
    '--query',
    'person enters the side door',
    '--k',
    '3',
  ]);
  // Words and a frame's look: "arm" is said on the bench (0-30 s) and in the thermal view (120-150 s); a
  // frame of the thermal view puts what is said there first.
  dreamdb([
    'hybrid',
    '--space',
    'demo',
    '--timeline',
    'lab-session',
    '--text',
    'the arm',
    '--like',
    '130s',
    '--k',
    '3',
  ]);
  // A reviewer annotates on a branch; the branch is merged into main (fast-forward, or a three-way merge
  // when main moved).
  dreamdbOnce(['branch', 'create', 'review', '--space', 'demo']);
  dreamdb(
    [
      'write',
      '--space',
      'demo',
      '--timeline',
      'lab-session',
      '--track',
      'events',
      '--ref',
      'heads/review',
      '--message',
      'review: the arm reaches the cup',
    ],
    `${JSON.stringify({ tick: '20s', duration: '2s', payload: { label: 'reviewed', note: 'the arm reaches the red cup' } })}\n`,
  );
  dreamdb(['merge', 'review', '--space', 'demo', '--message', 'merge the review']);
  dreamdb(['log', '--space', 'demo', '--limit', '3']);
  dreamdb(['fsck']);
  await serveOnce();
} catch (error) {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}

/** Serve the store, let ffprobe (a client nobody here wrote) read the session's HLS, then stop. */
async function serveOnce() {
  console.log('\n$ dreamdb serve --port 0   (then ffprobe reads the HLS, and the server stops)');
  const server = spawn('node', ['server/bin/dreamdb.js', 'serve', '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      const match = /http:\/\/[^ ]+/.exec(chunk.toString());
      if (match) resolve(match[0]);
    });
    server.on('exit', (code) => reject(new Error(`dreamdb serve exited with ${code}`)));
  });
  const url = `${base}/hls/demo/main/lab-session/master.m3u8`;
  console.log(`playing ${url}`);
  const probe = spawn(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name,width,height:format=duration', '-of', 'compact', url],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const code = await new Promise((resolve) => probe.on('exit', resolve));
  server.kill('SIGTERM');
  if (code !== 0) throw new Error(`ffprobe could not read ${url}`);
  console.log(
    '\nTo keep it running: npx dreamdb serve  (then open the URL above in Safari, ffplay or an hls.js page)',
  );
}
