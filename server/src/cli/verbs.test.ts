import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FORMS_OF_3_5_S } from '../testing/time-forms.js';

const BIN = fileURLToPath(new URL('../../bin/dreamdb.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-verbs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const store = join(dir, 'store');

function dreamdb(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--store', store, '--space', 'lab'], {
    encoding: 'utf8',
  });
  return {
    code: result.status,
    lines: result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    stderr: result.stderr,
    stdout: result.stdout,
  };
}

test('the verbs as commands: write publishes, resolve, read and range read back, publish branches, collect reports', () => {
  const file = join(dir, 'notes.jsonl');
  writeFileSync(
    file,
    [0, 1, 2, 3, 4, 5]
      .map((i) => JSON.stringify({ tick: `${i}.5s`, payload: { label: `wave ${i}` } }))
      .join('\n'),
  );
  const written = dreamdb(
    'write',
    '--timeline',
    's1',
    '--track',
    'notes',
    '--file',
    file,
    '--message',
    'first',
  );
  assert.equal(written.code, 0, written.stderr);
  assert.equal(written.lines[0].items, 6);

  const resolved = dreamdb('resolve');
  assert.equal(resolved.lines[0].manifest, written.lines[0].manifest);
  assert.deepEqual(resolved.lines[0].tracks[0], {
    timeline: 's1',
    name: 'notes',
    kind: 'event',
    modality: 'event.annotation',
    items: 6,
    first: '500000000',
    last: '5500000000',
  });

  const item = dreamdb('read', '--timeline', 's1', '--track', 'notes', '--tick', '3s');
  assert.deepEqual(item.lines[0].payload, { label: 'wave 2' });
  assert.match(item.lines[0].address, /^dreamdb:\/\/lab\/1e20[0-9a-f]{64}#bytes:\d+-\d+$/);

  const page = dreamdb('range', '--timeline', 's1', '--from', '1s', '--to', '4s', '--limit', '2');
  assert.deepEqual(
    page.lines.slice(0, 2).map((l) => l.tick),
    ['1500000000', '2500000000'],
  );
  const rest = dreamdb(
    'range',
    '--timeline',
    's1',
    '--from',
    '1s',
    '--to',
    '4s',
    '--cursor',
    page.lines[2].cursor,
  );
  assert.deepEqual(
    rest.lines.map((l) => l.tick),
    ['3500000000'],
  );

  const branch = dreamdb('publish', '--ref', 'heads/ana', '--from', 'main', '--message', 'branch');
  assert.equal(branch.code, 0, branch.stderr);
  const onBranch = dreamdb('resolve', '--ref', 'heads/ana');
  assert.deepEqual(onBranch.lines[0].parents, [written.lines[0].manifest]);

  const old = dreamdb(
    'read',
    '--timeline',
    's1',
    '--track',
    'notes',
    '--tick',
    '0.6s',
    '--manifest',
    written.lines[0].manifest,
  );
  assert.deepEqual(old.lines[0].payload, { label: 'wave 0' });

  const gc = spawnSync(process.execPath, [BIN, 'collect', '--store', store, '--space', 'lab', '--dry-run'], {
    encoding: 'utf8',
  });
  assert.match(gc.stdout, /2 refs, 2 manifests, \d+ reachable of \d+ objects; 0 to delete/);
});

test('verb commands refuse bad input with one line and exit 2', () => {
  const missing = dreamdb('read', '--timeline', 's1', '--track', 'nope', '--tick', '1s');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^dreamdb: E_NOT_FOUND: track s1\/nope is not in this manifest/);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"tick": "1s", "payload": 1}\nnot json\n');
  const refused = dreamdb('write', '--timeline', 's1', '--track', 'notes', '--file', bad);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /line 2: not JSON/);
  const badRef = dreamdb('resolve', '--ref', 'heads/..');
  assert.equal(badRef.code, 2);
  assert.match(badRef.stderr, /E_NAME/);
});

test('time arguments take ticks, 16 hex digits and numbers with a unit (s, ms, us, µs, ns), alike in every command', () => {
  // The notes of the first test are at 0.5 s, 1.5 s, ... 5.5 s: each form of 3.5 s reads the same one.
  for (const tick of FORMS_OF_3_5_S) {
    const item = dreamdb('read', '--timeline', 's1', '--track', 'notes', '--tick', tick);
    assert.equal(item.code, 0, `${tick}: ${item.stderr}`);
    assert.equal(item.lines[0].tick, '3500000000', tick);
  }
  const window = dreamdb('range', '--timeline', 's1', '--from', '1000ms', '--to', '3000000us');
  assert.deepEqual(
    window.lines.map((l) => l.tick),
    ['1500000000', '2500000000'],
  );
  // Items written with a unit suffix in their JSONL rows.
  const file = join(dir, 'units.jsonl');
  writeFileSync(
    file,
    `${JSON.stringify({ tick: '250ms', duration: '100ms', payload: { label: 'short' } })}\n`,
  );
  const written = dreamdb('write', '--timeline', 'units', '--track', 'marks', '--file', file);
  assert.equal(written.code, 0, written.stderr);
  const mark = dreamdb('read', '--timeline', 'units', '--track', 'marks', '--tick', '0.3s');
  assert.deepEqual([mark.lines[0].tick, mark.lines[0].duration], ['250000000', '100000000']);
  const refusals: [string[], RegExp][] = [
    [['read', '--timeline', 's1', '--track', 'notes', '--tick', '3.5'], /--tick: "3.5" has no unit/],
    [
      ['read', '--timeline', 's1', '--track', 'notes', '--tick', '5 ms'],
      /--tick: "5 ms" is not a time; give ticks/,
    ],
    [['range', '--timeline', 's1', '--from', '1x', '--to', '2s'], /--from: "1x" is not a time/],
    [
      ['read', '--timeline', 's1', '--track', 'notes', '--tick', '2026-11-24T00:00:00Z'],
      /--tick: "2026-11-24T00:00:00Z" is an RFC 3339 time, which needs a timeline's genesis/,
    ],
  ];
  for (const [args, message] of refusals) {
    const refused = dreamdb(...args);
    assert.equal(refused.code, 2, args.join(' '));
    assert.match(refused.stderr, message, args.join(' '));
  }
});

test('search finds the nearest vectors, by vector and like an item; stream reports prefetch stats', () => {
  const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('hex');
  const file = join(dir, 'vectors.jsonl');
  writeFileSync(
    file,
    [
      { tick: '1s', payload: { $bytes: f32(1, 0, 0) } },
      { tick: '2s', payload: { $bytes: f32(0, 1, 0) } },
      { tick: '3s', payload: { $bytes: f32(0.9, 0.1, 0) } },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
  const written = dreamdb(
    'write',
    '--timeline',
    'v',
    '--track',
    'emb',
    '--modality',
    'vector.f32;dim=3',
    '--file',
    file,
  );
  assert.equal(written.code, 0, written.stderr);
  const hits = dreamdb('search', '--timeline', 'v', '--track', 'emb', '--vector', '1,0,0', '--k', '2');
  assert.deepEqual(
    hits.lines.map((h) => h.tick),
    ['1000000000', '3000000000'],
  );
  const like = dreamdb('search', '--timeline', 'v', '--track', 'emb', '--like', '2s', '--k', '1');
  assert.deepEqual(
    like.lines.map((h) => h.tick),
    ['2000000000'],
  );
  // The upload route's "500ms" form is taken by --like too (it was refused here before).
  for (const form of ['2000ms', '2000000us', '2000000000ns']) {
    const same = dreamdb('search', '--timeline', 'v', '--track', 'emb', '--like', form, '--k', '1');
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual(same.lines, like.lines, form);
  }
  const wrong = dreamdb('search', '--timeline', 'v', '--track', 'emb', '--vector', '1,0');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /E_BAD_REQUEST/);
  const played = dreamdb('stream', '--timeline', 'v', '--from', '0');
  assert.equal(played.lines.length, 4);
  assert.equal(played.lines[3].stats.yielded, 3);
});

test('search by the index (the graph, the default of a vector track) or --exact: the same hits; bad index options exit 2 naming them', () => {
  const query = ['search', '--timeline', 'v', '--track', 'emb', '--vector', '1,0.2,0', '--k', '3'];
  const indexed = dreamdb(...query, '--rerank', '3');
  assert.equal(indexed.code, 0, indexed.stderr);
  const exact = dreamdb(...query, '--exact');
  assert.equal(exact.code, 0, exact.stderr);
  assert.deepEqual(
    indexed.lines.map((h) => [h.tick, h.score]),
    exact.lines.map((h) => [h.tick, h.score]),
  );
  assert.deepEqual(
    exact.lines.map((h) => h.tick),
    ['3000000000', '1000000000', '2000000000'],
  );
  const refusals: [string[], RegExp][] = [
    [['--probes', '0'], /^dreamdb: --probes "0" is not a positive integer\n$/],
    [
      ['--probes', '2'],
      /^dreamdb: E_BAD_REQUEST: probes apply to dreamdb\.lsh-cosine indexes; this track's index is dreamdb\.vamana-cosine/,
    ],
    [['--rerank', '2'], /^dreamdb: --rerank 2 is under --k \(3\)\n$/],
    [['--exact', '--probes', '2'], /^dreamdb: --probes and --rerank tune the index: not with --exact\n$/],
    [['--index', 'abc'], /^dreamdb: --index "abc" is not a spatial index lineage/],
    [
      ['--index', `1e20${'0'.repeat(64)}`],
      /^dreamdb: E_LINEAGE: .*1e200{64}: results would not be comparable/,
    ],
    [['--like', '2s'], /^dreamdb: give one of --vector and --like\n$/],
    [['--from', '5s', '--to', '1s'], /^dreamdb: --to 1s must be after --from 5s\n$/],
  ];
  for (const [args, message] of refusals) {
    const refused = dreamdb(...query, ...args);
    assert.equal(refused.code, 2, args.join(' '));
    assert.match(refused.stderr, message, args.join(' '));
    assert.equal(refused.stdout, '');
  }
});

test('text finds a stemmed word with its matches; hybrid ranks a caption whose frames look alike first', () => {
  const captions = join(dir, 'captions.jsonl');
  writeFileSync(
    captions,
    ['the runner was running fast', 'a quiet kitchen scene', 'dogs barking', 'cooking pasta in the kitchen']
      .map((text, i) => JSON.stringify({ tick: `${4 * i}s`, duration: '4s', payload: { text } }))
      .join('\n'),
  );
  const frames = join(dir, 'frames.jsonl');
  const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('hex');
  writeFileSync(
    frames,
    Array.from({ length: 16 }, (_, i) =>
      JSON.stringify({
        tick: `${i}s`,
        payload: { $bytes: f32(...[0, 1, 2, 3].map((a) => (a === i >> 2 ? 1 : 0.01 * (i + 1)))) },
      }),
    ).join('\n'),
  );
  for (const [track, modality, file] of [
    ['captions', 'text.cue', captions],
    ['frames', 'vector.f32;dim=4', frames],
  ] as const) {
    const written = dreamdb(
      'write',
      '--timeline',
      'talk',
      '--track',
      track,
      '--modality',
      modality,
      '--file',
      file,
    );
    assert.equal(written.code, 0, written.stderr);
  }

  const text = dreamdb('text', '--timeline', 'talk', '--query', 'runs');
  assert.equal(text.code, 0, text.stderr);
  assert.deepEqual(
    text.lines.map((h) => [h.track, h.tick, h.duration, h.matches]),
    [['captions', '0', '4000000000', [{ term: 'run', fields: ['text'] }]]],
  );
  assert.ok(text.lines[0].score > 0);
  const windowed = dreamdb('text', '--timeline', 'talk', '--query', 'kitchen', '--from', '8s', '--k', '5');
  assert.deepEqual(
    windowed.lines.map((h) => h.tick),
    ['12000000000'],
  );

  const fused = dreamdb('hybrid', '--timeline', 'talk', '--text', 'kitchen', '--like', '13s', '--k', '3');
  assert.equal(fused.code, 0, fused.stderr);
  const [top] = fused.lines;
  assert.deepEqual([top.track, top.tick], ['captions', '12000000000']);
  assert.deepEqual(top.matched.text.terms, [{ term: 'kitchen', fields: ['text'] }]);
  assert.deepEqual([top.matched.vector.rank, top.matched.vector.tick], [1, '13000000000']);
  const vectorOnly = dreamdb(
    'hybrid',
    '--timeline',
    'talk',
    '--vector',
    '0,0,0,1',
    '--vector-track',
    'frames',
    '--exact',
    '--k',
    '1',
    '--vector-weight',
    '2',
    '--rrf-k',
    '0',
  );
  assert.equal(vectorOnly.code, 0, vectorOnly.stderr);
  assert.deepEqual(
    vectorOnly.lines.map((h) => [h.track, h.tick, h.score, Object.keys(h.matched)]),
    [['frames', '12000000000', 2, ['vector']]],
  );

  const refusals: [string[], RegExp][] = [
    [['text', '--timeline', 'talk', '--query', ' '], /^dreamdb: --query is empty/],
    [['text', '--timeline', 'talk', '--query', 'the'], /^dreamdb: E_BAD_REQUEST: text query "the"/],
    [
      ['text', '--timeline', 'talk', '--query', 'x', '--k', '0'],
      /^dreamdb: --k "0" is not a positive integer/,
    ],
    [['text', '--timeline', 'talk', '--query', 'x', '--tracks', 'frames'], /has no text index/],
    [['hybrid', '--timeline', 'talk'], /^dreamdb: give --text, --vector or --like/],
    [
      ['hybrid', '--timeline', 'talk', '--vector', '1,0,0,0', '--like', '1s'],
      /^dreamdb: give --vector or --like, not both/,
    ],
    [
      ['hybrid', '--timeline', 'talk', '--text', 'x', '--rrf-k', '-1'],
      /^dreamdb: --rrf-k "-1" is not a number >= 0/,
    ],
    [
      ['hybrid', '--timeline', 'talk', '--vector', '1,x'],
      /^dreamdb: --vector: component 1 \("x"\) is not a number/,
    ],
    [
      ['hybrid', '--timeline', 'talk', '--like', 'soon'],
      /^dreamdb: E_TIME_FORMAT: --like: "soon" is not a time; give ticks \(123\), 16 hex digits/,
    ],
  ];
  for (const [args, message] of refusals) {
    const refused = dreamdb(...args);
    assert.equal(refused.code, 2, args.join(' '));
    assert.match(refused.stderr, message, args.join(' '));
  }
});

test("write --indexes declares a new track's indexes: none, or a text index its modality would not get; bad ones exit 2", () => {
  const file = join(dir, 'log.jsonl');
  writeFileSync(file, `${JSON.stringify({ tick: '1s', payload: { text: 'motor overheated' } })}\n`);
  const plain = dreamdb(
    'write',
    '--timeline',
    'ix',
    '--track',
    'log',
    '--modality',
    'sensor.log',
    '--file',
    file,
  );
  assert.equal(plain.code, 0, plain.stderr);
  // sensor.log gets no text index by default; asked for, one is built.
  const asked = dreamdb(
    'write',
    '--timeline',
    'ix',
    '--track',
    'log2',
    '--modality',
    'sensor.log',
    '--indexes',
    '{"dreamdb.text-bm25": {}}',
    '--file',
    file,
  );
  assert.equal(asked.code, 0, asked.stderr);
  const found = dreamdb('text', '--timeline', 'ix', '--query', 'motors', '--k', '3');
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(
    found.lines.map((h) => h.track),
    ['log2'],
  );
  // An annotation track gets one by default; {} asks for none.
  const none = dreamdb('write', '--timeline', 'ix', '--track', 'quiet', '--indexes', '{}', '--file', file);
  assert.equal(none.code, 0, none.stderr);
  const refused = dreamdb('text', '--timeline', 'ix', '--tracks', 'quiet', '--query', 'motor', '--k', '3');
  assert.equal(refused.code, 2, refused.stdout);
  assert.match(refused.stderr, /ix\/quiet .* has no text index/);
  for (const [indexes, why] of [
    ['{"dreamdb.text-bm25": {"analyzer": "x"}}', /--indexes: .*analyzer x is not dreamdb\.text-en-1/],
    ['{"com.acme.x": {}}', /--indexes: index scheme "com\.acme\.x" is not known to this engine/],
    ['[1]', /--indexes must be a JSON object/],
    ['{', /--indexes "\{" is not JSON/],
  ] as const) {
    const bad = dreamdb('write', '--timeline', 'ix', '--track', 'bad', '--indexes', indexes, '--file', file);
    assert.equal(bad.code, 2, `${indexes}: ${bad.stderr}`);
    assert.match(bad.stderr, why);
  }
});
