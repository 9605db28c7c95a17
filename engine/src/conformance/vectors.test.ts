import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { type Blake3Backend, setBlake3Backend, wasmBlake3 } from '../address/multihash.js';
import { nativeBlake3 } from '../node/native-blake3.js';
import { loadVectorFiles, VECTORS_DIR } from '../node/vectors.js';
import { runVector, runVectorsAt } from './vectors.js';

const files = await loadVectorFiles();

test('every vector file holds at least 20 valid and 20 invalid vectors', () => {
  for (const name of [
    'time.json',
    'cbor.json',
    'multihash.json',
    'address.json',
    'modality.json',
    'model.json',
  ]) {
    const file = files.get(name);
    assert.ok(file, `${name} is missing`);
    const invalid = file.vectors.filter((v) => v.error !== undefined).length;
    assert.ok(invalid >= 20, `${name}: ${invalid} invalid vectors`);
    if (name !== 'model.json')
      assert.ok(
        file.vectors.length - invalid >= 20,
        `${name}: ${file.vectors.length - invalid} valid vectors`,
      );
  }
});

const allBackends: Blake3Backend[] = [wasmBlake3, ...(nativeBlake3 ? [nativeBlake3] : [])];

for (const [name, file] of files) {
  if (name.includes('/')) continue; // the folders run below, as `dreamdb check` runs them
  // Hash vectors run under every BLAKE3 backend; the others do not hash.
  const backends = name === 'multihash.json' ? allBackends : [undefined];
  for (const backend of backends) {
    test(`spec ${file.spec} vectors: ${name}${backend ? ` (${backend.name})` : ''}`, async (t) => {
      if (backend) setBlake3Backend(backend);
      for (const vector of file.vectors) {
        await t.test(vector.name, async () => {
          const outcome = await runVector(vector);
          assert.ok(outcome.ok, outcome.detail);
        });
      }
    });
  }
}

test('every folder of spec/vectors is run by the one runner `dreamdb check` uses (access/, dag/, text/; serving/ is the origin’s)', async () => {
  const folders = new Set([...files.keys()].filter((p) => p.includes('/')).map((p) => p.split('/')[0]));
  assert.deepEqual([...folders].sort(), ['access', 'dag', 'serving', 'text']);
  for (const [path, file] of files) {
    const outcomes = await runVectorsAt(path, file);
    if (path.startsWith('serving/')) {
      assert.equal(outcomes, undefined);
      continue;
    }
    assert.ok(outcomes && outcomes.length > 0, `${path} ran no vector`);
    const failed = outcomes.filter((o) => !o.ok);
    assert.deepEqual(failed, [], `${path}: ${failed.map((o) => `${o.name}: ${o.detail}`).join('; ')}`);
  }
});

test('every generator rewrites its vector files byte for byte (a vector cannot drift from its generator)', () => {
  const out = mkdtempSync(join(tmpdir(), 'dreamdb-vectors-'));
  try {
    for (const generator of ['generate.py', 'generate_lsh.py', 'generate_hybrid.py'])
      execFileSync('/usr/bin/python3', [join(VECTORS_DIR, generator)], {
        env: { ...process.env, DREAMDB_VECTORS_OUT: out },
        encoding: 'utf8',
      });
    const written = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(out, join(e.parentPath, e.name)))
      .sort();
    assert.ok(written.length >= 10, `the generators wrote ${written.join(', ')}`);
    for (const path of written)
      assert.ok(
        readFileSync(join(out, path)).equals(readFileSync(join(VECTORS_DIR, path))),
        `spec/vectors/${path} differs from what its generator writes now`,
      );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('python3-cbor2 decodes every CBOR vector to the same value and re-encodes it byte for byte', () => {
  const out = execFileSync('/usr/bin/python3', [`${VECTORS_DIR}/check_cbor.py`], { encoding: 'utf8' });
  assert.match(out, /cbor2: \d+ passed, 0 failed/);
});

test('b3sum agrees with every multihash vector', () => {
  for (const vector of files.get('multihash.json')!.vectors) {
    if (vector.op !== 'hash') continue;
    const n = vector.input?.pattern_bytes;
    const input =
      n === undefined
        ? Buffer.from(String(vector.input?.hex), 'hex')
        : Buffer.from(Uint8Array.from({ length: Number(n) }, (_, i) => i % 251));
    const digest = execFileSync('b3sum', ['--no-names', '-'], { input, encoding: 'utf8' }).trim();
    assert.equal(vector.output?.multihash, `1e20${digest}`, vector.name);
  }
});
