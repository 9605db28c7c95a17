import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { type Blake3Backend, setBlake3Backend, wasmBlake3 } from '../address/multihash.js';
import { nativeBlake3 } from '../node/native-blake3.js';
import { loadVectorFiles, VECTORS_DIR } from '../node/vectors.js';
import { runVector } from './vectors.js';

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
