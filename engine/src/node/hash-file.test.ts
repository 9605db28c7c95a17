import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { multihashToHex } from '../address/multihash.js';
import { hashFile } from './hash-file.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-hash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Write `size` random bytes to a file in 4 MiB pieces. */
function randomFile(name: string, size: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const piece = Buffer.alloc(Math.min(size, 4 << 20));
  for (let left = size; left > 0; left -= piece.length) {
    const n = Math.min(left, piece.length);
    randomFillSync(piece, 0, n);
    writeSync(fd, piece, 0, n);
  }
  closeSync(fd);
  return path;
}

function b3sum(path: string): string {
  return execFileSync('b3sum', ['--no-names', path], { encoding: 'utf8' }).trim();
}

for (const [label, size] of [
  ['0 B', 0],
  ['1 B', 1],
  ['1 KiB + 1', 1025],
  ['64 MiB', 64 << 20],
] as const) {
  test(`the multihash of a random ${label} file equals 1e20 + b3sum's digest`, async () => {
    const path = randomFile(`random-${size}`, size);
    assert.equal(multihashToHex(await hashFile(path)), `1e20${b3sum(path)}`);
  });
}

test('hashing a 64 MiB file streams it: memory grows by far less than the file', async () => {
  const path = randomFile('big', 64 << 20);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  await hashFile(path);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.ok(peak - before < 32 << 20, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
});

test('a missing file is an ENOENT that names the path', async () => {
  await assert.rejects(
    hashFile(join(dir, 'nope')),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.message.includes('nope'),
  );
  writeFileSync(join(dir, 'empty'), '');
});
