import { Tag } from 'cbor-x';
import { equalBytes, hashBytes, hashParts, type Multihash, multihashToHex } from '../../address/multihash.js';
import { TAGS, tagTick } from '../../cbor/tags.js';
import { EngineError } from '../../errors.js';
import { openObject, PREAMBLE_BYTES, sealObjectParts } from '../../format/envelope.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import type { Tick } from '../../time/ticks.js';
import type { GraphParams } from './params.js';
import { upperLayers, type VamanaGraph } from './vamana.js';

/**
 * A graph segment as stored (spec 0013 §3): one GraphIndex object (parameters, entry point, the tick of
 * each node, the hash of each page, the GraphPage objects) and GraphPage objects holding the node
 * records in fixed-size pages, DiskANN's layout: a node's full-precision vector and its out-neighbours
 * sit in one page, so one byte-range GET fetches what a search step needs, checked by the page's hash.
 */

/** The size pages are made of: records never straddle a page, and a page is a multiple of this. */
export const SECTOR_BYTES = 4096;
/** Bytes of a GraphPage object's pages at most: well under the object limit of 100 MiB (0007 §6.4). */
export const PAGE_OBJECT_BYTES = 64 << 20;
/** Bytes of a page hash: the first 16 of its BLAKE3-256. */
export const PAGE_HASH_BYTES = 16;
/**
 * A GraphIndex whose payload is longer moves it to GraphBody objects: stores refuse objects over 100 MiB
 * (0007 §6.4), and a segment of 1.4M nodes with 64-byte codes has a payload that large.
 */
export const GRAPH_INDEX_INLINE_BYTES = 64 << 20;
/** GraphBody objects a reader fetches at once. */
const BODY_READS = 4;
/** Payload bytes of a GraphBody object (the last holds the rest). */
export const GRAPH_BODY_BYTES = 64 << 20;
/** A node slot without a neighbour. */
const NO_NODE = 0xffffffff;

/** The shape of a segment's pages: record and page sizes, records per page, pages per GraphPage object. */
export interface PageLayout {
  readonly recordBytes: number;
  readonly pageBytes: number;
  readonly perPage: number;
  /** floor(PAGE_OBJECT_BYTES / pageBytes): 16,384 at one sector a page. */
  readonly perObject: number;
}

/** Node record: dimension f32, then a u32 count, then `degree` u32 neighbour slots (unused: 0xffffffff). */
export function pageLayout(dimension: number, degree: number): PageLayout {
  const recordBytes = 4 * dimension + 4 + 4 * degree;
  const pageBytes = Math.ceil(recordBytes / SECTOR_BYTES) * SECTOR_BYTES;
  return {
    recordBytes,
    pageBytes,
    perPage: Math.floor(pageBytes / recordBytes),
    perObject: Math.floor(PAGE_OBJECT_BYTES / pageBytes),
  };
}

/** A GraphIndex as decoded: who, under which parameters, the entry point, ticks and pages. */
export interface GraphIndexObject {
  readonly timeline: string;
  readonly track: string;
  readonly params: Omit<GraphParams, 'searchList'>;
  readonly count: number;
  readonly first: Tick;
  readonly last: Tick;
  readonly medoid: number;
  readonly layout: PageLayout;
  /** The GraphPage objects, in node order; object j holds pages [j·layout.perObject, …). */
  readonly pages: readonly Multihash[];
  /** The tick of each node, ascending: node ids are tick order, so a time window is a range of ids. */
  readonly ticks: BigUint64Array;
  /** PAGE_HASH_BYTES per page. */
  readonly pageHashes: Uint8Array;
  /** The navigation layers (spec 0013 §3), lowest first: each a graph over every UPPER_EVERY-th node below. */
  readonly upper: readonly UpperLayer[];
  /** The GraphBody objects its payload lies in, when too long to be inline (none otherwise). */
  readonly body: readonly Multihash[];
  /** Where each GraphPage object's payload starts: a page's byte range is known without reading the object. */
  readonly pageOffsets: readonly number[];
  /** The VectorCompressor whose codes the segment carries (spec 0010), and the codes: M bytes a node. */
  readonly compressed?: {
    readonly compressor: Multihash;
    readonly subspaces: number;
    readonly codes: Uint8Array;
  };
}

/** One navigation layer as stored: its node count, degree, entry point and out-edges (degree slots a node). */
export interface UpperLayer {
  readonly n: number;
  readonly degree: number;
  readonly medoid: number;
  readonly neighbors: Int32Array;
  readonly counts: Uint16Array;
}

/** The navigation layers of a graph, lowest first. */
function layersOf(graph: { readonly upper?: VamanaGraph }): UpperLayer[] {
  const out: UpperLayer[] = [];
  for (let g = graph.upper; g; g = g.upper) out.push(g);
  return out;
}

/** A layer's out-edges as u32 LE, `degree` slots a node, unused 0xffffffff. */
function encodeLayer(layer: UpperLayer): Uint8Array {
  const out = new Uint32Array(layer.n * layer.degree).fill(NO_NODE);
  for (let i = 0; i < layer.n; i++)
    for (let k = 0; k < layer.counts[i]!; k++)
      out[i * layer.degree + k] = layer.neighbors[i * layer.degree + k]!;
  return littleEndian(out);
}

/** The graph of stored navigation layers (lowest first), chained as VamanaGraph.upper. */
export function upperGraph(layers: readonly UpperLayer[], dim: number): VamanaGraph | undefined {
  let upper: VamanaGraph | undefined;
  for (let j = layers.length - 1; j >= 0; j--) upper = { ...layers[j]!, dim, ...(upper && { upper }) };
  return upper;
}

const littleEndian = (a: BigUint64Array | Uint32Array | Float32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** An object as sealed parts and its hash. */
export interface EncodedObject {
  readonly parts: Uint8Array[];
  readonly hash: Multihash;
}

/**
 * A built graph as the encoder reads it: its entry point and navigation layers, and its node records by
 * range, so that a graph built over partitions is written without holding its out-edges.
 */
export interface GraphRecords {
  readonly n: number;
  readonly medoid: number;
  readonly upper?: VamanaGraph;
  /** The vectors (as written) and out-edges (`degree` slots a node, `counts` used) of nodes [from, to). */
  nodes(
    from: number,
    to: number,
  ): Promise<{ vectors: Float32Array; neighbors: Int32Array; counts: Uint16Array }>;
}

/** The records of a graph held whole over `vectors` (count × dimension, node order). */
export function heldRecords(graph: VamanaGraph, vectors: Float32Array): GraphRecords {
  const { dim, degree } = graph;
  return {
    n: graph.n,
    medoid: graph.medoid,
    ...(graph.upper && { upper: graph.upper }),
    async nodes(from, to) {
      return {
        vectors: vectors.subarray(from * dim, to * dim),
        neighbors: graph.neighbors.subarray(from * degree, to * degree),
        counts: graph.counts.subarray(from, to),
      };
    },
  };
}

/**
 * Encode a built graph as GraphPage objects, each handed to `put` as soon as it is made (one object's
 * nodes are held at a time), and return its GraphIndex (its payload in GraphBody objects, also handed to
 * `put`, when longer than `sizes.inline`). Node order = tick order; the same inputs give
 * the same bytes.
 */
export async function encodeGraphSegment(
  segment: {
    timeline: string;
    track: string;
    params: GraphParams;
    ticks: BigUint64Array;
    graph: GraphRecords;
    /** The codes of the nodes (M bytes each) and the VectorCompressor they come from, for segments that have them. */
    compressed?: { compressor: Multihash; codes: Uint8Array };
  },
  put: (page: EncodedObject) => Promise<void>,
  sizes = { inline: GRAPH_INDEX_INLINE_BYTES, body: GRAPH_BODY_BYTES },
): Promise<EncodedObject> {
  const { params, ticks, graph, compressed } = segment;
  const { dimension, degree } = params;
  const count = graph.n;
  if (count < 1) throw new EngineError('E_FIELD', `graph segment of ${segment.track}: no vectors`);
  for (let i = 1; i < count; i++)
    if (!(ticks[i - 1]! < ticks[i]!))
      throw new EngineError(
        'E_FIELD',
        `graph segment of ${segment.track}: ticks are not ascending at node ${i}`,
      );
  const layout = pageLayout(dimension, degree);
  const pageCount = Math.ceil(count / layout.perPage);
  const pageHashes = new Uint8Array(pageCount * PAGE_HASH_BYTES);
  const pages: { hash: Multihash; payloadStart: number }[] = [];
  for (let from = 0; from < pageCount; from += layout.perObject) {
    const to = Math.min(pageCount, from + layout.perObject);
    const body = new Uint8Array((to - from) * layout.pageBytes);
    const view = new DataView(body.buffer);
    const first = from * layout.perPage;
    const nodes = await graph.nodes(first, Math.min(count, to * layout.perPage));
    for (let p = from; p < to; p++) {
      const pageAt = (p - from) * layout.pageBytes;
      for (let slot = 0; slot < layout.perPage; slot++) {
        const node = p * layout.perPage + slot;
        if (node >= count) break;
        const at = pageAt + slot * layout.recordBytes;
        const i = node - first;
        body.set(littleEndian(nodes.vectors.subarray(i * dimension, (i + 1) * dimension)), at);
        const c = nodes.counts[i]!;
        view.setUint32(at + 4 * dimension, c, true);
        for (let k = 0; k < degree; k++)
          view.setUint32(
            at + 4 * dimension + 4 + 4 * k,
            k < c ? nodes.neighbors[i * degree + k]! : NO_NODE,
            true,
          );
      }
      pageHashes.set(
        hashBytes(body.subarray(pageAt, pageAt + layout.pageBytes)).subarray(2, 2 + PAGE_HASH_BYTES),
        p * PAGE_HASH_BYTES,
      );
    }
    const parts = sealObjectParts(
      'graphPage',
      { v: 0, dimension, degree, page_bytes: layout.pageBytes, first_page: from, pages: to - from },
      [body],
    );
    const hash = await hashParts(parts);
    await put({ parts, hash });
    pages.push({ hash, payloadStart: parts[0]!.length });
  }
  const header = {
    v: 0,
    timeline: segment.timeline,
    track: segment.track,
    dimension,
    degree,
    build_list: params.buildList,
    alpha_percent: params.alphaPercent,
    seed: params.seed,
    subspaces: params.subspaces,
    count,
    first: tagTick(ticks[0]!),
    last: tagTick(ticks[count - 1]!),
    medoid: graph.medoid,
    page_bytes: layout.pageBytes,
    pages: pages.map((p) => new Tag(p.hash, TAGS.multihash)),
    page_offsets: pages.map((p) => p.payloadStart),
    upper_medoids: layersOf(graph).map((l) => l.medoid),
    ...(compressed && { compressor: new Tag(compressed.compressor, TAGS.multihash) }),
  };
  if (compressed && compressed.codes.length !== count * params.subspaces)
    throw new EngineError(
      'E_FIELD',
      `graph segment of ${segment.track}: ${compressed.codes.length} code bytes for ${count} nodes`,
    );
  const payload = [
    littleEndian(ticks.subarray(0, count)),
    pageHashes,
    ...layersOf(graph).map(encodeLayer),
    ...(compressed ? [compressed.codes] : []),
  ];
  const size = payload.reduce((sum, p) => sum + p.length, 0);
  if (size <= sizes.inline) {
    const parts = sealObjectParts('graphIndex', header, payload);
    return { parts, hash: await hashParts(parts) };
  }
  const body: Multihash[] = [];
  for (const chunk of chunksOf(payload, sizes.body)) {
    const parts = sealObjectParts('graphBody', { v: 0, part: body.length }, [chunk]);
    const hash = await hashParts(parts);
    await put({ parts, hash });
    body.push(hash);
  }
  const parts = sealObjectParts(
    'graphIndex',
    { ...header, body: body.map((h) => new Tag(h, TAGS.multihash)) },
    [],
  );
  return { parts, hash: await hashParts(parts) };
}

/** The bytes of `parts`, in order, cut into chunks of `size` (the last shorter). */
function* chunksOf(parts: readonly Uint8Array[], size: number): Generator<Uint8Array> {
  let chunk = new Uint8Array(size);
  let at = 0;
  for (const part of parts)
    for (let from = 0; from < part.length; ) {
      const n = Math.min(size - at, part.length - from);
      chunk.set(part.subarray(from, from + n), at);
      at += n;
      from += n;
      if (at === size) {
        yield chunk;
        chunk = new Uint8Array(size);
        at = 0;
      }
    }
  if (at > 0) yield chunk.subarray(0, at);
}

/** The GraphBody objects a GraphIndex's bytes name (none when its payload is inline). */
export function graphBodyObjects(bytes: Uint8Array, what = 'graph index'): Multihash[] {
  const { header } = openObject(bytes, 'graphIndex', what);
  const r = new FieldReader(header, what, INDEX_FIELDS);
  return r.has('body') ? r.multihashes('body') : [];
}

/**
 * Every object a GraphIndex names, from its header alone (its GraphBody, GraphPage and VectorCompressor
 * objects): what collect keeps and fsck looks for, without reading a body of hundreds of MiB.
 */
export function graphIndexChildren(bytes: Uint8Array, what = 'graph index'): Multihash[] {
  const { header } = openObject(bytes, 'graphIndex', what);
  const r = new FieldReader(header, what, INDEX_FIELDS);
  return [
    ...(r.has('body') ? r.multihashes('body') : []),
    ...r.multihashes('pages'),
    ...(r.has('compressor') ? r.multihashesOf([r.raw('compressor')], 'compressor') : []),
  ];
}

/**
 * Read and decode a GraphIndex and, when its payload lies in GraphBody objects, those (in parallel),
 * each checked by its address and part number.
 */
export async function readGraphIndex(
  get: (object: Multihash) => Promise<Uint8Array>,
  object: Multihash,
  params: GraphParams,
  what = `graph index ${multihashToHex(object)}`,
): Promise<GraphIndexObject> {
  const bytes = await get(object);
  const listed = graphBodyObjects(bytes, what);
  if (listed.length === 0) return decodeGraphIndex(bytes, params, what);
  // Parts are fetched a few at a time and copied into one buffer in order as they come: the payload is
  // held once (with at most BODY_READS parts in flight), not as parts and their join.
  const part = async (j: number) => {
    const hash = listed[j]!;
    const name = `${what} body ${j} (${multihashToHex(hash)})`;
    const object = await get(hash);
    const opened = openObject(object, 'graphBody', name);
    const r = new FieldReader(opened.header, name, ['v', 'part'] as const);
    if (r.uint('v') !== 0) fieldError(r.at('v'), `version ${String(r.raw('v'))} is not 0`);
    if (r.uint('part') !== j) fieldError(r.at('part'), `part ${r.uint('part')} listed at ${j}`);
    return object.subarray(opened.payloadStart);
  };
  const inFlight = new Map<number, Promise<Uint8Array>>();
  for (let j = 0; j < Math.min(BODY_READS, listed.length); j++) inFlight.set(j, part(j));
  let body = new Uint8Array(0);
  let size = 0;
  try {
    for (let j = 0; j < listed.length; j++) {
      const chunk = await inFlight.get(j)!;
      inFlight.delete(j);
      if (j + BODY_READS < listed.length) inFlight.set(j + BODY_READS, part(j + BODY_READS));
      if (size + chunk.length > body.length) {
        const grown = new Uint8Array(Math.max(size + chunk.length, chunk.length * listed.length));
        grown.set(body.subarray(0, size));
        body = grown;
      }
      body.set(chunk, size);
      size += chunk.length;
    }
  } finally {
    for (const pending of inFlight.values()) pending.catch(() => {});
  }
  body = body.subarray(0, size);
  return decodeGraphIndex(bytes, params, what, body);
}

const INDEX_FIELDS = [
  'v',
  'timeline',
  'track',
  'dimension',
  'degree',
  'build_list',
  'alpha_percent',
  'seed',
  'subspaces',
  'count',
  'first',
  'last',
  'medoid',
  'page_bytes',
  'pages',
  'page_offsets',
  'upper_medoids',
  'compressor',
  'body',
] as const;

/**
 * Decode a GraphIndex, refusing one built under other parameters than `params` (its graph would answer
 * for another build: E_LINEAGE) and any inconsistency of sizes, ticks or entry point (E_FIELD).
 */
export function decodeGraphIndex(
  indexBytes: Uint8Array,
  params: GraphParams,
  what = 'graph index',
  /** The payload of its GraphBody objects, joined, when it lists them (readGraphIndex reads them). */
  body?: Uint8Array,
): GraphIndexObject {
  const opened = openObject(indexBytes, 'graphIndex', what);
  const r = new FieldReader(opened.header, what, INDEX_FIELDS);
  const listed = r.has('body') ? r.multihashes('body') : [];
  if (listed.length > 0 !== (body !== undefined))
    fieldError(
      r.at('body'),
      body
        ? 'lists no GraphBody objects, yet a body was given'
        : `lists ${listed.length} GraphBody objects: read them first (readGraphIndex)`,
    );
  if (listed.length > 0 && indexBytes.length > opened.payloadStart)
    fieldError(what, 'has both a payload and GraphBody objects');
  const bytes = body ?? indexBytes;
  const payloadStart = body ? 0 : opened.payloadStart;
  if (r.uint('v') !== 0) fieldError(r.at('v'), `version ${String(r.raw('v'))} is not 0`);
  const built = {
    dimension: r.uint('dimension'),
    degree: r.uint('degree'),
    buildList: r.uint('build_list'),
    alphaPercent: r.uint('alpha_percent'),
    seed: r.uint('seed'),
    subspaces: r.uint('subspaces'),
  };
  for (const key of Object.keys(built) as (keyof typeof built)[])
    if (built[key] !== params[key])
      throw new EngineError(
        'E_LINEAGE',
        `${what} was built with ${key} ${built[key]}, the track's index has ${params[key]}: its graph answers for another build`,
      );
  const count = r.uint('count');
  const first = r.tick('first');
  const last = r.tick('last');
  const medoid = r.uint('medoid');
  const layout = pageLayout(built.dimension, built.degree);
  if (r.uint('page_bytes') !== layout.pageBytes)
    fieldError(r.at('page_bytes'), `${r.uint('page_bytes')} is not the ${layout.pageBytes} the layout gives`);
  const pageCount = Math.ceil(count / layout.perPage);
  const pages = r.multihashes('pages');
  if (count < 1 || medoid >= count) fieldError(what, `count ${count} and medoid ${medoid} do not fit`);
  if (pages.length !== Math.ceil(pageCount / layout.perObject))
    fieldError(r.at('pages'), `${pages.length} objects for ${pageCount} pages`);
  // The layers a graph of `count` nodes has (spec 0013 §3), with their sizes and degrees.
  const shapes = upperLayers(count, {
    degree: built.degree,
    buildList: built.buildList,
    alpha: 1,
    seed: 0,
  });
  const medoids = r.array('upper_medoids');
  if (
    medoids.length !== shapes.length ||
    !medoids.every((m, j) => Number.isInteger(m) && (m as number) < shapes[j]!.n)
  )
    fieldError(
      r.at('upper_medoids'),
      `${medoids.length} entry points do not fit the ${shapes.length} layers ${count} nodes have`,
    );
  const offsets = r.array('page_offsets');
  if (
    offsets.length !== pages.length ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= PREAMBLE_BYTES)
  )
    fieldError(r.at('page_offsets'), `${offsets.length} payload offsets for ${pages.length} page objects`);
  const compressor = r.has('compressor')
    ? r.multihashesOf([r.raw('compressor')], 'compressor')[0]!
    : undefined;
  const layerBytes = shapes.reduce((sum, l) => sum + 4 * l.n * l.degree, 0);
  const codeBytes = compressor ? count * params.subspaces : 0;
  const expected = 8 * count + PAGE_HASH_BYTES * pageCount + layerBytes + codeBytes;
  if (bytes.length - payloadStart !== expected)
    fieldError(what, `payload of ${bytes.length - payloadStart} bytes; ${count} nodes need ${expected}`);
  const ticks = new BigUint64Array(count);
  littleEndian(ticks).set(bytes.subarray(payloadStart, payloadStart + 8 * count));
  const hashesEnd = payloadStart + 8 * count + PAGE_HASH_BYTES * pageCount;
  // A body given is this decoder's own: views of it, not copies (an inline payload is copied out).
  const take = (from: number, to: number) => (body ? bytes.subarray(from, to) : bytes.slice(from, to));
  const pageHashes = take(payloadStart + 8 * count, hashesEnd);
  let at = hashesEnd;
  const upper = shapes.map(({ n, degree }, j) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * n * degree);
    at += 4 * n * degree;
    const neighbors = new Int32Array(n * degree).fill(-1);
    const counts = new Uint16Array(n);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < degree; k++) {
        const nb = view.getUint32(4 * (i * degree + k), true);
        if (nb === NO_NODE) break;
        if (nb >= n) fieldError(what, `upper layer ${j + 1}: node ${i} links to ${nb}, outside the layer`);
        neighbors[i * degree + k] = nb;
        counts[i] = k + 1;
      }
    return { n, degree, medoid: medoids[j] as number, neighbors, counts };
  });
  const codes = compressor ? take(at, at + codeBytes) : undefined;
  for (let n = 0; n < count; n++)
    if ((n > 0 && ticks[n - 1]! >= ticks[n]!) || ticks[n]! < first || ticks[n]! > last)
      fieldError(what, `tick ${ticks[n]} of node ${n} is out of order or outside [first, last]`);
  return {
    timeline: r.name('timeline'),
    track: r.name('track'),
    params: built,
    count,
    first,
    last,
    medoid,
    layout,
    pages,
    ticks,
    pageHashes,
    upper,
    pageOffsets: offsets as number[],
    body: listed,
    ...(compressor && { compressed: { compressor, subspaces: params.subspaces, codes: codes! } }),
  };
}

/** Where node `node`'s page lies: the GraphPage object, and the page's byte offset in its payload. */
export function pageOf(
  index: GraphIndexObject,
  node: number,
): { object: number; page: number; offset: number } {
  const page = Math.floor(node / index.layout.perPage);
  const object = Math.floor(page / index.layout.perObject);
  return { object, page, offset: (page - object * index.layout.perObject) * index.layout.pageBytes };
}

/** Check one page's bytes against the index's hash of it (a range read is not covered by the object's hash). */
export function checkPage(index: GraphIndexObject, page: number, bytes: Uint8Array, what: string): void {
  const want = index.pageHashes.subarray(page * PAGE_HASH_BYTES, (page + 1) * PAGE_HASH_BYTES);
  if (
    bytes.length !== index.layout.pageBytes ||
    !equalBytes(hashBytes(bytes).subarray(2, 2 + PAGE_HASH_BYTES), want)
  )
    throw new EngineError(
      'E_HASH_MISMATCH',
      `${what}: page ${page} does not match its hash in the graph index`,
    );
}

/**
 * Read the records of one page (already checked) into a graph and rows: each node's vector into
 * `setRow`, its neighbours into `neighbors`/`counts` (degree slots a node). Refuses a count over the
 * degree, a neighbour outside the segment and a non-finite component.
 */
export function readPage(
  index: GraphIndexObject,
  page: number,
  bytes: Uint8Array,
  into: { neighbors: Int32Array; counts: Uint16Array; setRow: (node: number, row: Float32Array) => void },
  what: string,
): void {
  const { dimension, degree } = index.params;
  const { perPage, recordBytes } = index.layout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const row = new Float32Array(dimension);
  for (let slot = 0; slot < perPage; slot++) {
    const node = page * perPage + slot;
    if (node >= index.count) break;
    const at = slot * recordBytes;
    for (let i = 0; i < dimension; i++) {
      const x = view.getFloat32(at + 4 * i, true);
      if (!Number.isFinite(x)) fieldError(what, `node ${node} has a non-finite component`);
      row[i] = x;
    }
    into.setRow(node, row);
    const c = view.getUint32(at + 4 * dimension, true);
    if (c > degree) fieldError(what, `node ${node} has ${c} neighbours, over the degree ${degree}`);
    into.counts[node] = c;
    for (let k = 0; k < c; k++) {
      const nb = view.getUint32(at + 4 * dimension + 4 + 4 * k, true);
      if (nb >= index.count) fieldError(what, `node ${node} links to ${nb}, outside the segment`);
      into.neighbors[node * degree + k] = nb;
    }
  }
}

/** Open a GraphPage object: its payload, checked against the index (which pages it must hold). */
export function openGraphPages(
  bytes: Uint8Array,
  index: GraphIndexObject,
  object: number,
  what: string,
): Uint8Array {
  const { header, payloadStart } = openObject(bytes, 'graphPage', what);
  const r = new FieldReader(header, what, ['v', 'dimension', 'degree', 'page_bytes', 'first_page', 'pages']);
  const pageCount = Math.ceil(index.count / index.layout.perPage);
  const firstPage = object * index.layout.perObject;
  const pages = Math.min(index.layout.perObject, pageCount - firstPage);
  if (
    r.uint('v') !== 0 ||
    r.uint('dimension') !== index.params.dimension ||
    r.uint('degree') !== index.params.degree ||
    r.uint('page_bytes') !== index.layout.pageBytes ||
    r.uint('first_page') !== firstPage ||
    r.uint('pages') !== pages
  )
    fieldError(
      what,
      `header does not describe pages ${firstPage}..${firstPage + pages - 1} of the graph index`,
    );
  if (bytes.length - payloadStart !== pages * index.layout.pageBytes)
    fieldError(what, `payload of ${bytes.length - payloadStart} bytes, not ${pages} pages`);
  return bytes.subarray(payloadStart);
}

/**
 * Every page of a segment in node order: each GraphPage object fetched with `fetch` (which checks it by
 * its address), opened against the index, and each of its pages handed to `visit` with its number.
 */
export async function forEachPage(
  index: GraphIndexObject,
  fetch: (object: Multihash) => Promise<Uint8Array>,
  visit: (page: number, bytes: Uint8Array, what: string) => void,
  stop?: () => boolean,
): Promise<void> {
  const { pageBytes } = index.layout;
  for (const [j, object] of index.pages.entries()) {
    if (stop?.()) return;
    const what = `graph page ${multihashToHex(object)}`;
    const body = openGraphPages(await fetch(object), index, j, what);
    for (let at = 0; at < body.length; at += pageBytes)
      visit(j * index.layout.perObject + at / pageBytes, body.subarray(at, at + pageBytes), what);
  }
}
