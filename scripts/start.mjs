// `npm start`: the main job. Until the packager, origin and player land (issues 5, 6, 9), it builds
// everything, runs every conformance vector (`dreamdb check`), then writes a small session into the
// embedded store (./.dreamdb/store), reads it back by time range, and verifies the store (`dreamdb fsck`).
import { spawnSync } from 'node:child_process';
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

try {
  ensureNode();
  ensureNodeModules();
  ensureSystemPackages();
  build();
  run('node', ['server/bin/dreamdb.js', '--help']);
  dreamdb(['check']);
  const notes = Array.from({ length: 20 }, (_, i) =>
    JSON.stringify({
      tick: `${i * 3}.5s`,
      payload: { label: ['wave', 'point', 'nod', 'smile'][i % 4], note: `moment ${i}` },
    }),
  ).join('\n');
  dreamdb(
    [
      'write',
      '--space',
      'demo',
      '--timeline',
      'session-1',
      '--track',
      'notes',
      '--message',
      'npm start demo',
    ],
    notes,
  );
  dreamdb(['resolve', '--space', 'demo']);
  dreamdb(['range', '--space', 'demo', '--timeline', 'session-1', '--from', '10s', '--to', '20s']);
  dreamdb(['fsck']);
} catch (error) {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}
