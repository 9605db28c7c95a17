/**
 * BLAKE3 throughput: the engine's streaming multihash (native in Node, hash-wasm in browsers) vs @noble/hashes BLAKE3 (the reference)
 * vs node:crypto SHA-256 vs native b3sum on one thread, over the same 256 MiB stream.
 * Run: npm run bench -- hash   (DREAMDB_BENCH_MIB=64 for a quicker run)
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blake3Backend,
  hashStream,
  multihashToHex,
  setBlake3Backend,
  toHex,
  wasmBlake3,
} from '@dreamdb/engine';
import { hashFile, nativeBlake3 } from '@dreamdb/engine/node';
import { blake3 } from '@noble/hashes/blake3.js';
import { best, printTable, type Row } from './lib.ts';

const MIB = Number(process.env.DREAMDB_BENCH_MIB ?? 256);
const CHUNK = Buffer.alloc(1 << 20);
randomFillSync(CHUNK);

/** The stream: the same random 1 MiB chunk MIB times, so only hashing is measured. */
function* stream(): Generator<Buffer> {
  for (let i = 0; i < MIB; i++) yield CHUNK;
}

const bytes = MIB * 2 ** 20;
const mbps = (seconds: number) => bytes / seconds / 1e6;
const rows: Row[] = [];

let engineHex = '';
const engine = await best(3, async () => {
  engineHex = multihashToHex(await hashStream(stream()));
});
rows.push({ name: `engine hashStream, Node (${blake3Backend().name})`, value: mbps(engine), unit: 'MB/s' });

setBlake3Backend(wasmBlake3);
let wasmHex = '';
const wasm = await best(3, async () => {
  wasmHex = multihashToHex(await hashStream(stream()));
});
rows.push({
  name: 'engine hashStream, browser path (hash-wasm)',
  value: mbps(wasm),
  unit: 'MB/s',
  note: wasmHex === engineHex ? 'digest equal' : 'DIGEST DIFFERS',
});
if (nativeBlake3) setBlake3Backend(nativeBlake3);

let nobleHex = '';
const noble = await best(1, () => {
  const h = blake3.create();
  for (const c of stream()) h.update(c);
  nobleHex = `1e20${toHex(h.digest())}`;
});
rows.push({
  name: '@noble/hashes blake3 (reference)',
  value: mbps(noble),
  unit: 'MB/s',
  note: nobleHex === engineHex ? 'digest equal to engine' : 'DIGEST DIFFERS',
});

const sha = await best(3, () => {
  const h = createHash('sha256');
  for (const c of stream()) h.update(c);
  h.digest();
});
rows.push({ name: 'node:crypto sha256 (OpenSSL)', value: mbps(sha), unit: 'MB/s' });

// Same bytes from a file, for the engine's file path and for b3sum.
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-bench-hash-'));
const file = join(dir, 'stream.bin');
const fd = openSync(file, 'w');
for (const c of stream()) writeSync(fd, c);
closeSync(fd);
try {
  let fileHex = '';
  const fromFile = await best(3, async () => {
    fileHex = multihashToHex(await hashFile(file));
  });
  rows.push({
    name: 'engine hashFile (1 MiB reads, page cache)',
    value: mbps(fromFile),
    unit: 'MB/s',
    note: fileHex === engineHex ? 'digest equal' : 'DIGEST DIFFERS',
  });
  let b3 = '';
  const native = await best(3, () => {
    b3 = `1e20${execFileSync('b3sum', ['--no-names', '--num-threads', '1', file], { encoding: 'utf8' }).trim()}`;
  });
  rows.push({
    name: 'b3sum --num-threads 1 (native ceiling)',
    value: mbps(native),
    unit: 'MB/s',
    note: b3 === engineHex ? 'digest equal' : 'DIGEST DIFFERS',
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

printTable(`BLAKE3 over a ${MIB} MiB stream (one core)`, rows, '@noble/hashes blake3 (reference)');
