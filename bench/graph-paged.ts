/**
 * The graph index searched paged (spec 0013 §5.2, 0010): product-quantization codes and navigation
 * layers in memory, node pages read by byte range, against the same segment held whole (the resident
 * path, same run). Warm: QPS, p99 and recall@10 with every page the queries need held. Cold: each query
 * from an empty page cache over a store that answers every GET after DREAMDB_BENCH_LATENCY_MS (20 ms, an
 * object store's first-byte latency): p50/p99 per query, round trips and pages, at beam widths 1 (one
 * node per round trip, the naive path), 4 and 8, then with the out-edges held (one round trip a query).
 * Memory per vector of both paths beside hnswlib's layout.
 * Run: npm run bench -- graph-paged   (defaults: 100k x 128; DREAMDB_BENCH_N, DREAMDB_BENCH_PRESET=768,
 * as search-data.ts)
 */
import {
  defaultGraphParams,
  loadGraph,
  openVectorCompressor,
  PagedGraph,
  readGraphIndex,
  VamanaSearcher,
} from '@dreamdb/engine/indexes/graph';
import { MemoryStore, objectKey, Session, SpaceStore } from '@dreamdb/engine/store';
import { groundTruth, K, makeData, recallAt10, searchParams, timeQueries } from './search-data.ts';
import { publishRows } from './search-dreamdb.ts';

const params = { ...searchParams(), n: Number(process.env.DREAMDB_BENCH_N ?? 100_000) };
const latencyMs = Number(process.env.DREAMDB_BENCH_LATENCY_MS ?? 20);
const data = makeData(params);
const truth = await groundTruth(data);
const { n, dim } = data;

const store = new MemoryStore();
const session = new Session(new SpaceStore(store, 'bench'));
let t0 = performance.now();
const main = await publishRows(session, undefined, data, 0, n, 'default');
console.log(
  `publish of ${n} x ${dim} (graph index, PQ codes): ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
const record = main.manifest.tracks.find((t) => t.name === 'emb')!.indexes!['dreamdb.vamana-cosine']!;
if (record.segments.length !== 1) throw new Error(`expected one segment, got ${record.segments.length}`);
const ref = record.segments[0]!;
const graphParams = defaultGraphParams(dim);

// The segment held whole (the resident path, whatever its size) and paged, both from the stored objects.
const whole = new Session(session.store, { graphResidentBytes: Number.POSITIVE_INFINITY });
const resident = (await loadGraph(whole, graphParams, ref)).searcher;
if (!(resident instanceof VamanaSearcher))
  throw new Error('the resident path did not load the segment whole');
const index = await readGraphIndex((o) => session.store.getObject(o), ref.object, graphParams);
const compressor = index.compressed!;
const { books } = openVectorCompressor(await session.store.getObject(compressor.compressor));
const delay = () => new Promise((resolve) => setTimeout(resolve, latencyMs));
let gets = 0;
/** Ranged GETs of the memory store, each answered after the latency (no cache between). */
const read = async (object: Uint8Array, start: number, end: number) => {
  gets++;
  await delay();
  return (await store.get(objectKey('bench', object), { start, end })).body;
};
// Room for every page, so that the warm runs hold all they read.
const paged = new PagedGraph(index, books, compressor.codes, read, Math.ceil(n / index.layout.perPage));

// Memory per vector: what each path holds per node.
let layerNodes = 0;
let layerEdges = 0;
for (const l of index.upper) {
  layerNodes += l.n;
  layerEdges += l.n * l.degree;
}
const m = graphParams.subspaces;
const pagedBytes = (m + 8 + 4 + (layerEdges * 4 + layerNodes * (2 + m + 4)) / n).toFixed(0);
const stride = Math.ceil(dim / 8) * 8;
const residentBytes = (
  4 * stride +
  4 * graphParams.degree +
  2 +
  8 +
  4 +
  (layerEdges * 4 + layerNodes * (2 + 4)) / n
) // the layers score the rows where they lie
  .toFixed(0);
const hnswBytes = (4 * dim + 4 * (2 * 16 + 1) + 8 + (4 * (16 + 1)) / Math.log(16)).toFixed(0);
console.log(
  `memory per vector: paged ${pagedBytes} B (${m}-byte code, tick, visit mark, layers; pages in the store), resident ${residentBytes} B, hnswlib ~${hnswBytes} B (by its layout)`,
);

console.log(`\nwarm (every page held), one thread:`);
console.log(`${'run'.padEnd(20)}${'recall@10'.padStart(10)}${'QPS'.padStart(9)}${'p99 ms'.padStart(9)}`);
const runs: { list: number; paged: number; resident: number; recall: number; p99: number }[] = [];
for (const list of [16, 32, 64, 128]) {
  // Fill the cache first: a pass of the queries.
  for (let q = 0; q < data.queries; q++)
    await paged.search(data.queryVectors.subarray(q * dim, (q + 1) * dim), K, list);
  const results: Uint32Array[] = [];
  const ms: number[] = [];
  const start = performance.now();
  for (let q = 0; q < data.queries; q++) {
    const t = performance.now();
    const hits = await paged.search(data.queryVectors.subarray(q * dim, (q + 1) * dim), K, list);
    ms.push(performance.now() - t);
    results.push(Uint32Array.from(hits.ids));
  }
  const qps = (1000 * data.queries) / (performance.now() - start);
  ms.sort((a, b) => a - b);
  const p99 = ms[Math.ceil(0.99 * ms.length) - 1]!;
  const recall = recallAt10(results, truth);
  const base = await timeQueries(data, (query) => Uint32Array.from(resident.search(query, K, list).ids));
  runs.push({ list, paged: qps, resident: base.qps, recall, p99 });
  console.log(
    `${`paged list ${list}`.padEnd(20)}${recall.toFixed(3).padStart(10)}${qps.toFixed(0).padStart(9)}${p99.toFixed(3).padStart(9)}`,
  );
  console.log(
    `${`resident list ${list}`.padEnd(20)}${recallAt10(base.results, truth).toFixed(3).padStart(10)}${base.qps.toFixed(0).padStart(9)}${base.p99Ms.toFixed(3).padStart(9)}  (paged/resident ${(qps / base.qps).toFixed(2)}x)`,
  );
}

console.log(`\ncold (no page held, every GET ${latencyMs} ms), list 64, one query at a time:`);
const coldQueries = Math.min(data.queries, 100);
/** Each of the first coldQueries queries from an empty page cache: the line of figures for `label`. */
async function coldRun(label: string, beam?: number): Promise<void> {
  const ms: number[] = [];
  let rounds = 0;
  let pages = 0;
  const results: Uint32Array[] = [];
  gets = 0;
  for (let q = 0; q < coldQueries; q++) {
    paged.forget();
    const t = performance.now();
    const query = data.queryVectors.subarray(q * dim, (q + 1) * dim);
    const hits = await paged.search(query, K, 64, undefined, beam);
    ms.push(performance.now() - t);
    rounds += hits.rounds;
    pages += hits.pagesRead;
    results.push(Uint32Array.from(hits.ids));
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!;
  const sub = { ...truth, ids: truth.ids.slice(0, coldQueries * truth.k) };
  console.log(
    `  ${label}: p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms; ${(rounds / coldQueries).toFixed(1)} round trips, ${(pages / coldQueries).toFixed(0)} pages and ${(gets / coldQueries).toFixed(0)} GETs a query; recall@10 ${recallAt10(results, sub).toFixed(3)}`,
  );
}
for (const beam of [1, 4, 8]) await coldRun(`beam ${beam}`, beam);
// The out-edges held (every page read once, whole objects): a query walks codes and edges in memory
// and reads its list's pages in one round to re-rank.
t0 = performance.now();
await paged.holdLinks(async (object) => {
  await delay();
  return (await store.get(objectKey('bench', object))).body;
});
console.log(
  `  out-edges held after reading every page once: ${((performance.now() - t0) / 1000).toFixed(1)} s (${index.pages.length} GETs of whole GraphPage objects), ${4 * graphParams.degree + 2} B more per vector`,
);
{
  await coldRun('out-edges held');
  // Warm with the out-edges held: every page of the lists held.
  for (let q = 0; q < data.queries; q++)
    await paged.search(data.queryVectors.subarray(q * dim, (q + 1) * dim), K, 64);
  const warm = await timeQueries(data, async (query) =>
    Uint32Array.from((await paged.search(query, K, 64)).ids),
  );
  console.log(
    `  out-edges held, warm, list 64: ${warm.qps.toFixed(0)} QPS, p99 ${warm.p99Ms.toFixed(3)} ms, recall@10 ${recallAt10(warm.results, truth).toFixed(3)}`,
  );
}
t0 = performance.now();
gets = 0;
await delay();
// The GraphIndex (and its GraphBody objects when it has them) and the VectorCompressor, each a GET.
const openedIndex = await readGraphIndex(
  async (o) => {
    await delay();
    return (await store.get(objectKey('bench', o))).body;
  },
  ref.object,
  graphParams,
);
await delay();
await store.get(objectKey('bench', compressor.compressor));
const opened = new PagedGraph(openedIndex, books, compressor.codes, read);
gets = 0;
const first = await opened.search(data.queryVectors.subarray(0, dim), K, 64);
console.log(
  `  a new origin's first query: ${(performance.now() - t0).toFixed(0)} ms (GraphIndex with ${openedIndex.body.length} GraphBody objects and VectorCompressor read, then ${first.rounds} round trips of ${gets} GETs, page by page)`,
);
