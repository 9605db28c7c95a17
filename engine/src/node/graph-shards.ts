import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors.js';
import type { ShardJob, ShardRunner, Spill } from '../indexes/graph/partitioned.js';
import type { LargeBuildOptions } from '../indexes/large-build.js';

/**
 * The Node side of a partitioned graph build (spec 0013 §2.1): a spill of files in a directory of its own,
 * and a runner that builds shards on worker threads, each holding one shard at a time.
 */

/** A spill in the directory `dir` (created when missing; `remove` deletes it). */
export async function fileSpill(
  dir = join(tmpdir(), `dreamdb-spill-${randomUUID()}`),
): Promise<Spill & { dir: string }> {
  await mkdir(dir, { recursive: true });
  const readers = new Map<string, Promise<FileHandle>>();
  const close = async () => {
    for (const handle of readers.values()) await (await handle).close();
    readers.clear();
  };
  return {
    dir,
    writer(name) {
      const file = open(join(dir, name), 'w');
      return {
        async append(bytes) {
          const handle = await file;
          let at = 0;
          while (at < bytes.length) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
        },
        async close() {
          await (await file).close();
        },
      };
    },
    async read(name, offset, length) {
      let handle = readers.get(name);
      if (!handle) {
        handle = open(join(dir, name), 'r');
        readers.set(name, handle);
      }
      const out = new Uint8Array(length);
      let at = 0;
      while (at < length) {
        const { bytesRead } = await (await handle).read(out, at, length - at, offset + at);
        if (bytesRead === 0)
          throw new EngineError('E_NOT_FOUND', `spill ${name}: no bytes ${offset + at}..${offset + length}`);
        at += bytesRead;
      }
      return out;
    },
    close,
    async remove() {
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What a shard worker is sent: the job and the spill directory. */
export interface ShardMessage {
  readonly job: ShardJob;
  readonly dir: string;
}

/**
 * A runner of `workers` threads over a file spill: the largest shards first, each worker building one at a
 * time (so at most `workers` shards are held at once).
 */
export function workerShards(workers: number): ShardRunner {
  return async (jobs, spill) => {
    const dir = (spill as { dir?: string }).dir;
    if (!dir) throw new EngineError('E_BAD_REQUEST', 'worker shards need a file spill');
    const queue = [...jobs].sort((a, b) => b.count - a.count || a.shard - b.shard);
    const source = import.meta.url.endsWith('.ts');
    const url = new URL(`./graph-shard-worker.${source ? 'ts' : 'js'}`, import.meta.url);
    const run = async () => {
      // Node 20 does not run the main thread's --import hooks for a worker's entry: when running from
      // TypeScript sources, the worker registers tsx's hooks itself before importing its module.
      const worker = source
        ? new Worker(
            `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`,
            { eval: true },
          )
        : new Worker(url);
      try {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const message: ShardMessage = { job, dir };
          await new Promise<void>((resolve, reject) => {
            const onError = (error: Error) => reject(error);
            worker.once('error', onError);
            worker.once('message', (reply: { error?: string }) => {
              worker.off('error', onError);
              if (reply.error) reject(new EngineError('E_BAD_REQUEST', `shard ${job.shard}: ${reply.error}`));
              else resolve();
            });
            worker.postMessage(message);
          });
        }
      } finally {
        await worker.terminate();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, run));
  };
}

/** How a Node process builds large graph segments: spilled to temporary files, shards on up to 2 worker threads. */
export function nodeGraphBuild(): LargeBuildOptions {
  return { spill: () => fileSpill(), runShards: workerShards(Math.min(2, availableParallelism())) };
}
