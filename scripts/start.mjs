// `npm start`: the main job. At this stage DreamDB has its engine core and CLI, so it builds
// everything, shows the CLI, and runs `dreamdb check` (every conformance vector, plus the machine's tools).
import { build, ensureNode, ensureNodeModules, ensureSystemPackages, run } from './lib/bootstrap.mjs';

try {
  ensureNode();
  ensureNodeModules();
  ensureSystemPackages();
  build();
  run('node', ['server/bin/dreamdb.js', '--help']);
  console.log('');
  run('node', ['server/bin/dreamdb.js', 'check']);
} catch (error) {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}
