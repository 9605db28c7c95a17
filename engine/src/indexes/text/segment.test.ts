import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBytes, multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { openObject, sealObject } from '../../format/envelope.js';
import { random } from '../../testing/random.js';
import { buildTextSegment } from './build.js';
import { decodeTextDirectory, MAX_TEXT_OBJECT_BYTES } from './directory.js';
import { decodeDocumentsPage } from './documents-page.js';
import { mergeTextSegments } from './merge.js';
import { decodePostingsPage } from './postings-page.js';
import { fetchFromBuilt, TextSegmentReader } from './reader.js';
import { PAGE_TARGET_BYTES } from './segment-writer.js';
import { randomDocs } from './testing.js';

const field = (path: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === 'E_FIELD' && path.test(e.message);
const hex = (built: { directory: { hash: Uint8Array } }) => multihashToHex(built.directory.hash);
const open = (built: ReturnType<typeof buildTextSegment>) =>
  TextSegmentReader.open(built.directory.hash, fetchFromBuilt([built]));

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const next = random(seed);
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('the same documents in any order give the same bytes', () => {
  const docs = randomDocs(500, 1);
  const a = buildTextSegment(docs);
  const b = buildTextSegment(shuffled(docs, 2));
  assert.equal(hex(a), hex(b));
  assert.deepEqual(
    a.pages.map((p) => multihashToHex(p.hash)),
    b.pages.map((p) => multihashToHex(p.hash)),
  );
});

test('every object hashes to the hash the segment names it by', () => {
  const built = buildTextSegment(randomDocs(200, 3));
  for (const o of [built.directory, ...built.pages])
    assert.equal(multihashToHex(hashBytes(o.bytes)), multihashToHex(o.hash));
});

test('documents without an indexed word are left out of the segment', () => {
  const built = buildTextSegment([
    { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'the of and' }] },
    { track: 'c', tick: 2n, duration: 0n, fields: [{ name: 'text', text: 'camera' }] },
  ]);
  assert.equal(built.stats.docs, 1);
  assert.equal(built.stats.tokens, 1);
});

test('two documents at one track and tick are refused', () => {
  const doc = { track: 'c', tick: 7n, duration: 0n, fields: [{ name: 'text', text: 'camera' }] };
  assert.throws(
    () => buildTextSegment([doc, { ...doc }]),
    (e: unknown) =>
      e instanceof EngineError &&
      e.code === 'E_BAD_REQUEST' &&
      /"c" at tick 0x0000000000000007/.test(e.message),
  );
});

test('a bad field name, track or tick is refused naming the document', () => {
  const doc = (over: object) => ({
    track: 'c',
    tick: 1n,
    duration: 0n,
    fields: [{ name: 'text', text: 'x' }],
    ...over,
  });
  assert.throws(
    () => buildTextSegment([doc({ fields: [{ name: 'Text!', text: 'x' }] })]),
    /text document 0 fields\[0\]\.name/,
  );
  assert.throws(() => buildTextSegment([doc({ track: '' })]), /text document 0 track/);
  assert.throws(() => buildTextSegment([doc({ tick: -1n })]), /text document 0 tick/);
});

test('postings are split into pages of about 64 KiB, and a term is found on its page', async () => {
  const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x`);
  const built = buildTextSegment(randomDocs(20_000, 4, words));
  const directory = decodeTextDirectory(built.directory.bytes);
  assert.ok(directory.pages.length > 3, `${directory.pages.length} postings pages`);
  assert.ok(directory.docPages.length > 1, `${directory.docPages.length} documents pages`);
  for (const page of built.pages) assert.ok(page.bytes.length < PAGE_TARGET_BYTES * 2 + 4096);
  assert.ok(built.directory.bytes.length < MAX_TEXT_OBJECT_BYTES);
  const fetched: string[] = [];
  const fetch = fetchFromBuilt([built]);
  const reader = await TextSegmentReader.open(built.directory.hash, async (h) => {
    fetched.push(multihashToHex(h));
    return fetch(h);
  });
  const list = await reader.postings(directory.pages[2]!.first);
  assert.ok(list && list.df > 0);
  assert.equal(fetched.length, 2, 'the directory and one page');
  assert.equal(await reader.postings('absent'), undefined);
});

test('merging segments gives the bytes of one segment built from all their documents', async () => {
  const docs = randomDocs(1200, 5);
  const parts = [docs.slice(0, 300), docs.slice(300, 1000), docs.slice(1000)].map(buildTextSegment);
  const readers = await Promise.all(parts.map(open));
  const merged = await mergeTextSegments(readers);
  const whole = buildTextSegment(docs);
  assert.equal(hex(merged), hex(whole));
  assert.deepEqual(
    merged.pages.map((p) => multihashToHex(p.hash)),
    whole.pages.map((p) => multihashToHex(p.hash)),
  );
  assert.deepEqual(merged.stats, whole.stats);
});

test('merging segments with different fields remaps each field bit', async () => {
  const a = buildTextSegment([
    { track: 'n', tick: 1n, duration: 0n, fields: [{ name: 'note', text: 'camera' }] },
  ]);
  const b = buildTextSegment([
    { track: 'n', tick: 2n, duration: 0n, fields: [{ name: 'label', text: 'camera' }] },
  ]);
  const merged = await mergeTextSegments([await open(a), await open(b)]);
  const whole = buildTextSegment([
    { track: 'n', tick: 2n, duration: 0n, fields: [{ name: 'label', text: 'camera' }] },
    { track: 'n', tick: 1n, duration: 0n, fields: [{ name: 'note', text: 'camera' }] },
  ]);
  assert.equal(hex(merged), hex(whole));
});

test('merging segments that hold the same item is refused', async () => {
  const doc = { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'camera' }] };
  const a = await open(buildTextSegment([doc]));
  await assert.rejects(mergeTextSegments([a, a]), /two text documents/);
});

test('a reader refuses a page whose bytes do not match its hash', async () => {
  const built = buildTextSegment(randomDocs(50, 6));
  const fetch = fetchFromBuilt([built]);
  const reader = await TextSegmentReader.open(built.directory.hash, async (h) => {
    const bytes = await fetch(h);
    if (multihashToHex(h) === hex(built)) return bytes;
    const copy = bytes.slice();
    copy[copy.length - 1]! ^= 1;
    return copy;
  });
  await assert.rejects(
    reader.postings('camera'),
    (e: unknown) => e instanceof EngineError && e.code === 'E_HASH_MISMATCH',
  );
});

/** The header of an object, changed by `edit`, resealed with the same payload. */
function reseal(
  bytes: Uint8Array,
  kind: 'textDirectory' | 'textPage',
  edit: (h: Record<string, unknown>) => void,
) {
  const { header, payloadStart } = openObject(bytes, kind);
  edit(header as Record<string, unknown>);
  return sealObject(kind, header, bytes.subarray(payloadStart));
}

test('the directory decoder refuses unknown fields, analyzers and inconsistent counts', () => {
  const built = buildTextSegment(randomDocs(50, 7));
  const bytes = built.directory.bytes;
  assert.throws(
    () => decodeTextDirectory(reseal(bytes, 'textDirectory', (h) => (h.extra = 1))),
    field(/\.extra: unknown field/),
  );
  assert.throws(
    () => decodeTextDirectory(reseal(bytes, 'textDirectory', (h) => (h.analyzer = 'other'))),
    field(/\.analyzer: unknown analyzer/),
  );
  assert.throws(
    () => decodeTextDirectory(reseal(bytes, 'textDirectory', (h) => (h.docs = (h.docs as number) - 1))),
    field(/doc_pages: pages hold \d+ documents/),
  );
  assert.throws(
    () => decodeTextDirectory(reseal(bytes, 'textDirectory', (h) => (h.fields = ['text', 'label']))),
    field(/fields\[1\]: names must be distinct and in code point order/),
  );
  assert.throws(
    () => decodeTextDirectory(reseal(bytes, 'textDirectory', (h) => (h.v = 1))),
    field(/\.v: text directory version/),
  );
  assert.throws(
    () => decodeTextDirectory(built.pages[0]!.bytes),
    field(/is a textPage, not a textDirectory/),
  );
  const bad = bytes.slice();
  bad[0] = 0x58;
  assert.throws(() => decodeTextDirectory(bad), field(/not a DreamDB object/));
});

test('the postings page decoder refuses corrupt streams, naming the term', () => {
  const built = buildTextSegment([
    { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'camera drift' }] },
  ]);
  const page = built.pages[0]!.bytes;
  const context = { docs: 1, fields: 1 };
  assert.equal(decodePostingsPage(page, context).lists.length, 2);
  assert.throws(
    () => decodePostingsPage(page, { docs: 0, fields: 1 }),
    field(/term "camera": posting 0: ordinal 0 is past/),
  );
  assert.throws(
    () => decodePostingsPage(page, { docs: 1, fields: 0 }),
    field(/field mask 1 names no field or an unknown one/),
  );
  assert.throws(
    () =>
      decodePostingsPage(
        reseal(page, 'textPage', (h) => (h.terms = ['drift', 'camera'])),
        context,
      ),
    field(/terms\[1\]: terms must be distinct/),
  );
  assert.throws(
    () =>
      decodePostingsPage(
        reseal(page, 'textPage', (h) => (h.docs_bytes = [4, 5])),
        context,
      ),
    field(/postings run past the end|bytes after|runs past/),
  );
  assert.throws(
    () => decodePostingsPage(built.pages[1]!.bytes, context),
    field(/is a documents page, not a postings page/),
  );
  assert.throws(
    () =>
      decodePostingsPage(
        reseal(page, 'textPage', (h) => (h.type = 'other')),
        context,
      ),
    field(/\.type: unknown text page type "other"/),
  );
});

test('the documents page decoder refuses track indices past the table and trailing bytes', () => {
  const built = buildTextSegment([
    { track: 'c', tick: 1n, duration: 0n, fields: [{ name: 'text', text: 'camera' }] },
  ]);
  const page = built.pages[1]!.bytes;
  assert.equal(decodeDocumentsPage(page, 1).ticks[0], 1n);
  assert.throws(() => decodeDocumentsPage(page, 0), field(/track index 0 is past the 0 tracks/));
  const longer = new Uint8Array([...page, 0]);
  assert.throws(() => decodeDocumentsPage(longer, 1), field(/bytes after document 1/));
});
