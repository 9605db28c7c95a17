import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type HybridVectorFile, runHybridVectors } from '../conformance/text-vectors.js';
import { EngineError } from '../errors.js';
import { TEXT_BM25 } from '../indexes/text/kind.js';
import { type Resolved, Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { collect } from '../versions/collect.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { hybrid } from './hybrid.js';
import { encodeVector } from './search.js';
import { textSearch } from './text-search.js';

const S = 1_000_000_000n;
const DIM = 8;
const code = (c: string, text?: RegExp) => (e: unknown) =>
  e instanceof EngineError && e.code === c && (!text || text.test(e.message));

/** Three scenes of 10 s, each with its own direction in frame space (plus a little per-second drift). */
const frame = (second: number): Float32Array => {
  const v = new Float32Array(DIM);
  v[Math.floor(second / 10)] = 1;
  v[7] = 0.05 * (second % 10);
  return v;
};

const CUES = [
  { at: 1, end: 4, text: 'Welcome to the lab session.' },
  { at: 5, end: 9, text: 'We start the calibration now.' },
  { at: 11, end: 15, text: 'The robot arm moves to the left.' },
  { at: 16, end: 19, text: 'Calibration is finished, the arm is calibrated.' },
  { at: 22, end: 26, text: 'A person walks past the camera.' },
];

const NOTES = [
  { at: 3, label: 'setup', note: 'cables checked' },
  { at: 12, duration: 6, label: 'robot', note: 'arm moving left' },
  { at: 23, duration: 3, label: 'person', note: 'someone walks by' },
];

function writer(base?: Resolved): Writer {
  const w = new Writer(base);
  if (base) return w;
  return w
    .timeline({ name: 's1', genesis: 0n })
    .track({ timeline: 's1', name: 'captions', kind: 'event', modality: 'text.cue', bucketDuration: 60n * S })
    .track({
      timeline: 's1',
      name: 'notes',
      kind: 'event',
      modality: 'event.annotation',
      bucketDuration: 60n * S,
    })
    .track({
      timeline: 's1',
      name: 'frames',
      kind: 'event',
      modality: `vector.f32;dim=${DIM}`,
      bucketDuration: 60n * S,
    });
}

async function session30s(): Promise<{ session: Session; main: Resolved }> {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const w = writer();
  w.write(
    's1',
    'captions',
    CUES.map((c) => ({
      tick: BigInt(c.at) * S,
      duration: BigInt(c.end - c.at) * S,
      payload: { text: c.text },
    })),
  );
  w.write(
    's1',
    'notes',
    NOTES.map((n) => ({
      tick: BigInt(n.at) * S,
      ...(n.duration !== undefined && { duration: BigInt(n.duration) * S }),
      payload: { label: n.label, note: n.note },
    })),
  );
  w.write(
    's1',
    'frames',
    Array.from({ length: 30 }, (_, s) => ({
      tick: BigInt(s) * S,
      duration: S,
      payload: { vector: encodeVector(frame(s)) },
    })),
  );
  return { session, main: await publish(session, w, { ref: 'main' }) };
}

test('text and event tracks get a text index; BM25 finds stems and phrases and says what matched', async () => {
  const { session, main } = await session30s();
  const tracks = Object.fromEntries(main.manifest.tracks.map((t) => [t.name, t]));
  assert.equal(tracks.captions!.indexes![TEXT_BM25]!.segments.length, 1);
  assert.equal(tracks.notes!.indexes![TEXT_BM25]!.segments[0]!.count, 3);
  assert.equal(tracks.frames!.indexes?.[TEXT_BM25], undefined);
  const hits = await textSearch(session, main, { timeline: 's1', query: 'calibrating', k: 10 });
  assert.deepEqual(
    hits.map((h) => [h.track, h.tick]),
    [
      ['captions', 16n * S], // "calibration" and "calibrated": two occurrences in a short cue
      ['captions', 5n * S],
    ],
  );
  assert.deepEqual(hits[0]!.matches, [{ term: 'calibr', fields: ['text'] }]);
  // "moves" and "moving" share the stem "move": the note "arm moving left" holds the phrase too.
  const phrase = await textSearch(session, main, { timeline: 's1', query: '"arm moves"', k: 10 });
  assert.deepEqual(
    phrase.map((h) => `${h.track}@${h.tick / S}`),
    ['captions@11', 'notes@12'],
  );
  const strict = await textSearch(session, main, { timeline: 's1', query: '"moves arm"', k: 10 });
  assert.equal(strict.length, 0);
  const both = await textSearch(session, main, { timeline: 's1', query: 'arm left', k: 10 });
  assert.deepEqual(
    both.map((h) => `${h.track}@${h.tick / S}`),
    ['captions@11', 'notes@12', 'captions@16'],
  );
  const windowed = await textSearch(session, main, { timeline: 's1', query: 'arm left', k: 10, t0: 15n * S });
  assert.deepEqual(
    windowed.map((h) => `${h.track}@${h.tick / S}`),
    ['captions@16'],
  );
  // The score of a hit does not depend on the window (the statistics are the tracks').
  assert.equal(windowed[0]!.score, both[2]!.score);
  // The cue and the note hold the same terms in as many tokens: a tie, broken by the track name.
  assert.equal(both[0]!.score, both[1]!.score);
  assert.ok(both[1]!.score > both[2]!.score);
  await assert.rejects(
    textSearch(session, main, { timeline: 's1', query: 'arm', k: 3, tracks: ['frames'] }),
    code('E_BAD_REQUEST', /s1\/frames .* has no text index/),
  );
});

test('appended text is indexed in new segments, scored as one index; a rewritten item is found as it is now', async () => {
  const { session, main } = await session30s();
  let head = main;
  for (let i = 0; i < 10; i++) {
    const w = writer(head);
    w.write('s1', 'captions', [
      { tick: BigInt(30 + i) * S, duration: S, payload: { text: `extra line ${i} about the arm` } },
    ]);
    head = await publish(session, w, { ref: 'main' });
  }
  const captions = head.manifest.tracks.find((t) => t.name === 'captions')!;
  assert.ok(captions.indexes![TEXT_BM25]!.segments.length < 11, 'tier merges happened');
  assert.equal(
    captions.indexes![TEXT_BM25]!.segments.reduce((n, s) => n + s.count, 0),
    15,
  );
  // The same items written at once give the same ranking and scores.
  const once = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const w = writer();
  w.write('s1', 'captions', [
    ...CUES.map((c) => ({
      tick: BigInt(c.at) * S,
      duration: BigInt(c.end - c.at) * S,
      payload: { text: c.text },
    })),
    ...Array.from({ length: 10 }, (_, i) => ({
      tick: BigInt(30 + i) * S,
      duration: S,
      payload: { text: `extra line ${i} about the arm` },
    })),
  ]);
  const whole = await publish(once, w, { ref: 'main' });
  const q = { timeline: 's1', query: 'arm extra', k: 20, tracks: ['captions'] };
  const a = await textSearch(session, head, q);
  const b = await textSearch(once, whole, q);
  assert.deepEqual(
    a.map((h) => [h.tick, h.score]),
    b.map((h) => [h.tick, h.score]),
  );
  // Rewriting a tick (not an append) rebuilds: the old words are gone, the new ones found.
  const edit = writer(head);
  edit.write('s1', 'captions', [
    { tick: 5n * S, duration: 4n * S, payload: { text: 'We start the alignment now.' } },
  ]);
  const edited = await publish(session, edit, { ref: 'main' });
  const old = await textSearch(session, edited, { timeline: 's1', query: 'calibration', k: 5 });
  assert.deepEqual(
    old.map((h) => h.tick),
    [16n * S],
  );
  const now = await textSearch(session, edited, { timeline: 's1', query: 'alignment', k: 5 });
  assert.deepEqual(
    now.map((h) => h.tick),
    [5n * S],
  );
  // collect keeps every text page of every version.
  await collect(session, { graceMs: 0, now: Date.now() + 10_000 });
  const again = new Session(session.store);
  assert.equal((await textSearch(again, main, { timeline: 's1', query: 'robot', k: 5 })).length, 2);
});

test('hybrid fuses text and vector ranks by reciprocal rank: a frame inside a matching cue scores by both', async () => {
  const { session, main } = await session30s();
  const hits = await hybrid(session, main, { timeline: 's1', text: 'arm', like: 13n * S, k: 5 });
  // The frame at 13 s matches itself first; it lies inside the cue 11–15 s, which "arm" ranks first (three
  // items tie on BM25; ties go to the track name, then the earlier tick).
  const top = hits[0]!;
  assert.equal(`${top.track}@${top.tick / S}`, 'captions@11');
  assert.equal(top.matched.text!.rank, 1);
  assert.equal(top.matched.vector!.rank, 1);
  assert.equal(top.matched.vector!.tick, 13n * S);
  assert.equal(top.score, 1 / 61 + 1 / 61);
  // The next frame (14 s) is in that cue too, which already has its frame: it joins the note 12–18 s.
  assert.equal(`${hits[1]!.track}@${hits[1]!.tick / S}`, 'notes@12');
  assert.equal(hits[1]!.matched.vector!.tick, 14n * S);
  assert.equal(hits[3]!.track, 'frames');
  assert.equal(hits[3]!.matched.text, undefined);
  assert.deepEqual(top.matched.text!.terms, [{ term: 'arm', fields: ['text'] }]);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score);
  // Weights: text counted twice as much.
  const weighted = await hybrid(session, main, {
    timeline: 's1',
    text: 'arm',
    like: 13n * S,
    k: 3,
    weights: { text: 2 },
    rrfK: 10,
  });
  assert.equal(weighted[0]!.score, 2 / 11 + 1 / 11);
  // Vector only, inside a window, and only where a "person" annotation is active (23–26 s).
  const person = await hybrid(session, main, {
    timeline: 's1',
    vector: Array.from(frame(21)),
    k: 10,
    labels: ['person'],
  });
  assert.deepEqual(
    person.map((h) => h.tick / S),
    [23n, 24n, 25n],
  );
  const windowed = await hybrid(session, main, {
    timeline: 's1',
    like: 2n * S,
    k: 4,
    t0: 5n * S,
    t1: 8n * S,
  });
  assert.ok(windowed.every((h) => h.tick >= 5n * S && h.tick < 8n * S));
  assert.equal(windowed.length, 3);
  // Text only, with a label filter: only the robot annotation and the cue inside its span remain (they tie
  // on BM25: the track name decides).
  const robot = await hybrid(session, main, { timeline: 's1', text: 'arm', k: 5, labels: ['robot'] });
  assert.deepEqual(
    robot.map((h) => `${h.track}@${h.tick / S}`),
    ['captions@16', 'notes@12'],
  );
});

test('hybrid refuses questions it cannot answer, naming the problem', async () => {
  const { session, main } = await session30s();
  const ask = (q: Partial<Parameters<typeof hybrid>[2]>) =>
    hybrid(session, main, { timeline: 's1', k: 5, ...q });
  await assert.rejects(ask({}), code('E_BAD_REQUEST', /needs text, a vector or like/));
  await assert.rejects(ask({ vector: [1], like: 1n }), code('E_BAD_REQUEST', /vector or like, not both/));
  await assert.rejects(ask({ text: 'arm', k: 0 }), code('E_BAD_REQUEST', /k 0 must be/));
  await assert.rejects(ask({ text: 'arm', depth: 2 }), code('E_BAD_REQUEST', /depth 2 must be/));
  await assert.rejects(ask({ text: 'arm', rrfK: -1 }), code('E_BAD_REQUEST', /rrfK -1/));
  await assert.rejects(
    ask({ text: 'arm', weights: { vector: Number.NaN } }),
    code('E_BAD_REQUEST', /weights.vector/),
  );
  await assert.rejects(ask({ text: '   ' }), code('E_BAD_REQUEST'));
  await assert.rejects(
    ask({ vector: [1, 2] }),
    code('E_BAD_REQUEST', /2 components; track s1\/frames holds 8/),
  );
  await assert.rejects(
    ask({ like: 1n, vectorTrack: 'captions' }),
    code('E_BAD_REQUEST', /not a vector track/),
  );
  await assert.rejects(
    ask({ text: 'arm', textTracks: ['frames'] }),
    code('E_BAD_REQUEST', /has no text index/),
  );
  await assert.rejects(
    ask({ text: 'arm', labels: 'robot' as never }),
    code('E_BAD_REQUEST', /labels .* list of strings/),
  );
});

test('fusion reproduces spec/vectors/text/hybrid.json (written by Python from the spec alone)', async () => {
  const file = JSON.parse(
    readFileSync(new URL('../../../spec/vectors/text/hybrid.json', import.meta.url), 'utf8'),
  ) as HybridVectorFile;
  assert.ok(file.vectors.length >= 5);
  const outcomes = await runHybridVectors(file);
  assert.deepEqual(
    outcomes.filter((o) => !o.ok),
    [],
  );
  assert.equal(outcomes.length, file.vectors.length);
});
