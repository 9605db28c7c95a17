import { hashParts, type Multihash, multihashToHex } from '../../address/multihash.js';
import { decodeCanonical } from '../../cbor/deterministic.js';
import { sealVectorCompressor } from '../../format/vector-compressor.js';
import type { SegmentRef } from '../../model/segments.js';
import type { Session } from '../../session/session.js';
import type { Tick } from '../../time/ticks.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import { payloadVector } from '../../vectors/payload.js';
import { defaultPqParams, encodePq, type PqParams, trainPq } from '../../vectors/pq.js';
import type { Uploader } from '../../writes/uploader.js';
import { droppedUnion, dropTicks } from '../dropped.js';
import type { IndexChange, IndexContext } from '../kind.js';
import type { LargeBuildOptions } from '../large-build.js';
import { appendSegments } from '../segment-log.js';
import { DotKernel, paddedDimension } from './dot-kernel.js';
import { type GraphParams, vamanaParams } from './params.js';
import { memorySpill } from './partitioned.js';
import { encodeGraphSegment, forEachPage, heldRecords, readGraphIndex, readPage } from './segment.js';
import { buildGraph } from './vamana.js';
import { writeLargeSegment } from './write-large.js';

/** Nodes a graph segment holds at most: larger segments are never merged again (spec 0013 §4). */
export const GRAPH_SEGMENT_NODES = 4_000_000;

/** Segments of at least this many nodes carry product-quantization codes (spec 0010) for paged queries. */
export const COMPRESS_MIN_NODES = 4096;

/** Vectors in tick order: their ticks and full-precision components (count × dimension). */
export interface GraphRows {
  readonly count: number;
  readonly ticks: BigUint64Array;
  readonly vectors: Float32Array;
}

/** Rows a graph build holds at most (the dot kernel's copy): larger segments are built over partitions (spec 0013 §2.1). */
export const GRAPH_BUILD_BYTES = 2 ** 30;

/** Whose segments these are, and how a large one is built. */
interface Owner {
  readonly timeline: string;
  readonly track: string;
  readonly params: GraphParams;
  readonly build?: LargeBuildOptions | undefined;
}

/** The vectors of a change's staged items (their CBOR decoded once), ticks ascending. */
function stagedRows(owner: Owner, change: IndexChange): GraphRows {
  const { staged } = change;
  const dim = owner.params.dimension;
  const ticks = new BigUint64Array(staged.count);
  const vectors = new Float32Array(staged.count * dim);
  for (let i = 0; i < staged.count; i++) {
    const item = decodeCanonical(staged.bytes(i)) as { payload?: unknown };
    ticks[i] = staged.ticks[i]!;
    vectors.set(payloadVector(item.payload, dim, `${owner.timeline}/${owner.track}@${ticks[i]}`), i * dim);
  }
  return { count: staged.count, ticks, vectors };
}

/** Build one segment's graph over rows (tick order) and upload its GraphPage and GraphIndex objects. */
async function writeSegment(owner: Owner, rows: GraphRows, uploader: Uploader): Promise<SegmentRef> {
  const { dimension } = owner.params;
  const budget = owner.build?.buildBytes ?? GRAPH_BUILD_BYTES;
  const rowBytes = 4 * paddedDimension(dimension);
  if (rows.count * rowBytes > budget)
    return writePartitioned(owner, rows, uploader, Math.floor(budget / rowBytes));
  // The graph is built over unit rows in the kernel (spec 0013 §1); the pages keep the rows as written.
  const kernel = new DotKernel(rows.count, dimension);
  const unit = new Float32Array(dimension);
  for (let n = 0; n < rows.count; n++) {
    scaleToUnit(rows.vectors, n * dimension, unit);
    kernel.setRow(n, unit);
  }
  const graph = buildGraph(kernel, vamanaParams(owner.params));
  const compressed = await compressRows(owner.params, kernel, uploader);
  const index = await encodeGraphSegment(
    {
      timeline: owner.timeline,
      track: owner.track,
      params: owner.params,
      ticks: rows.ticks,
      graph: heldRecords(graph, rows.vectors),
      ...(compressed && { compressed }),
    },
    (page) => uploader.put(page.parts, page.hash),
  );
  return uploadIndex(index, rows, uploader);
}

/** Upload a segment's GraphIndex (after its pages) and name it as the track's segment of `rows`. */
async function uploadIndex(
  index: { parts: Uint8Array[]; hash: Multihash },
  rows: GraphRows,
  uploader: Uploader,
): Promise<SegmentRef> {
  await uploader.put(index.parts, index.hash);
  return { object: index.hash, count: rows.count, first: rows.ticks[0]!, last: rows.ticks[rows.count - 1]! };
}

/** A segment too large to build whole, built over partitions of about `shardNodes` rows. */
async function writePartitioned(
  owner: Owner,
  rows: GraphRows,
  uploader: Uploader,
  shardNodes: number,
): Promise<SegmentRef> {
  const dim = owner.params.dimension;
  const spill = await (owner.build?.spill ?? (async () => memorySpill()))();
  try {
    const { index } = await writeLargeSegment(
      {
        timeline: owner.timeline,
        track: owner.track,
        params: owner.params,
        ticks: rows.ticks,
        source: {
          count: rows.count,
          dimension: dim,
          rows: async (from, to) => rows.vectors.subarray(from * dim, to * dim),
        },
      },
      { shardNodes, spill, ...(owner.build?.runShards && { runShards: owner.build.runShards }) },
      (object) => uploader.put(object.parts, object.hash),
    );
    return await uploadIndex(index, rows, uploader);
  } finally {
    // A failure to clean up never hides the build's own error.
    await spill.remove().catch(() => {});
  }
}

/**
 * The codes of a segment's unit rows and their VectorCompressor (uploaded), for segments of at least
 * COMPRESS_MIN_NODES; smaller ones are always read whole, so codes would only cost bytes.
 */
async function compressRows(
  params: GraphParams,
  kernel: DotKernel,
  uploader: Uploader,
): Promise<{ compressor: Multihash; codes: Uint8Array } | undefined> {
  if (kernel.n < COMPRESS_MIN_NODES) return undefined;
  const pq: PqParams = {
    ...defaultPqParams(params.dimension),
    subspaces: params.subspaces,
    seed: params.seed,
  };
  const books = trainPq(kernel.rows, kernel.n, pq, kernel.stride);
  const parts = sealVectorCompressor(pq, books);
  const compressor = await hashParts(parts);
  await uploader.put(parts, compressor);
  return { compressor, codes: encodePq(books, kernel.rows, kernel.n, kernel.stride) };
}

/** Rows (tick order) as segments of at most GRAPH_SEGMENT_NODES, in equal pieces. */
async function writeSegments(owner: Owner, rows: GraphRows, uploader: Uploader): Promise<SegmentRef[]> {
  const pieces = Math.ceil(rows.count / GRAPH_SEGMENT_NODES);
  const dim = owner.params.dimension;
  const out: SegmentRef[] = [];
  for (let p = 0; p < pieces; p++) {
    const from = Math.floor((p * rows.count) / pieces);
    const to = Math.floor(((p + 1) * rows.count) / pieces);
    out.push(
      await writeSegment(
        owner,
        {
          count: to - from,
          ticks: rows.ticks.subarray(from, to),
          vectors: rows.vectors.subarray(from * dim, to * dim),
        },
        uploader,
      ),
    );
  }
  return out;
}

/**
 * Every live vector of some segments with their ticks, tick order: each GraphIndex and its GraphPage
 * objects read (verified by hash), the ticks a segment dropped and those `drop` names left out.
 */
export async function readGraphRows(
  session: Session,
  params: GraphParams,
  refs: readonly SegmentRef[],
  drop?: (tick: Tick) => boolean,
): Promise<GraphRows> {
  const dim = params.dimension;
  const parts: GraphRows[] = [];
  for (const ref of refs) {
    const hex = multihashToHex(ref.object);
    const index = await readGraphIndex(
      (o) => session.store.getObject(o),
      ref.object,
      params,
      `graph index ${hex}`,
    );
    const gone = await droppedUnion(session, [ref]);
    const vectors = new Float32Array(index.count * dim);
    const into = {
      neighbors: new Int32Array(index.count * params.degree),
      counts: new Uint16Array(index.count),
      setRow: (node: number, row: Float32Array) => vectors.set(row, node * dim),
    };
    await forEachPage(
      index,
      (object) => session.store.getObject(object),
      (page, bytes, what) => readPage(index, page, bytes, into, what),
    );
    const keep: number[] = [];
    for (let n = 0; n < index.count; n++)
      if (!gone.has(index.ticks[n]!) && !drop?.(index.ticks[n]!)) keep.push(n);
    const ticks = new BigUint64Array(keep.length);
    const kept = new Float32Array(keep.length * dim);
    for (const [i, n] of keep.entries()) {
      ticks[i] = index.ticks[n]!;
      kept.set(vectors.subarray(n * dim, (n + 1) * dim), i * dim);
    }
    parts.push({ count: keep.length, ticks, vectors: kept });
  }
  return byTick(parts, dim);
}

/** Rows of several parts (each in tick order) in one tick order: concatenated when the parts follow each other. */
function byTick(parts: readonly GraphRows[], dim: number): GraphRows {
  const nonEmpty = parts.filter((p) => p.count > 0);
  const ordered = nonEmpty.every(
    (p, i) => i === 0 || nonEmpty[i - 1]!.ticks[nonEmpty[i - 1]!.count - 1]! < p.ticks[0]!,
  );
  const count = nonEmpty.reduce((n, p) => n + p.count, 0);
  const ticks = new BigUint64Array(count);
  const vectors = new Float32Array(count * dim);
  if (ordered) {
    let at = 0;
    for (const p of nonEmpty) {
      ticks.set(p.ticks.subarray(0, p.count), at);
      vectors.set(p.vectors.subarray(0, p.count * dim), at * dim);
      at += p.count;
    }
    return { count, ticks, vectors };
  }
  const all: { tick: Tick; part: GraphRows; n: number }[] = [];
  for (const part of nonEmpty)
    for (let n = 0; n < part.count; n++) all.push({ tick: part.ticks[n]!, part, n });
  all.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
  all.forEach(({ tick, part, n }, i) => {
    ticks[i] = tick;
    vectors.set(part.vectors.subarray(n * dim, (n + 1) * dim), i * dim);
  });
  return { count, ticks, vectors };
}

/**
 * The segments of a graph index after a change of the track's items (spec 0013 §4). An append builds
 * the new vectors' graph as a new segment, merged log-structured (a merge rebuilds one graph over the
 * group's live vectors); a delete lists the removed ticks per segment (rebuilt past a quarter); any other
 * change rebuilds the track's segments from their vectors and the new items.
 */
export async function updateGraph(
  context: IndexContext,
  params: GraphParams,
  segments: readonly SegmentRef[],
  change: IndexChange,
): Promise<SegmentRef[]> {
  const { session, uploader } = context;
  const owner: Owner = {
    timeline: change.track.timeline,
    track: change.track.name,
    params,
    build: session.options.graphBuild,
  };
  if (change.staged.count === 0 && change.removed.size > 0)
    return dropTicks(context, segments, change.removed, async (segment, gone) => {
      const rows = await readGraphRows(session, params, [segment], (t) => gone.has(t));
      return rows.count === 0 ? {} : { ref: (await writeSegments(owner, rows, uploader))[0]! };
    });
  const fresh = stagedRows(owner, change);
  if (change.append) {
    const added = fresh.count > 0 ? await writeSegments(owner, fresh, uploader) : [];
    return appendSegments(segments, added, GRAPH_SEGMENT_NODES, async (group) =>
      writeSegments(owner, await readGraphRows(session, params, group), uploader),
    );
  }
  const replaced = new Set<Tick>([...fresh.ticks, ...change.removed]);
  const old = await readGraphRows(session, params, segments, (t) => replaced.has(t));
  const all = byTick([old, fresh], params.dimension);
  return all.count > 0 ? writeSegments(owner, all, uploader) : [];
}

/** Erasure (spec 0020 §7): one segment rebuilt without the vectors of erased ticks (nor those it dropped). */
export async function eraseGraph(
  context: IndexContext,
  params: GraphParams,
  segment: SegmentRef,
  erased: (tick: Tick) => boolean,
): Promise<{ object?: Uint8Array } | undefined> {
  const index = await readGraphIndex((o) => context.session.store.getObject(o), segment.object, params);
  if (!index.ticks.some((t) => erased(t))) return undefined;
  const rows = await readGraphRows(context.session, params, [segment], erased);
  if (rows.count === 0) return {};
  const [ref] = await writeSegments(
    { timeline: index.timeline, track: index.track, params, build: context.session.options.graphBuild },
    rows,
    context.uploader,
  );
  return { object: ref!.object };
}
