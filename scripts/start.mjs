// `npm start`: the main job. It builds everything (the player too), runs every conformance vector (`dreamdb check`), makes the sample session (samples/lab-session: a recording
// made with ffmpeg, its transcript and annotations), ingests it into the embedded store (./.dreamdb/store)
// as CMAF stream tracks with thumbnails, frame embeddings, audio levels, captions and events, reads a
// moment back by time range, finds moments by text and by "words + looks like this frame" (hybrid), has a
// reviewer annotate on a branch that is merged into main (spec 0008), verifies the store (`dreamdb fsck`),
// then serves it (`dreamdb serve`: HLS, DASH, the API and the web player) and prints the player's URL.
// It keeps serving until Ctrl-C; DREAMDB_START_EXIT=1 stops it once ffprobe has read the HLS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ingestArgs } from '../samples/lab-session/ingest-args.mjs';
import { build, ensureNode, ensureNodeModules, ensureSystemPackages, ROOT, run } from './lib/bootstrap.mjs';
import { serveUrl } from './lib/serve-url.mjs';

/** The embedded store the demo uses (the CLI's default). */
const STORE = join(ROOT, '.dreamdb', 'store');

const dreamdb = (args, input) => {
  console.log(`\n$ dreamdb ${args.join(' ')}`);
  const result = spawnSync('node', ['server/bin/dreamdb.js', ...args], {
    cwd: ROOT,
    input,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`dreamdb ${args[0]} exited with ${result.status}`);
};
/** Whether the demo space's main has this timeline (a store from an earlier run). */
const demoHasTimeline = (name) => {
  const result = spawnSync('node', ['server/bin/dreamdb.js', 'resolve', '--space', 'demo'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status === 0) return JSON.parse(result.stdout).timelines.includes(name);
  const ownStore = !process.env.DREAMDB_STORE && !process.env.DREAMDB_HOME && existsSync(STORE);
  if (ownStore && /manifest [^ ]*\.v: version \d+ is not supported/.test(result.stderr)) {
    // A store written by an older DreamDB whose manifests this one cannot read: kept aside, not lost.
    const aside = `${STORE}-old-${Date.now()}`;
    renameSync(STORE, aside);
    console.log(`\nthe demo store was written by an older DreamDB (${result.stderr.trim()});`);
    console.log(`it is kept in ${aside}, and the sample is ingested afresh`);
  }
  return false; // no main yet: a fresh store
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
  if (demoHasTimeline('lab-session')) {
    // An earlier run ingested it (possibly packaged by an older DreamDB, which a re-ingest of the same
    // file would refuse as other media): the demo serves what is stored.
    console.log('\nthe demo space has the sample already (rm -r .dreamdb/store to ingest it afresh)');
  } else dreamdb(ingestArgs(sample, 'demo', 'lab-session'));
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
  await serve();
} catch (error) {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}

/**
 * Serve the store (port PORT, default 8080), let ffprobe (a client nobody here wrote) read the session's
 * HLS, print the player's URL, and keep serving until Ctrl-C (or stop now with DREAMDB_START_EXIT=1).
 */
async function serve() {
  const port = process.env.PORT ?? '8080';
  console.log(`\n$ dreamdb serve --port ${port}`);
  const server = spawn('node', ['server/bin/dreamdb.js', 'serve', '--port', port, '--no-log'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await serveUrl(server).catch((error) => {
    throw new Error(`${error.message} (is port ${port} taken? set PORT)`);
  });

  const hls = `${base}/hls/demo/main/lab-session/master.m3u8`;
  console.log(`ffprobe reads ${hls}`);
  const probe = spawn(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name,width,height:format=duration', '-of', 'compact', hls],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const code = await new Promise((resolve) => probe.on('exit', resolve));
  if (code !== 0) {
    server.kill('SIGTERM');
    throw new Error(`ffprobe could not read ${hls}`);
  }
  console.log(`\nThe session is served. Open the player:\n\n  ${base}/?space=demo&timeline=lab-session\n`);
  console.log(`(HLS ${hls}, DASH ${base}/dash/demo/main/lab-session/manifest.mpd; Ctrl-C stops the server)`);
  if (process.env.DREAMDB_START_EXIT === '1') {
    server.kill('SIGTERM');
    return;
  }
  process.on('SIGINT', () => server.kill('SIGTERM'));
  await new Promise((resolve) => server.on('exit', resolve));
}
