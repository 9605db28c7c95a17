import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors.js';
import type { LargeBuildOptions, ShardJob, ShardRunner, Spill } from '../indexes/large-build.js';
import { isAlive } from './store/fs-store.js';

/**
 * The Node side of a partitioned graph build (spec 0013 §2.1): a spill of files in a directory of its own,
 * and a runner that builds shards on worker threads, each holding one shard at a time.
 */

const SPILL_PREFIX = 'dreamdb-spill-';

/**
 * Remove the spills of processes that are gone (a build killed mid-way leaves its files: gigabytes).
 * A spill directory is named for its process: dreamdb-spill-<pid>-<uuid>.
 */
async function sweepSpills(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(SPILL_PREFIX)) continue;
    const pid = Number(name.slice(SPILL_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid))
      await rm(join(parent, name), { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * A spill in `dir`: by default a new directory under the system's temporary directory (after sweeping
 * those of dead processes); `create: false` opens one that exists (a shard worker's view of it).
 */
export async function fileSpill(
  dir?: string,
  options: { create?: boolean } = {},
): Promise<Spill & { dir: string }> {
  const at = dir ?? join(tmpdir(), `${SPILL_PREFIX}${process.pid}-${randomUUID()}`);
  if (!dir) await sweepSpills(tmpdir());
  if (options.create !== false) await mkdir(at, { recursive: true });
  const readers = new Map<string, Promise<FileHandle>>();
  const writers = new Set<Promise<FileHandle>>();
  // Every handle is closed by close(), whatever failed before: a failed build leaves no open files.
  const close = async () => {
    for (const handle of [...readers.values(), ...writers])
      await (await handle.catch(() => null))?.close().catch(() => {});
    readers.clear();
    writers.clear();
  };
  return {
    dir: at,
    writer(name) {
      const file = open(join(at, name), 'w');
      // A failed open is reported by the writer's next call, never as an unhandled rejection.
      file.catch(() => {});
      writers.add(file);
      return {
        async append(bytes) {
          const handle = await file;
          let done = 0;
          while (done < bytes.length)
            done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
        },
        async close() {
          writers.delete(file);
          await (await file).close();
        },
      };
    },
    async read(name, offset, length) {
      let handle = readers.get(name);
      if (!handle) {
        handle = open(join(at, name), 'r');
        handle.catch(() => {});
        readers.set(name, handle);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await (await handle).read(out, done, length - done, offset + done);
        if (bytesRead === 0)
          throw new EngineError(
            'E_NOT_FOUND',
            `spill ${name}: no bytes ${offset + done}..${offset + length}`,
          );
        done += bytesRead;
      }
      return out;
    },
    close,
    async remove() {
      await close();
      await rm(at, { recursive: true, force: true });
    },
  };
}

/** What a shard worker is sent: the job and the spill directory. */
export interface ShardMessage {
  readonly job: ShardJob;
  readonly dir: string;
}

/** A shard worker thread, from TypeScript sources or the built JavaScript. */
function shardWorker(): Worker {
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(`./graph-shard-worker.${source ? 'ts' : 'js'}`, import.meta.url);
  // Node 20 does not run the main thread's --import hooks for a worker's entry: from TypeScript sources,
  // the worker registers tsx's hooks itself before importing its module.
  return source
    ? new Worker(
        `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`,
        { eval: true },
      )
    : new Worker(url);
}

/**
 * A runner of `workers` threads over a file spill: the largest shards first, each worker building one at a
 * time (at most `workers` shards held at once). The first failure stops every worker before the runner
 * rejects, so no shard is still writing when the caller removes the spill.
 */
export function workerShards(workers: number): ShardRunner {
  return async (jobs, spill) => {
    const dir = (spill as { dir?: string }).dir;
    if (!dir) throw new EngineError('E_BAD_REQUEST', 'worker shards need a file spill');
    const queue = [...jobs].sort((a, b) => b.count - a.count || a.shard - b.shard);
    const threads: Worker[] = [];
    let failed: Error | undefined;
    const run = async () => {
      const worker = shardWorker();
      threads.push(worker);
      // One listener of each kind for the worker's whole life: an error or exit between jobs is not lost.
      let settle: ((error?: Error) => void) | undefined;
      worker.on('error', (error) => settle?.(error));
      worker.on('exit', (code) => settle?.(new Error(`shard worker exited (code ${code})`)));
      worker.on('message', (reply: { error?: string }) =>
        settle?.(reply.error ? new Error(reply.error) : undefined),
      );
      try {
        for (let job = queue.shift(); job && !failed; job = queue.shift()) {
          const shard = job.shard;
          await new Promise<void>((resolve, reject) => {
            settle = (error) => {
              settle = undefined;
              if (error) reject(new Error(`shard ${shard}: ${error.message}`));
              else resolve();
            };
            worker.postMessage({ job, dir } satisfies ShardMessage);
          });
        }
      } catch (error) {
        failed ??= error as Error;
        queue.length = 0;
        await Promise.all(threads.map((t) => t.terminate()));
      } finally {
        settle = undefined;
        await worker.terminate();
      }
    };
    await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, run));
    if (failed) throw failed;
  };
}

/** One pool for the process: concurrent builds take turns, so at most `workers` shards are held at once. */
let turn: Promise<unknown> = Promise.resolve();

/** How a Node process builds large graph segments: spilled to temporary files, shards on up to 2 worker threads. */
export function nodeGraphBuild(): LargeBuildOptions {
  const runner = workerShards(Math.min(2, availableParallelism()));
  return {
    spill: () => fileSpill(),
    runShards: (jobs, spill) => {
      const mine = turn.then(() => runner(jobs, spill));
      turn = mine.catch(() => {});
      return mine;
    },
  };
}
