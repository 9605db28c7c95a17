import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { buildPartitioned, memorySpill } from '../indexes/graph/partitioned.js';
import { random } from '../testing/random.js';
import { fileSpill, workerShards } from './graph-shards.js';

const PARAMS = { degree: 12, buildList: 32, alpha: 1.2, seed: 3 };

function rows(n: number, dim: number): Float32Array {
  const rng = random(11);
  const centers = Array.from({ length: 12 }, () => Array.from({ length: dim }, () => rng() - 0.5));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[i % 12]!;
    for (let d = 0; d < dim; d++) out[i * dim + d] = c[d]! + 0.1 * (rng() - 0.5);
  }
  return out;
}

const sourceOf = (v: Float32Array, dim: number) => ({
  count: v.length / dim,
  dimension: dim,
  rows: async (from: number, to: number) => v.slice(from * dim, to * dim),
});

test('shards built on 2 worker threads over a file spill give the graph built in this thread in memory', async () => {
  const dim = 16;
  const v = rows(5000, dim);
  const here = await buildPartitioned(sourceOf(v, dim), PARAMS, { shardNodes: 2500, spill: memorySpill() });
  const spill = await fileSpill();
  try {
    const there = await buildPartitioned(sourceOf(v, dim), PARAMS, {
      shardNodes: 2500,
      spill,
      runShards: workerShards(2),
    });
    assert.equal(there.shards, 4);
    assert.equal(there.medoid, here.medoid);
    assert.deepEqual(await there.edges(0, 5000), await here.edges(0, 5000));
    assert.deepEqual(await there.edges(1234, 1300), await here.edges(1234, 1300));
  } finally {
    await spill.remove();
  }
  assert.ok(!existsSync(spill.dir), 'the spill directory is removed');
});

test('a shard that fails on its worker fails the build, naming the shard, and stops the others', async () => {
  const spill = await fileSpill();
  try {
    const job = { shard: 5, count: 10, dimension: 4, rows: 'missing.rows', edges: 'x.edges', params: PARAMS };
    await assert.rejects(workerShards(1)([job], spill), /shard 5: .*missing\.rows/);
    // Two workers, six jobs, the largest failing at once, the others real shards of 3000 rows: the runner
    // rejects once every worker has stopped, and no job is taken after the failure.
    const dim = 16;
    const w = spill.writer('good.rows');
    await w.append(new Uint8Array(rows(3000, dim).buffer));
    await w.close();
    const jobs = Array.from({ length: 6 }, (_, s) => ({
      shard: s,
      count: s === 0 ? 5000 : 3000,
      dimension: dim,
      rows: s === 0 ? 'missing.rows' : 'good.rows',
      edges: `e${s}`,
      params: PARAMS,
    }));
    await assert.rejects(workerShards(2)(jobs, spill), /shard 0: .*missing\.rows/);
    const { readdir } = await import('node:fs/promises');
    const written = (await readdir(spill.dir)).filter((f) => /^e\d$/.test(f));
    assert.ok(written.length <= 1, `edges written after the failure: ${written}`);
  } finally {
    await spill.remove();
  }
  assert.ok(!existsSync(spill.dir));
});

test('a spill of a process that is gone is swept by the next one; a live one is kept', async () => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dead = join(tmpdir(), 'dreamdb-spill-999999999-test');
  const mine = join(tmpdir(), `dreamdb-spill-${process.pid}-test`);
  for (const dir of [dead, mine]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'shard-0.rows'), 'x');
  }
  const spill = await fileSpill();
  await spill.remove();
  assert.ok(!existsSync(dead), 'the dead process spill is removed');
  assert.ok(existsSync(mine), 'a live process spill is kept');
  (await import('node:fs')).rmSync(mine, { recursive: true });
});
