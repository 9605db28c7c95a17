import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { multihashToHex } from '../../address/multihash.js';
import { toHex } from '../../cbor/json-form.js';
import { EngineError } from '../../errors.js';
import { buildTextSegment, type TextDoc } from './build.js';
import { parseQuery } from './query.js';
import { fetchFromBuilt, TextSegmentReader } from './reader.js';
import { searchText } from './search.js';
import { ANALYZER, analyze, tokenizeFields } from './tokenize.js';

/**
 * spec/vectors/text/text.json: analyzer cases, a small corpus (its tokens, its objects' bytes) and ranked
 * queries. `DREAMDB_WRITE_VECTORS=1` rewrites the file from this engine; otherwise the engine must give
 * it back exactly, and spec/vectors/check_text.py recomputes every score from the tokens alone.
 */

const DIR = new URL('../../../../spec/vectors/', import.meta.url);
const FILE = new URL('text/text.json', DIR);

const TEXTS: [string, string][] = [
  ['stemming', 'Calibration calibrated CALIBRATING cameras running runs'],
  ['stop words keep positions', 'The state of the art is in the lab'],
  ['apostrophes join words', "Don't stop O’Brien's 'quoted' rock'n'roll"],
  ['NFKC folds ligatures, full width and circled digits', 'ﬁnal ＡＢＣ ① Ⅻ ｶﾀｶﾅ'],
  ['other scripts are kept, unstemmed', 'Straße ΟΔΟΣ 東京タワー नमस्ते مرحبا 2024'],
  ['punctuation splits', 'e-mail/foo.bar,baz;(qux) x86_64 3.14 #tag @user'],
  ['over-long words are dropped', `short ${'a'.repeat(65)} ${'b'.repeat(64)} end`],
  ['marks stay inside words', 'café cafe\u0301 naïve'],
  ['empty text', ''],
];

const CORPUS: TextDoc[] = [
  ['captions', 0n, 'The camera calibration failed at the start'],
  ['captions', 2n, 'Recalibrate the camera before running the test'],
  ['captions', 4n, 'A red car is parked in the lot'],
  ['captions', 6n, 'The car that is red drives away'],
  ['captions', 8n, 'State of the art camera calibration'],
  ['captions', 10n, 'Cameras, cameras, cameras everywhere'],
  ['captions', 12n, 'Nothing of the sort'],
].map(([track, tick, text]) => ({
  track: track as string,
  tick: (tick as bigint) * 1_000_000_000n,
  duration: 2_000_000_000n,
  fields: [{ name: 'text', text: text as string }],
}));
CORPUS.push(
  {
    track: 'notes',
    tick: 3_000_000_000n,
    duration: 0n,
    fields: [
      { name: 'label', text: 'calibration' },
      { name: 'note', text: 'red camera drift' },
    ],
  },
  { track: 'notes', tick: 9_000_000_000n, duration: 0n, fields: [{ name: 'label', text: 'the' }] },
);

const QUERIES: { query: string; k: number; k1?: number; b?: number }[] = [
  { query: 'camera', k: 10 },
  { query: 'calibration', k: 10 },
  { query: 'camera calibration', k: 10 },
  { query: '"camera calibration"', k: 10 },
  { query: '"red car"', k: 10 },
  { query: 'red car', k: 10 },
  { query: '"state of the art" camera', k: 10 },
  { query: 'camera -drift', k: 10 },
  { query: 'camera -"camera calibration"', k: 10 },
  { query: 'cameras', k: 2 },
  { query: 'car drift', k: 10, k1: 2, b: 0.5 },
  { query: 'zebra', k: 10 },
];
const INVALID = ['', '   ', 'the of', '-camera', '"camera drift'];

const json = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

async function generate(): Promise<unknown> {
  const built = buildTextSegment(CORPUS);
  const reader = await TextSegmentReader.open(built.directory.hash, fetchFromBuilt([built]));
  const queries = [];
  for (const q of QUERIES) {
    const hits = await searchText([reader], q.query, q);
    queries.push({ ...q, parsed: parseQuery(q.query), hits: json(hits) });
  }
  const invalid = [];
  for (const query of INVALID) {
    try {
      parseQuery(query);
    } catch (error) {
      invalid.push({ query, error: (error as EngineError).code });
    }
  }
  return {
    spec: '0015',
    title: 'Text index: analyzer dreamdb.text-en-1, segment objects, BM25 ranking',
    analyzer: ANALYZER,
    analyze: TEXTS.map(([name, text]) => ({
      name,
      text,
      words: analyze(text).map((w) => [w.word, w.position, w.term ?? null]),
    })),
    corpus: {
      docs: CORPUS.map((doc) => ({
        ...json(doc),
        tokens: tokenizeFields(doc.fields.map((f) => f.text)).flatMap((tokens, i) =>
          tokens.map((t) => [t.term, t.position, doc.fields[i]!.name]),
        ),
      })),
      directory: { hash: multihashToHex(built.directory.hash), hex: toHex(built.directory.bytes) },
      pages: built.pages.map((p) => ({ hash: multihashToHex(p.hash), hex: toHex(p.bytes) })),
    },
    queries,
    invalid,
  };
}

const expected = await generate();
if (process.env.DREAMDB_WRITE_VECTORS === '1') writeFileSync(FILE, `${JSON.stringify(expected, null, 1)}\n`);

test('the engine gives spec/vectors/text/text.json back exactly: words, objects, hits and scores', () => {
  assert.deepEqual(JSON.parse(readFileSync(FILE, 'utf8')), expected);
});

test('every invalid query of the vectors is refused with E_BAD_REQUEST', () => {
  const file = JSON.parse(readFileSync(FILE, 'utf8')) as { invalid: { query: string; error: string }[] };
  assert.equal(file.invalid.length, INVALID.length);
  for (const { query, error } of file.invalid) {
    assert.throws(
      () => parseQuery(query),
      (e: unknown) => e instanceof EngineError && e.code === error,
      query,
    );
  }
});

test('python3 recomputes every BM25 score and rank of the vectors from their tokens', () => {
  const out = execFileSync('/usr/bin/python3', [new URL('check_text.py', DIR).pathname], {
    encoding: 'utf8',
  });
  assert.match(out, /check_text: \d+ passed, 0 failed/);
});
