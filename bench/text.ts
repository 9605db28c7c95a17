/**
 * Text index: build a segment of 1M caption-like items (a Zipfian vocabulary of 4000 words, 5-15 words
 * each), then BM25 top-10 for 200 single-term, multi-term and phrase queries, warm, beside a naive
 * baseline that scans every document's analyzed terms and computes the same BM25.
 * Run: npm run bench -- text   (DREAMDB_BENCH_ITEMS=200000 for a quicker run)
 */
import {
  buildTextSegment,
  fetchFromBuilt,
  bm25Idf as idf,
  parseTextQuery as parseQuery,
  STOP_WORDS,
  searchText,
  type TextDoc,
  TextSegmentReader,
  bm25TermWeight as termWeight,
  tokenizeFields,
} from '@dreamdb/engine/indexes/text';
import { postingBlocks } from '../engine/src/indexes/text/blocks.ts';
import { random } from '../engine/src/testing/random.ts';
import { printTable, type Row, timed } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 1_000_000);
const VOCABULARY = 4000;
const QUERIES = 200;
const BASELINE_QUERIES = 12;

// mulberry32: the same corpus every run.
const next = random(15);
// English-looking words: common words first (the head of the Zipf curve), then made-up ones.
const COMMON = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up ' +
  'other about out many then them these so some her would make like him into time has look two more write go ' +
  'see number no way could people my than first water been call who oil its now find long down day did get ' +
  'come made may part camera lens calibration drift red car parking speaker meeting video audio signal sensor'
).split(' ');
const SYLLABLES =
  'ba be bi bo ca co de di fa fe ga go ha hi ka ki la le li lo ma me mi mo na ne no pa pe po ra re ri ro sa se si so ta te ti to va ve vi wa we ya zo'.split(
    ' ',
  );
const ENDINGS = ['', 's', 'ed', 'ing', 'er', 'tion', 'ly'];
const words: string[] = [...new Set(COMMON)];
while (words.length < VOCABULARY) {
  const n = 2 + Math.floor(next() * 2);
  const stem = Array.from({ length: n }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join('');
  words.push(stem + ENDINGS[Math.floor(next() * ENDINGS.length)]!);
}
// Zipf (s = 1): the cumulative weights, then a binary search per draw.
const cumulative = new Float64Array(words.length);
let sum = 0;
for (let i = 0; i < words.length; i++) cumulative[i] = sum += 1 / (i + 1);
function zipf(): string {
  const x = next() * sum;
  let lo = 0;
  let hi = words.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return words[lo]!;
}

const docs: TextDoc[] = Array.from({ length: N }, (_, i) => ({
  track: 'captions',
  tick: BigInt(i) * 2_000_000_000n,
  duration: 2_000_000_000n,
  fields: [{ name: 'text', text: Array.from({ length: 5 + Math.floor(next() * 11) }, zipf).join(' ') }],
}));

console.log(`building a segment of ${N} items…`);
let built!: ReturnType<typeof buildTextSegment>;
const buildSeconds = await timed(() => {
  built = buildTextSegment(docs);
});
const reader = await TextSegmentReader.open(built.directory.hash, fetchFromBuilt([built]));

// Queries: single terms (from frequent to rare), pairs and triples, and phrases cut from documents.
const queries: { kind: string; text: string }[] = [];
const rank = () => Math.floor(20 + next() ** 2 * 2000);
const term = (): string => {
  const word = words[rank()]!;
  return STOP_WORDS.has(word) ? term() : word;
};
for (let i = 0; i < QUERIES; i++) {
  const kind = ['single', 'multi', 'phrase'][i % 3]!;
  if (kind === 'single') queries.push({ kind, text: term() });
  else if (kind === 'multi')
    queries.push({ kind, text: Array.from({ length: 2 + (i % 2) }, term).join(' ') });
  else {
    for (;;) {
      const text = docs[Math.floor(next() * N)]!.fields[0]!.text.split(' ');
      const at = Math.floor(next() * (text.length - 1));
      const phrase = text.slice(at, at + 2 + (i % 2));
      if (phrase.filter((w) => !STOP_WORDS.has(w)).length < 2) continue;
      queries.push({ kind, text: `"${phrase.join(' ')}"` });
      break;
    }
  }
}

const percentile = (times: number[], p: number) =>
  [...times].sort((a, b) => a - b)[Math.floor((times.length - 1) * p)]!;
// Warm: every page fetched and checked once, every list's blocks (the pruning bounds) computed once.
for (const q of queries) {
  await searchText([reader], q.text, { k: 10 });
  await searchText([reader], q.text, { k: 10, exhaustive: true });
}
// Each query pruned (the default) and exhaustive (every match scored: the path before pruning), in
// alternating order; the two must give the same hits and scores.
const times = new Map<string, number[]>();
let hitsFound = 0;
let mismatches = 0;
for (const [i, q] of queries.entries()) {
  let pruned: Awaited<ReturnType<typeof searchText>> = [];
  let full: typeof pruned = [];
  const runs = [
    async () => {
      const seconds = await timed(async () => {
        pruned = await searchText([reader], q.text, { k: 10 });
      });
      for (const key of [q.kind, 'all']) times.set(key, [...(times.get(key) ?? []), seconds * 1000]);
    },
    async () => {
      const seconds = await timed(async () => {
        full = await searchText([reader], q.text, { k: 10, exhaustive: true });
      });
      for (const key of [`${q.kind} exhaustive`, 'all exhaustive'])
        times.set(key, [...(times.get(key) ?? []), seconds * 1000]);
    },
  ];
  if (i % 2 === 1) runs.reverse();
  for (const run of runs) await run();
  hitsFound += pruned.length > 0 ? 1 : 0;
  if (
    JSON.stringify(pruned, (_, v) => (typeof v === 'bigint' ? `${v}` : v)) !==
    JSON.stringify(full, (_, v) => (typeof v === 'bigint' ? `${v}` : v))
  )
    mismatches++;
}

// The baseline: every document analyzed once (not timed), then per query a scan computing the same BM25.
console.log('analyzing every document for the baseline…');
const analyzed = docs.map((d) =>
  tokenizeFields(d.fields.map((f) => f.text))
    .flat()
    .map((t) => t.term),
);
const tokens = analyzed.reduce((s, a) => s + a.length, 0);
const avgdl = tokens / analyzed.length;
const baseline: number[] = [];
for (const q of queries.filter((q) => q.kind !== 'phrase').slice(0, BASELINE_QUERIES)) {
  const parsed = parseQuery(q.text);
  const seconds = await timed(() => {
    const df = parsed.scored.map((t) => analyzed.reduce((s, terms) => s + (terms.includes(t) ? 1 : 0), 0));
    const idfs = df.map((d) => idf(analyzed.length, d));
    const scores: number[] = [];
    for (const terms of analyzed) {
      let score = 0;
      parsed.scored.forEach((t, i) => {
        let tf = 0;
        for (const x of terms) if (x === t) tf++;
        if (tf > 0) score += termWeight(idfs[i]!, tf, terms.length, avgdl, 1.2, 0.75);
      });
      if (score > 0) scores.push(score);
    }
    scores.sort((a, b) => b - a).slice(0, 10);
  });
  baseline.push(seconds * 1000);
}

// The pruning bounds are computed from the postings when a list is first read, not stored: their memory.
let blockBytes = 0;
const blocksSeconds = await timed(async () => {
  for await (const list of reader.lists()) {
    const b = postingBlocks(list);
    for (const a of [b.last, b.docsAt, b.positionsAt, b.frontStart, b.frontTf, b.frontDl])
      blockBytes += a.byteLength;
  }
});

const rows: Row[] = [
  {
    name: 'naive scan + BM25, p50 (multi/single-term)',
    value: percentile(baseline, 0.5),
    unit: 'ms',
    note: `${BASELINE_QUERIES} queries, ${((percentile(baseline, 0.5) / N) * 1e6).toFixed(1)} ns per doc`,
  },
  ...['single', 'multi', 'phrase', 'all'].flatMap((kind) =>
    [`${kind} exhaustive`, kind].flatMap((key) => [
      { name: `index ${key} query p50`, value: percentile(times.get(key)!, 0.5), unit: 'ms' },
      { name: `index ${key} query p99`, value: percentile(times.get(key)!, 0.99), unit: 'ms' },
    ]),
  ),
];
console.log(
  `\nbuild: ${buildSeconds.toFixed(1)} s (${(N / buildSeconds / 1000).toFixed(0)}k items/s); ` +
    `${built.stats.bytes} index bytes = ${(built.stats.bytes / N).toFixed(1)} bytes per item ` +
    `(${built.stats.terms} terms, ${built.stats.postings} postings, ${built.stats.pages} pages, ` +
    `directory ${built.directory.bytes.length} bytes); ${hitsFound}/${queries.length} queries found hits; ` +
    `pruning bounds (in memory, computed at read) ${(blockBytes / N).toFixed(1)} bytes per item, ` +
    `${blocksSeconds.toFixed(2)} s for every list; ` +
    `pruned and exhaustive results ${mismatches === 0 ? 'identical' : `DIFFER for ${mismatches} queries`}`,
);
printTable(
  `Text index, BM25 top-10 over ${N} caption items (warm, lower is better)`,
  rows,
  'naive scan + BM25, p50 (multi/single-term)',
);
