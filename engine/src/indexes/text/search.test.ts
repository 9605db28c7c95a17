import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../errors.js';
import { random } from '../../testing/random.js';
import { BLOCK_SIZE, postingBlocks } from './blocks.js';
import { buildTextSegment, type TextDoc } from './build.js';
import { PostingCursor } from './cursor.js';
import type { TextDocInfo } from './documents-page.js';
import { parseQuery, type TextQuery } from './query.js';
import { fetchFromBuilt, TextSegmentReader } from './reader.js';
import { searchText, type TextHit } from './search.js';
import type { BuiltTextSegment } from './segment-writer.js';
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

const VOCABULARY = [
  ...'camera lens drift calibration failed running red car parking lot state art person walks dog cup'.split(
    ' ',
  ),
  ...'table meeting speaker says hello world error warning light dark frame video audio noise signal'.split(
    ' ',
  ),
  ...'sensor of the a zebra'.split(' '),
];

/** A random query: bare terms, phrases (some cut from a document), exclusions. */
function randomQuery(next: () => number, docs: readonly TextDoc[]): string {
  const word = () => VOCABULARY[Math.floor(next() * next() * VOCABULARY.length)]!;
  const chunks: string[] = [];
  const n = 1 + Math.floor(next() * 5);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.6) chunks.push(word());
    else if (r < 0.8) {
      const text = docs[Math.floor(next() * docs.length)]!.fields.at(-1)!.text.split(' ');
      const at = Math.floor(next() * text.length);
      chunks.push(`"${text.slice(at, at + 1 + Math.floor(next() * 3)).join(' ')}"`);
    } else if (r < 0.9) chunks.push(`-${word()}`);
    else chunks.push(`-"${word()} ${word()}"`);
  }
  return chunks.join(' ');
}

test('the pruned search gives exactly the exhaustive hits, scores and tie order', async () => {
  const next = random(21);
  let compared = 0;
  let found = 0;
  for (let corpus = 0; corpus < 8; corpus++) {
    const count = 200 + Math.floor(next() * 3000);
    // Some corpora have many identical documents, so that equal scores cross the k-th place.
    const base = randomDocs(count, 100 + corpus);
    const docs =
      corpus % 3 === 2 ? base.map((d, i) => (i % 4 === 0 ? d : { ...d, fields: base[0]!.fields })) : base;
    const cut = [0, Math.floor(count / 3), Math.floor((2 * count) / 3), count];
    const segments = corpus % 2 === 0 ? 1 : 3;
    const readers = await Promise.all(
      (segments === 1 ? [docs] : [0, 1, 2].map((i) => docs.slice(cut[i], cut[i + 1]))).map((d) =>
        open(buildTextSegment(d)),
      ),
    );
    for (let q = 0; q < 60; q++) {
      const text = randomQuery(next, docs);
      let query: TextQuery;
      try {
        query = parseQuery(text);
      } catch {
        continue; // nothing to look for
      }
      const k = [1, 2, 3, 10, 50, 1000][Math.floor(next() * 6)]!;
      const t0 = BigInt(Math.floor(next() * count)) * 2_000_000_000n;
      const filters = [undefined, (d: TextDocInfo) => d.tick >= t0, (d: TextDocInfo) => d.track === 'notes'];
      const filter = filters[Math.floor(next() * filters.length)];
      const pruned = await searchText(readers, query, { k, filter });
      const full = await searchText(readers, query, { k, filter, exhaustive: true });
      assert.deepStrictEqual(pruned, full, `${text} k=${k} corpus ${corpus}`);
      if (q % 10 === 0 && filter === undefined) assert.deepStrictEqual(full, reference(docs, query, k), text);
      compared++;
      if (pruned.length > 0) found++;
    }
  }
  assert.ok(compared >= 400 && found >= compared / 2, `${compared} queries compared, ${found} found hits`);
});

test('a cursor skipping whole blocks lands on the postings and positions of one reading every posting', async () => {
  const docs = randomDocs(3000, 22);
  const reader = await open(buildTextSegment(docs));
  const next = random(23);
  for (const word of ['camera', 'lens', 'drift', 'calibration']) {
    const term = parseQuery(word).scored[0]!;
    const list = (await reader.postings(term))!;
    assert.ok(list.df > 2 * BLOCK_SIZE, `${term}: ${list.df} postings`);
    const blocks = postingBlocks(list);
    assert.equal(blocks.count, Math.ceil(list.df / BLOCK_SIZE));
    const plain = new PostingCursor(list);
    const skipping = new PostingCursor(list, blocks);
    plain.next();
    skipping.next();
    for (let target = 0; target < 3000; target += 1 + Math.floor(next() * next() * 400)) {
      plain.advanceTo(target);
      skipping.advanceTo(target);
      assert.equal(skipping.ord, plain.ord);
      if (plain.ord === Number.POSITIVE_INFINITY) break;
      assert.deepEqual([skipping.tf, skipping.dl, skipping.mask], [plain.tf, plain.dl, plain.mask]);
      if (next() < 0.5) assert.deepEqual(skipping.positions(), plain.positions());
    }
  }
});
