import { parentPort } from 'node:worker_threads';
import { buildShard } from '../indexes/graph/partitioned.js';
import { fileSpill, type ShardMessage } from './graph-shards.js';

// One shard at a time: its rows read from the spill, its out-edges written back (graph-shards.ts).
parentPort?.on('message', async ({ job, dir }: ShardMessage) => {
  try {
    const spill = await fileSpill(dir, { create: false });
    try {
      await buildShard(job, spill);
    } finally {
      await spill.close?.();
    }
    parentPort?.postMessage({});
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  }
});
