import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The dependencies that must never exist (ARCHITECTURE.md), checked on every import of the repository's
 * TypeScript: a rule broken here is a layering broken in the code, whatever still compiles.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every .ts file under `dir` (repository-relative), tests included, builds and dependencies excluded. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** What a file imports: each specifier, with relative ones resolved to repository paths. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g,
  )) {
    const spec = m[3]!;
    out.push({
      spec: spec.startsWith('.')
        ? relative(ROOT, join(ROOT, file, '..', spec)).replace(/\.js$/, '.ts')
        : spec,
      typeOnly: Boolean(m[2]),
    });
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g))
    out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

/** Imports of `files` matching `bad`, as "file -> spec" lines. */
function offences(files: string[], bad: (spec: string, typeOnly: boolean) => boolean): string[] {
  return files.flatMap((f) =>
    imports(f)
      .filter((i) => bad(i.spec, i.typeOnly))
      .map((i) => `${f} -> ${i.spec}`),
  );
}

const engine = sources('engine/src');
const isTest = (f: string) => f.endsWith('.test.ts') || f.includes('/testing/');

test('nothing depends on server/, and the engine depends on no other part', () => {
  const all = [...engine, ...sources('packager/src'), ...sources('player/src'), ...sources('e2e/src')];
  assert.deepEqual(
    offences(all, (s) => s.startsWith('@dreamdb/server') || s.startsWith('server/')),
    [],
  );
  assert.deepEqual(
    offences(engine, (s) => /^(@dreamdb\/(packager|player)|packager\/|player\/)/.test(s)),
    [],
  );
});

test("the engine's pure core runs in a browser: no Node module outside engine/src/node", () => {
  const core = engine.filter((f) => !f.startsWith('engine/src/node/') && !isTest(f));
  assert.deepEqual(
    offences(
      core,
      (s) =>
        s.startsWith('node:') ||
        ['undici', '@napi-rs/blake-hash', 'fast-xml-parser'].includes(s) ||
        s.startsWith('@smithy/'),
    ),
    [],
  );
});

test('the data path reaches index kinds only through the seam (indexes/kind, registry, track-indexes, builtin)', () => {
  const seamUsers = engine.filter(
    (f) => /^engine\/src\/(model|writes|versions|session|store|timeindex|format)\//.test(f) && !isTest(f),
  );
  assert.ok(seamUsers.length > 30, `${seamUsers.length} files checked`);
  assert.deepEqual(
    offences(seamUsers, (s) => /^engine\/src\/indexes\/(graph|lsh|text)\//.test(s)),
    [],
  );
  // The model knows the registry only (to check known kinds' parameters), never a kind.
  const model = engine.filter((f) => f.startsWith('engine/src/model/'));
  assert.deepEqual(
    offences(model, (s) => s.startsWith('engine/src/indexes/') && s !== 'engine/src/indexes/registry.ts'),
    [],
  );
});

test('other parts import the engine through its public faces, never its files', () => {
  const outside = [
    ...sources('packager/src'),
    ...sources('server/src'),
    ...sources('player/src'),
    ...sources('e2e/src'),
  ];
  assert.deepEqual(
    offences(outside, (s) => s.includes('engine/src/') || /^@dreamdb\/engine\/(src|dist)\//.test(s)),
    [],
  );
});

test('the player reaches the server only over HTTP, and takes from the engine only types and its pure core', () => {
  const player = sources('player/src');
  assert.deepEqual(
    offences(
      player,
      (s, typeOnly) =>
        s.startsWith('@dreamdb/engine/node') ||
        (s.startsWith('@dreamdb/engine/') && s !== '@dreamdb/engine/api' && !typeOnly),
    ),
    [],
  );
  assert.deepEqual(
    offences(player, (s) => s.startsWith('@dreamdb/packager')),
    [],
  );
});
