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

test('a shard that fails on its worker fails the build, naming the shard', async () => {
  const spill = await fileSpill();
  try {
    const job = { shard: 5, count: 10, dimension: 4, rows: 'missing.rows', edges: 'x.edges', params: PARAMS };
    await assert.rejects(workerShards(1)([job], spill), /shard 5: .*missing\.rows/);
  } finally {
    await spill.remove();
  }
});
