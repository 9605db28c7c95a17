// `npm test`: the whole suite on a fresh machine. Installs what the tests need, builds, lints,
// type-checks, then runs every *.test.ts with node's test runner and ends with "N passed, N failed".
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build, ensureNode, ensureNodeModules, ensureSystemPackages, ROOT, run } from './lib/bootstrap.mjs';

const WORKSPACES = ['engine', 'packager', 'server', 'player', 'e2e'];

function testFiles(dir) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

try {
  ensureNode();
  ensureNodeModules();
  ensureSystemPackages();
  build();
  run('npx', ['biome', 'check', '.']);
  run('npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  // The benches are scripts, not a workspace: type-checked here so an API change cannot break them unseen.
  run('npx', ['tsc', '-p', 'bench/tsconfig.json']);
} catch (error) {
  console.error(`npm test: ${error.message}`);
  process.exit(1);
}

const filter = process.argv.slice(2);
const files = WORKSPACES.flatMap((w) => testFiles(join(ROOT, w)))
  .map((f) => relative(ROOT, f))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();
const summaryFile = join(tmpdir(), `dreamdb-test-summary-${process.pid}.txt`);
let status = 0;
try {
  run('node', [
    '--import',
    'tsx',
    '--conditions=source',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(ROOT, 'scripts/lib/summary-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    ...files,
  ]);
} catch {
  status = 1;
}
let summary = '';
try {
  summary = readFileSync(summaryFile, 'utf8').trim();
  rmSync(summaryFile);
} catch {
  summary = '0 passed, 1 failed';
}
console.log(`\ntests: ${summary}`);
process.exit(status);
