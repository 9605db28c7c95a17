// `npm run bench [-- name ...]`: runs bench/<name>.ts scripts (all when none is named).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureNodeModules, ROOT, run } from './lib/bootstrap.mjs';

ensureNodeModules();
// Helpers, not benches: lib.ts, and <bench>-<part>.ts files that a bench splits into
// (origin-server.ts, search-data.ts...).
const HELPERS = /^(lib|origin-.+|search-.+)\.ts$/;
const all = readdirSync(join(ROOT, 'bench'))
  .filter((f) => f.endsWith('.ts') && !HELPERS.test(f))
  .map((f) => f.slice(0, -3));
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`npm run bench: no bench/${name}.ts (have: ${all.join(', ')})`);
    process.exit(2);
  }
  run('node', [
    '--max-old-space-size=12288',
    '--import',
    'tsx',
    '--conditions=source',
    join('bench', `${name}.ts`),
  ]);
}
