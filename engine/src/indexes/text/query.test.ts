import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../../errors.js';
import { MAX_PHRASE_WORDS, parseQuery, queryTerms } from './query.js';

const bad = (text: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === 'E_BAD_REQUEST' && text.test(e.message);

test('bare words become sorted distinct optional terms', () => {
  const q = parseQuery('Cameras calibration camera');
  assert.deepEqual(q.terms, ['calibr', 'camera']);
  assert.deepEqual(q.phrases, []);
  assert.deepEqual(q.scored, ['calibr', 'camera']);
});

test('a quoted phrase is required and keeps the gaps its stop words leave', () => {
  const q = parseQuery('"state of the art" video');
  assert.deepEqual(q.phrases, [
    {
      terms: [
        { term: 'state', offset: 0 },
        { term: 'art', offset: 3 },
      ],
    },
  ]);
  assert.deepEqual(q.terms, ['video']);
  assert.deepEqual(q.scored, ['art', 'state', 'video']);
});

test('a minus excludes a term or a phrase, and excluded terms do not score', () => {
  const q = parseQuery('camera -drift -"lens cap"');
  assert.deepEqual(q.scored, ['camera']);
  assert.deepEqual(
    q.excluded.map((p) => p.terms.map((t) => t.term)),
    [['drift'], ['len', 'cap']],
  );
  assert.deepEqual(queryTerms(q), ['camera', 'cap', 'drift', 'len']);
});

test('a hyphen inside a word splits it into terms', () => {
  assert.deepEqual(parseQuery('e-mail').terms, ['e', 'mail']);
});

test('an empty query is refused, naming it', () => {
  assert.throws(() => parseQuery('   '), bad(/" {3}": is empty/));
});

test('a query of stop words or exclusions only is refused', () => {
  assert.throws(() => parseQuery('the of "and"'), bad(/no indexed term/));
  assert.throws(() => parseQuery('-camera'), bad(/no indexed term/));
});

test('an unclosed quote is refused', () => {
  assert.throws(() => parseQuery('"camera drift'), bad(/quote is not closed/));
});

test('a phrase of too many words is refused', () => {
  assert.throws(() => parseQuery(`"${'word '.repeat(MAX_PHRASE_WORDS + 1)}"`), bad(/more than 64 words/));
});
