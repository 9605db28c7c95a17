import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../errors.js';
import { type BuiltTextSegment, buildTextSegment, type TextDoc } from './index.js';
import { parseQuery, type TextQuery } from './query.js';
import { fetchFromBuilt, TextSegmentReader } from './reader.js';
import { searchText, type TextHit } from './search.js';
import { randomDocs } from './testing.js';
import { tokenizeFields } from './tokenize.js';

const open = (built: BuiltTextSegment) =>
  TextSegmentReader.open(built.directory.hash, fetchFromBuilt([built]));

/** The reference: every document analyzed and scored in full, with BM25 written out plainly. */
function reference(docs: readonly TextDoc[], query: TextQuery, k: number, k1 = 1.2, b = 0.75): TextHit[] {
  const analyzed = docs
    .map((doc) => {
      const terms = new Map<string, { positions: number[]; fields: Set<string> }>();
      let dl = 0;
      tokenizeFields(doc.fields.map((f) => f.text)).forEach((tokens, i) => {
        for (const { term, position } of tokens) {
          const entry = terms.get(term) ?? { positions: [], fields: new Set<string>() };
          entry.positions.push(position);
          entry.fields.add(doc.fields[i]!.name);
          terms.set(term, entry);
          dl++;
        }
      });
      return { doc, terms, dl };
    })
    .filter((d) => d.dl > 0);
  const N = analyzed.length;
  const avgdl = analyzed.reduce((s, d) => s + d.dl, 0) / N;
  const df = (term: string) => analyzed.filter((d) => d.terms.has(term)).length;
  const has = (d: (typeof analyzed)[number], phrase: TextQuery['phrases'][number]) =>
    d.terms
      .get(phrase.terms[0]!.term)
      ?.positions.some((p) =>
        phrase.terms.every((t) => d.terms.get(t.term)?.positions.includes(p + t.offset)),
      ) ?? false;
  const hits: TextHit[] = [];
  for (const d of analyzed) {
    if (!query.phrases.every((p) => has(d, p)) || query.excluded.some((p) => has(d, p))) continue;
    if (query.phrases.length === 0 && !query.terms.some((t) => d.terms.has(t))) continue;
    let score = 0;
    const matches = [];
    for (const term of query.scored) {
      const entry = d.terms.get(term);
      if (!entry) continue;
      const tf = entry.positions.length;
      const idf = Math.log(1 + (N - df(term) + 0.5) / (df(term) + 0.5));
      score += idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * (d.dl / avgdl))));
      matches.push({ term, fields: [...entry.fields].sort() });
    }
    hits.push({ track: d.doc.track, tick: d.doc.tick, duration: d.doc.duration, score, matches });
  }
  hits.sort(
    (x, y) =>
      y.score - x.score || (x.track < y.track ? -1 : x.track > y.track ? 1 : x.tick < y.tick ? -1 : 1),
  );
  return hits.slice(0, k);
}

const QUERIES = [
  'camera',
  'calibration',
  'camera drift',
  'red car parking',
  '"red car"',
  '"state of the art"',
  '"camera lens" drift',
  'sensor -noise',
  'video -"audio noise"',
  '"walking dog" "red car"',
  'frames signals sensors',
  'hello world -hello',
];

test('search ranks exactly as BM25 computed document by document', async () => {
  const docs = randomDocs(800, 11);
  const reader = await open(buildTextSegment(docs));
  for (const query of QUERIES) {
    const hits = await searchText([reader], query, { k: 25 });
    assert.deepEqual(hits, reference(docs, parseQuery(query), 25), query);
  }
});

test('several segments score exactly like one segment of all their documents', async () => {
  const docs = randomDocs(900, 12);
  const whole = [await open(buildTextSegment(docs))];
  const parts = await Promise.all(
    [docs.slice(0, 100), docs.slice(100, 650), docs.slice(650)].map((d) => open(buildTextSegment(d))),
  );
  let found = 0;
  for (const query of QUERIES) {
    const a = await searchText(whole, query, { k: 40 });
    const b = await searchText(parts, query, { k: 40 });
    if (a.length > 0) found++;
    assert.deepEqual(b, a, query);
  }
  assert.ok(found >= QUERIES.length - 2, `${found} queries found hits`);
});

test('k1 and b change the scores as the formula says', async () => {
  const docs = randomDocs(300, 13);
  const reader = await open(buildTextSegment(docs));
  const hits = await searchText([reader], 'camera lens', { k: 10, k1: 2, b: 0.3 });
  assert.deepEqual(hits, reference(docs, parseQuery('camera lens'), 10, 2, 0.3));
});

test('equal scores go to the track first in code point order, then the earlier tick', async () => {
  const doc = (track: string, tick: bigint) => ({
    track,
    tick,
    duration: 0n,
    fields: [{ name: 'text', text: 'camera lens' }],
  });
  const reader = await open(buildTextSegment([doc('b', 1n), doc('a', 9n), doc('a', 3n), doc('c', 0n)]));
  const hits = await searchText([reader], 'camera', { k: 3 });
  assert.deepEqual(
    hits.map((h) => [h.track, h.tick]),
    [
      ['a', 3n],
      ['a', 9n],
      ['b', 1n],
    ],
  );
  assert.equal(new Set(hits.map((h) => h.score)).size, 1);
});

test('a phrase matches only at consecutive positions of one field', async () => {
  const reader = await open(
    buildTextSegment([
      { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'the red car is parked' }] },
      { track: 'c', tick: 2n, duration: 0n, fields: [{ name: 'text', text: 'a car that is red' }] },
      {
        track: 'n',
        tick: 3n,
        duration: 0n,
        fields: [
          { name: 'label', text: 'red' },
          { name: 'note', text: 'car' },
        ],
      },
    ]),
  );
  const hits = await searchText([reader], '"red car"', { k: 10 });
  assert.deepEqual(
    hits.map((h) => h.tick),
    [1n],
  );
  assert.deepEqual(hits[0]!.matches, [
    { term: 'car', fields: ['text'] },
    { term: 'red', fields: ['text'] },
  ]);
  const loose = await searchText([reader], 'red car', { k: 10 });
  assert.equal(loose.length, 3);
  assert.deepEqual(loose.find((h) => h.track === 'n')!.matches, [
    { term: 'car', fields: ['note'] },
    { term: 'red', fields: ['label'] },
  ]);
});

test("a phrase with a stop word needs a word in the stop word's place", async () => {
  const reader = await open(
    buildTextSegment([
      { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'state of the art' }] },
      { track: 'c', tick: 2n, duration: 0n, fields: [{ name: 'text', text: 'state art' }] },
      { track: 'c', tick: 3n, duration: 0n, fields: [{ name: 'text', text: 'state in an art' }] },
    ]),
  );
  const hits = await searchText([reader], '"state of the art"', { k: 10 });
  assert.deepEqual(
    hits.map((h) => h.tick),
    [1n, 3n],
  );
});

test('a filter keeps only the documents it accepts and still returns k of them', async () => {
  const docs = randomDocs(600, 14);
  const reader = await open(buildTextSegment(docs));
  const t0 = 400n * 2_000_000_000n;
  const hits = await searchText([reader], 'camera', {
    k: 10,
    filter: (d) => d.tick >= t0 && d.track === 'captions',
  });
  assert.equal(hits.length, 10);
  assert.ok(hits.every((h) => h.tick >= t0 && h.track === 'captions'));
  const all = await searchText([reader], 'camera', { k: 10000 });
  const kept = all.filter((h) => h.tick >= t0 && h.track === 'captions').slice(0, 10);
  assert.deepEqual(hits, kept);
});

test('a term no segment holds gives no hits, and no segments give no hits', async () => {
  const reader = await open(buildTextSegment(randomDocs(50, 15)));
  assert.deepEqual(await searchText([reader], 'zebra', { k: 5 }), []);
  assert.deepEqual(await searchText([reader], '"zebra camera"', { k: 5 }), []);
  assert.deepEqual(await searchText([], 'camera', { k: 5 }), []);
});

test('bad options are refused with E_BAD_REQUEST naming the option', async () => {
  const reader = await open(buildTextSegment(randomDocs(10, 16)));
  const bad = (re: RegExp) => (e: unknown) =>
    e instanceof EngineError && e.code === 'E_BAD_REQUEST' && re.test(e.message);
  await assert.rejects(searchText([reader], 'camera', { k: 0 }), bad(/k 0/));
  await assert.rejects(searchText([reader], 'camera', { k: 1, b: 2 }), bad(/b 2/));
  await assert.rejects(searchText([reader], 'camera', { k: 1, k1: Number.NaN }), bad(/k1/));
  await assert.rejects(searchText([reader], '', { k: 1 }), bad(/is empty/));
});
