import { formatModality, parseModality } from '../address/modality.js';
import { hashBytes, hashStream, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { formatAddress, parseAddress } from '../address/uri.js';
import { joinParts } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { fromHex, fromJsonForm, toHex, toJsonForm } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { decodeBucket, encodeBucket } from '../format/bucket.js';
import { openDroppedTicks, sealDroppedTicks } from '../format/dropped-ticks.js';
import { CodeKernel } from '../indexes/graph/code-kernel.js';
import { buildPartitioned, memorySpill } from '../indexes/graph/partitioned.js';
import { buildVamana } from '../indexes/graph/vamana.js';
import { encodePq, pqTable, trainPq } from '../vectors/pq.js';
import { runTokenVectors, type TokenVectorFile } from './token-vectors.js';
import '../indexes/builtin.js';
import { decodeRegistry, encodeRegistry } from '../deletes/registry.js';
import { openTombstoneList, sealTombstoneList } from '../deletes/tombstone-list.js';
import { decodeItemManifest, encodeItemManifest, isItemManifest } from '../format/item-manifest.js';
import { LshHasher } from '../indexes/lsh/hasher.js';
import {
  checkVector,
  hyperplaneSigns,
  LSH_COSINE,
  type LshParams,
  probeKeys,
  tableKeys,
} from '../indexes/lsh/lsh.js';
import { decodeSpatialSegment, encodeSpatialSegment, spatialOrder } from '../indexes/lsh/segment.js';
import { decodeSpatialIndex, encodeSpatialIndex, spatialIndexHash } from '../indexes/lsh/spatial-index.js';
import { decodeItem, encodeItem } from '../model/item.js';
import { decodeManifest, encodeManifest } from '../model/manifest.js';
import { decodeSpace, encodeSpace } from '../model/space.js';
import { decodeTimeline, encodeTimeline } from '../model/timeline.js';
import { decodeTrack, encodeTrack } from '../model/track.js';
import { normalizeEtag } from '../store/etag.js';
import { refKey } from '../store/keys.js';
import { parseRangeHeader } from '../store/range.js';
import {
  formatRfc3339,
  parseRfc3339,
  rfc3339ToTick,
  secondsToTicks,
  ticksToSeconds,
  tickToRfc3339,
} from '../time/clock.js';
import { parseRate, ticksToUnits, unitsToTicks } from '../time/rate.js';
import { tickFromHex, tickToHex, toTick } from '../time/ticks.js';
import { chunkEnds, isBoundary, tickHash } from '../timeindex/chunking.js';
import { entryColumns } from '../timeindex/columns.js';
import { decodePage, encodeLeaf, encodeNode } from '../timeindex/page.js';
import { type DagVectorFile, runDagVectors } from './dag-vectors.js';
import {
  type HybridVectorFile,
  runHybridVectors,
  runTextVectors,
  type TextVectorFile,
} from './text-vectors.js';

/**
 * Runs the conformance vectors of spec/vectors/ (spec 0009 §1) against this engine. Pure: the caller
 * loads the JSON files; the tests and `dreamdb check` share this one runner.
 */

/** One vector as stored in a spec/vectors/*.json file. */
export interface Vector {
  name: string;
  op?: string;
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
  value?: unknown;
  hex?: string;
  error?: string;
  path?: string;
}

/** A vector file: the spec document it belongs to and its vectors. */
export interface VectorFile {
  spec: string;
  title: string;
  vectors: Vector[];
}

/** The outcome of one vector. */
export interface VectorOutcome {
  name: string;
  ok: boolean;
  detail?: string;
}

/** The input of the Vamana build vectors (spec 0013 §7): rows and the build's parameters. */
type VamanaInput = {
  dim: number;
  rows: number[][];
  degree: number;
  buildList: number;
  alpha: number;
  seed: number;
};

type Runner = (vector: Vector) => unknown | Promise<unknown>;

const str = (v: Vector, key: string): string => String(v.input?.[key]);

/** The LSH parameters of a vector's input (the seed in hex). */
const lshParams = (v: Vector): LshParams => ({
  dimension: Number(v.input?.dimension),
  tables: Number(v.input?.tables),
  bits: Number(v.input?.bits),
  probes: Number(v.input?.probes),
  seed: fromHex(str(v, 'seed')),
});

/** Input bytes for the hash op: a hex string or the BLAKE3 test pattern (i % 251). */
function hashInput(v: Vector): Uint8Array {
  if (v.input?.pattern_bytes !== undefined) {
    const n = Number(v.input.pattern_bytes);
    return Uint8Array.from({ length: n }, (_, i) => i % 251);
  }
  return fromHex(str(v, 'hex'));
}

/** Chunks of uneven sizes, so streaming hashing crosses BLAKE3's 1 KiB chunk boundaries at odd places. */
function* unevenChunks(bytes: Uint8Array): Generator<Uint8Array> {
  let at = 0;
  let size = 1;
  while (at < bytes.length) {
    yield bytes.subarray(at, at + size);
    at += size;
    size = (size * 7 + 3) % 4099;
  }
}

const MODEL: Record<string, [(b: Uint8Array) => unknown, (r: never) => Uint8Array]> = {
  space: [decodeSpace, encodeSpace],
  timeline: [decodeTimeline, encodeTimeline],
  track: [decodeTrack, encodeTrack],
  item: [decodeItem, encodeItem],
  manifest: [decodeManifest, encodeManifest],
  spatialIndex: [decodeSpatialIndex, encodeSpatialIndex],
};

const RUNNERS: Record<string, Runner> = {
  'tick-to-hex': (v) => ({ hex: tickToHex(toTick(str(v, 'ticks'))) }),
  'hex-to-tick': (v) => ({ ticks: tickFromHex(str(v, 'hex')).toString() }),
  'units-to-ticks': (v) => ({
    ticks: unitsToTicks(BigInt(str(v, 'units')), parseRate(str(v, 'rate'))).toString(),
  }),
  'ticks-to-units': (v) => ({
    units: ticksToUnits(toTick(str(v, 'ticks')), parseRate(str(v, 'rate'))).toString(),
  }),
  'seconds-to-ticks': (v) => ({ ticks: secondsToTicks(str(v, 'seconds')).toString() }),
  'ticks-to-seconds': (v) => ({ seconds: ticksToSeconds(toTick(str(v, 'ticks'))) }),
  'parse-rfc3339': (v) => ({ unix_ns: parseRfc3339(str(v, 'time')).toString() }),
  'format-rfc3339': (v) => ({ time: formatRfc3339(BigInt(str(v, 'unix_ns'))) }),
  'rfc3339-to-tick': (v) => ({
    ticks: rfc3339ToTick(str(v, 'time'), parseRfc3339(str(v, 'genesis'))).toString(),
  }),
  'tick-to-rfc3339': (v) => ({
    time: tickToRfc3339(toTick(str(v, 'ticks')), parseRfc3339(str(v, 'genesis'))),
  }),
  hash: async (v) => {
    const bytes = hashInput(v);
    const oneShot = multihashToHex(hashBytes(bytes));
    const streamed = multihashToHex(await hashStream(unevenChunks(bytes)));
    if (streamed !== oneShot) throw new Error(`streamed hash ${streamed} differs from one-shot ${oneShot}`);
    return { multihash: oneShot };
  },
  'tick-hash': (v) => {
    const hash = tickHash(BigInt(str(v, 'tick')), Number(v.input?.level));
    return { hash, boundary: isBoundary(BigInt(str(v, 'tick')), Number(v.input?.level)) };
  },
  'chunk-ends': (v) => {
    const first = BigInt(str(v, 'first'));
    const step = BigInt(str(v, 'step'));
    const level = Number(v.input?.level);
    const ticks: bigint[] = [];
    for (let t = first; ticks.length < Number(v.input?.count); t += step)
      if (!v.input?.skipBoundaries || !isBoundary(t, level)) ticks.push(t);
    return { ends: chunkEnds(ticks, level) };
  },
  'encode-bucket': (v) => {
    const items = (v.input!.items as { tick: string; duration: string; bytes: string }[]).map((i) => ({
      tick: BigInt(i.tick),
      duration: BigInt(i.duration),
      bytes: fromHex(i.bytes),
    }));
    const parts = (v.input?.parts as string[] | undefined)?.map((hex) => fromHex(hex));
    const { bytes } = encodeBucket({
      timeline: str(v, 'timeline'),
      track: str(v, 'track'),
      kind: str(v, 'kind') as 'stream' | 'event',
      items,
      ...(v.input?.spatial_index !== undefined && { spatialIndex: fromHex(str(v, 'spatial_index')) }),
      ...(parts && { parts }),
    });
    const decoded = decodeBucket(bytes);
    if (
      decoded.items.some(
        (item, i) =>
          item.tick !== items[i]!.tick ||
          toHex(bytes.subarray(item.start, item.end)) !== toHex(items[i]!.bytes),
      )
    ) {
      throw new Error('the bucket does not decode to its items');
    }
    return { hex: toHex(bytes) };
  },
  'encode-leaf': (v) => {
    const entries = (
      v.input!.entries as { tick: string; duration: string; object: string; start: number; end: number }[]
    ).map((e) => ({
      tick: BigInt(e.tick),
      duration: BigInt(e.duration),
      object: fromHex(e.object),
      start: e.start,
      end: e.end,
    }));
    const bytes = encodeLeaf(str(v, 'track'), entryColumns(entries));
    const page = decodePage(bytes);
    if (page.level !== 0 || (page as unknown as { entries: unknown[] }).entries.length !== entries.length)
      throw new Error('leaf does not decode');
    return { hex: toHex(bytes) };
  },
  'encode-item-manifest': (v) => {
    const parts = (v.input!.parts as { object: string; size: number }[]).map((p) => ({
      object: fromHex(p.object),
      size: p.size,
    }));
    const bytes = encodeItemManifest({ size: Number(v.input?.size), parts });
    if (!isItemManifest(bytes) || decodeItemManifest(bytes).size !== Number(v.input?.size))
      throw new Error('item manifest does not decode');
    return { hex: toHex(bytes) };
  },
  'encode-tombstone-list': (v) => {
    const input = v.input as { space: string; erase: boolean; tombstones: Record<string, unknown>[] };
    const bytes = sealTombstoneList({
      space: input.space,
      erase: input.erase,
      tombstones: input.tombstones.map((t) => ({
        timeline: t.timeline as string,
        count: t.count as number,
        ...(t.track !== undefined && { track: t.track as string }),
        ...(t.from !== undefined && { from: BigInt(t.from as string) }),
        ...(t.to !== undefined && { to: BigInt(t.to as string) }),
        ...(t.root !== undefined && { root: fromHex(t.root as string) }),
      })),
    });
    if (openTombstoneList(bytes).tombstones.length !== input.tombstones.length)
      throw new Error('tombstone list does not decode');
    return { hex: toHex(bytes) };
  },
  'decode-tombstone-list': (v) => {
    const list = openTombstoneList(fromHex(str(v, 'hex')));
    return { tombstones: list.tombstones.length };
  },
  'vamana-build': (v) => {
    const input = v.input as VamanaInput;
    const graph = buildVamana(Float32Array.from(input.rows.flat()), input.dim, input);
    return {
      medoid: graph.medoid,
      neighbors: Array.from({ length: graph.n }, (_, i) =>
        Array.from(graph.neighbors.subarray(i * graph.degree, i * graph.degree + graph.counts[i]!)),
      ),
    };
  },
  'vamana-partitioned': async (v) => {
    const input = v.input as VamanaInput & { shardNodes: number };
    const rows = Float32Array.from(input.rows.flat());
    const graph = await buildPartitioned(
      {
        count: input.rows.length,
        dimension: input.dim,
        rows: async (from, to) => rows.subarray(from * input.dim, to * input.dim),
      },
      input,
      { shardNodes: input.shardNodes, spill: memorySpill() },
    );
    const { neighbors, counts } = await graph.edges(0, graph.n);
    return {
      medoid: graph.medoid,
      shards: graph.shardSizes,
      neighbors: Array.from({ length: graph.n }, (_, i) =>
        Array.from(neighbors.subarray(i * graph.degree, i * graph.degree + counts[i]!)),
      ),
    };
  },
  pq: (v) => {
    const input = v.input as {
      dim: number;
      subspaces: number;
      seed: number;
      trainRows: number;
      iterations: number;
      rows: number[][];
      query: number[];
    };
    const rows = Float32Array.from(input.rows.flat());
    const books = trainPq(rows, input.rows.length, {
      dimension: input.dim,
      subspaces: input.subspaces,
      seed: input.seed,
      trainRows: input.trainRows,
      iterations: input.iterations,
    });
    const codes = encodePq(books, rows, input.rows.length);
    const table = pqTable(books, Float32Array.from(input.query), new Float32Array(input.subspaces * 256));
    // The estimated dots by the kernel (WebAssembly where it runs), as the paged search scores them.
    const kernel = new CodeKernel(books, input.rows.length, codes);
    kernel.setQuery(Float32Array.from(input.query));
    for (let j = 0; j < 20; j++) kernel.ids[j] = j;
    kernel.dots(20);
    return {
      centroids: Array.from(books.centroids),
      codes: Array.from(codes),
      table: Array.from(table),
      dots: Array.from(kernel.out.subarray(0, 20)),
    };
  },
  'encode-dropped-ticks': (v) => {
    const ticks = (v.input!.ticks as string[]).map((t) => BigInt(t));
    const bytes = sealDroppedTicks(ticks);
    if (openDroppedTicks(bytes).length !== new Set(ticks).size)
      throw new Error('dropped ticks do not decode');
    return { hex: toHex(bytes) };
  },
  'decode-dropped-ticks': (v) => ({ ticks: openDroppedTicks(fromHex(str(v, 'hex'))).map(String) }),
  'encode-tombstone-registry': (v) => {
    const input = v.input as {
      space: string;
      deletes: string[];
      erased: { object: string; ranges: [number, number][]; replacement?: string }[];
    };
    const bytes = encodeRegistry(
      input.space,
      input.deletes,
      input.erased.map((e) => ({
        object: fromHex(e.object),
        ranges: e.ranges.map(([start, end]) => ({ start, end })),
        ...(e.replacement !== undefined && { replacement: fromHex(e.replacement) }),
      })),
    );
    if (decodeRegistry(bytes, input.space).erased.size !== input.erased.length)
      throw new Error('registry does not decode');
    return { hex: toHex(bytes) };
  },
  'decode-item-manifest': (v) => {
    const manifest = decodeItemManifest(fromHex(str(v, 'hex')));
    return { size: manifest.size, parts: manifest.parts.length };
  },
  'encode-node': (v) => {
    const children = (
      v.input!.children as { first: string; last: string; page: string; count: number }[]
    ).map((c) => ({
      first: BigInt(c.first),
      last: BigInt(c.last),
      page: fromHex(c.page),
      count: c.count,
    }));
    const bytes = encodeNode(str(v, 'track'), Number(v.input?.level), children);
    if (decodePage(bytes).level !== Number(v.input?.level)) throw new Error('node does not decode');
    return { hex: toHex(bytes) };
  },
  'decode-page': (v) => ({ level: decodePage(fromHex(str(v, 'hex'))).level }),
  'decode-bucket': (v) => {
    const lineage = v.input?.lineage;
    const expect =
      lineage === undefined
        ? undefined
        : { lineage: lineage === null ? undefined : fromHex(String(lineage)) };
    return { items: decodeBucket(fromHex(str(v, 'hex')), 'bucket', expect).items.length };
  },
  'lsh-signs': (v) => {
    const signs = hyperplaneSigns(lshParams(v));
    return { signs: toHex(signs).slice(0, 256), bytes: signs.length };
  },
  'lsh-keys': (v) => {
    const params = lshParams(v);
    const signs = hyperplaneSigns(params);
    const vector = checkVector(((v.input?.vector ?? []) as unknown[]).map(Number), params.dimension);
    const keys = tableKeys(params, signs, vector);
    // The fast path (LshHasher) must give the reference's keys and margins, bit for bit (0004 §4).
    const fast = new Uint32Array(params.tables);
    const margins = new Float32Array(params.tables * params.bits);
    new LshHasher(params).keysInto(vector, 0, fast, 0, 1, margins);
    const bulk = new LshHasher(params).keysOf(vector, 1);
    keys.forEach((k, t) => {
      const same = k.margins.every((m, j) => Object.is(m, margins[t * params.bits + j]));
      if (fast[t] !== k.key || bulk[t] !== k.key || !same)
        throw new Error(`the fast key path differs from the reference in table ${t}`);
    });
    return {
      keys: keys.map((k) => k.key),
      margins: keys.map((k) => [...k.margins]),
      probes: keys.map((k) => probeKeys(k, params.probes)),
    };
  },
  'spatial-segment': (v) => {
    const params = lshParams(v);
    const items = (v.input?.items ?? []) as { tick: string; vector: number[] }[];
    const dimension = params.dimension;
    const count = items.length;
    const vectors = new Float32Array(count * dimension);
    for (const [n, item] of items.entries()) vectors.set(checkVector(item.vector, dimension), n * dimension);
    const ticks = BigUint64Array.from(items, (item) => BigInt(item.tick));
    const sorted = ticks.slice().sort();
    const keys = new LshHasher(params).keysOf(vectors, count);
    const index = { scheme: LSH_COSINE, ...params } as const;
    const lineage = spatialIndexHash(index);
    const ordered = spatialOrder({ count, ticks, keys, vectors }, dimension, params.tables);
    const bytes = joinParts(
      encodeSpatialSegment({
        ...ordered,
        timeline: str(v, 'timeline'),
        track: str(v, 'track'),
        lineage,
        dimension,
        tables: params.tables,
        first: sorted[0]!,
        last: sorted[count - 1]!,
      }),
    );
    const decoded = decodeSpatialSegment(bytes, lineage);
    if (decoded.count !== count) throw new Error('the segment does not decode to its vectors');
    return { lineage: toHex(lineage), hex: toHex(bytes), multihash: toHex(hashBytes(bytes)) };
  },
  'normalize-etag': (v) => ({ etag: normalizeEtag(str(v, 'etag')) }),
  'parse-range': (v) => ({ ...parseRangeHeader(str(v, 'header'), Number(v.input?.size), 'key') }),
  'ref-name': (v) => ({ key: refKey('lab', str(v, 'ref')) }),
  parse: (v) => {
    if (v.input?.hex !== undefined) return { multihash: multihashToHex(multihashFromHex(str(v, 'hex'))) };
    if (v.input?.uri !== undefined) {
      const address = parseAddress(str(v, 'uri'));
      if (formatAddress(address) !== v.input.uri) throw new Error('formatAddress does not give the URI back');
      return { ...address };
    }
    const tag = str(v, 'tag');
    const modality = parseModality(tag);
    if (formatModality(modality) !== tag) throw new Error('formatModality does not give the tag back');
    return {
      segments: modality.segments,
      params: Object.fromEntries(modality.params),
      builtin: modality.builtin,
    };
  },
  cbor: (v) => {
    if (v.hex !== undefined) {
      const bytes = fromHex(v.hex);
      const decoded = decodeCanonical(bytes);
      const again = toHex(encodeCanonical(decoded));
      if (again !== v.hex) throw new Error(`decoded value re-encodes as ${again}`);
      if (v.value !== undefined) {
        const encoded = toHex(encodeCanonical(fromJsonForm(v.value)));
        if (encoded !== v.hex) throw new Error(`value encodes as ${encoded}`);
        return { value: toJsonForm(decoded) };
      }
      return {};
    }
    return encodeCanonical(fromJsonForm(v.value));
  },
};

function runnerFor(v: Vector): Runner {
  if (v.op?.startsWith('decode-') && !RUNNERS[v.op]) {
    const [decode, encode] = MODEL[v.op.slice('decode-'.length)] ?? [];
    if (!decode || !encode) throw new Error(`unknown op ${v.op}`);
    return (vector) => {
      const record = decode(fromHex(vector.hex!));
      const again = toHex(encode(record as never));
      if (again !== vector.hex) throw new Error(`record re-encodes as ${again}`);
      return {};
    };
  }
  const runner = RUNNERS[v.op ?? 'cbor'];
  if (!runner) throw new Error(`unknown op ${v.op}`);
  return runner;
}

/** Structural equality for JSON values, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b, k) &&
        jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/** Run one vector: its output must match, or it must fail with the named error code (and path). */
export async function runVector(vector: Vector): Promise<VectorOutcome> {
  const { name } = vector;
  let result: unknown;
  try {
    result = await runnerFor(vector)(vector);
  } catch (error) {
    if (vector.error === undefined)
      return { name, ok: false, detail: `unexpected error: ${(error as Error).message}` };
    if (!(error instanceof EngineError) || error.code !== vector.error) {
      return { name, ok: false, detail: `expected ${vector.error}, got ${(error as Error).message}` };
    }
    if (vector.path !== undefined && !error.message.includes(vector.path)) {
      return { name, ok: false, detail: `error does not name ${vector.path}: ${error.message}` };
    }
    return { name, ok: true };
  }
  if (vector.error !== undefined)
    return { name, ok: false, detail: `expected ${vector.error}, but it was accepted` };
  const expected =
    vector.output ?? (vector.value !== undefined && vector.op === undefined ? { value: vector.value } : {});
  if (!jsonEqual(JSON.parse(JSON.stringify(result)), expected)) {
    return { name, ok: false, detail: `got ${JSON.stringify(result)}, expected ${JSON.stringify(expected)}` };
  }
  return { name, ok: true };
}

/** Run every vector of a file, in order. */
export async function runVectorFile(file: VectorFile): Promise<VectorOutcome[]> {
  const outcomes: VectorOutcome[] = [];
  for (const vector of file.vectors) outcomes.push(await runVector(vector));
  return outcomes;
}

/**
 * Run a file of spec/vectors by where it lives (`dag/dag.json`, `text/text.json`, `text/hybrid.json`, `access/tokens.json`, or a
 * top-level file of ops); undefined for a folder the engine does not check (serving/ is the origin's).
 */
export async function runVectorsAt(path: string, file: unknown): Promise<VectorOutcome[] | undefined> {
  if (path === 'dag/dag.json') return runDagVectors(file as DagVectorFile);
  if (path === 'text/text.json') return runTextVectors(file as TextVectorFile);
  if (path === 'text/hybrid.json') return runHybridVectors(file as HybridVectorFile);
  if (path === 'access/tokens.json') return runTokenVectors(file as TokenVectorFile);
  if (!path.includes('/')) return runVectorFile(file as VectorFile);
  return undefined;
}
