/**
 * What a build larger than memory needs from its host (spec 0013 §2.1): somewhere to spill, and something
 * to run its shards on. The pure core spills to memory and builds in its own thread; a Node host gives
 * files and worker threads (engine/src/node/graph-shards.ts).
 */

/** Where a build spills what it does not hold: named byte files written once, then read by range. */
export interface Spill {
  /** A new file `name`, written by appends until closed. */
  writer(name: string): SpillWriter;
  /** Bytes [offset, offset + length) of a closed file. */
  read(name: string, offset: number, length: number): Promise<Uint8Array>;
  /** Delete every file. */
  remove(): Promise<void>;
  /** Let go of what reads hold open (the files stay). */
  close?(): Promise<void>;
}

/** A spill file being written. */
export interface SpillWriter {
  append(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** One shard to build: its unit rows (`rows`, count × dimension f32) in, its out-edges (`edges`) out. */
export interface ShardJob {
  readonly shard: number;
  readonly count: number;
  readonly dimension: number;
  readonly rows: string;
  readonly edges: string;
  /** The graph's build parameters (a shard is built with the shard degree). */
  readonly params: {
    readonly degree: number;
    readonly buildList: number;
    readonly alpha: number;
    readonly seed: number;
  };
}

/** Runs shard builds (in this thread, one after the other, unless a caller has workers). */
export type ShardRunner = (jobs: readonly ShardJob[], spill: Spill) => Promise<void>;

/** Where a partitioned build spills and runs its shards, and the build size past which it partitions. */
export interface LargeBuildOptions {
  readonly spill?: () => Promise<Spill>;
  readonly runShards?: ShardRunner;
  /**
   * Rows (as the dot kernel holds them) a build holds at most. Spec 0013 §2.1 fixes 1 GiB
   * (GRAPH_BUILD_BYTES): another value gives segments other bytes, so only tests change it.
   */
  readonly buildBytes?: number;
}
