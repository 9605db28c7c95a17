import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, FIELD_GAP, MAX_TOKEN_CHARS, tokenize, tokenizeFields } from './tokenize.js';

const terms = (text: string) => tokenize(text).map((t) => t.term);

test('words are lowercased and Porter-stemmed', () => {
  assert.deepEqual(terms('Calibration CALIBRATED running Cameras'), ['calibr', 'calibr', 'run', 'camera']);
});

test('NFKC folds ligatures and full-width letters before splitting', () => {
  assert.deepEqual(terms('ﬁle ＡＢＣ ①'), ['file', 'abc', '1']);
});

test('an apostrophe inside a word is removed, not a split', () => {
  assert.deepEqual(terms("don't O’Brien 'quoted'"), ['dont', 'obrien', 'quot']);
});

test('stop words are dropped but keep their positions', () => {
  assert.deepEqual(tokenize('state of the art'), [
    { term: 'state', position: 0 },
    { term: 'art', position: 3 },
  ]);
});

test('words of other scripts and numbers are kept whole, unstemmed', () => {
  assert.deepEqual(terms('Straße ΟΔΟΣ 東京 2024 x86_64 नमस्ते'), [
    'straße',
    'οδος',
    '東京',
    '2024',
    'x86',
    '64',
    'नमस्ते',
  ]);
});

test('punctuation, symbols and spaces split words', () => {
  assert.deepEqual(terms('e-mail/foo.bar,baz;(qux) a+b'), ['e', 'mail', 'foo', 'bar', 'baz', 'qux', 'b']);
});

test('a word over the length cap is dropped but keeps its position', () => {
  const long = 'x'.repeat(MAX_TOKEN_CHARS + 1);
  assert.deepEqual(tokenize(`left ${long} right`), [
    { term: 'left', position: 0 },
    { term: 'right', position: 2 },
  ]);
  assert.equal(analyze('x'.repeat(MAX_TOKEN_CHARS))[0]!.term, 'x'.repeat(MAX_TOKEN_CHARS));
});

test('consecutive fields are FIELD_GAP positions apart', () => {
  const [a, b, c] = tokenizeFields(['one two', '', 'three']);
  assert.deepEqual(
    a!.map((t) => t.position),
    [0, 1],
  );
  assert.deepEqual(b, []);
  assert.deepEqual(
    c!.map((t) => t.position),
    [2 + FIELD_GAP + FIELD_GAP],
  );
});

test('empty and punctuation-only text gives no token', () => {
  assert.deepEqual(tokenize(''), []);
  assert.deepEqual(tokenize(' -- !! ... '), []);
});
