import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  decodeCanonical,
  EngineError,
  encodeCanonical,
  encodeVector,
  formatRfc3339,
  toHex,
} from '@dreamdb/engine';
import { FsStore } from '@dreamdb/engine/node';
import { MemoryStore, type ObjectStore } from '@dreamdb/engine/store';
import { serve } from '@hono/node-server';
import { FORMS_OF_3_5_S } from '../../testing/time-forms.js';
import { createOrigin } from '../app.js';

/**
 * The verb routes over real HTTP on loopback, against an FsStore in a temp dir: publish, resolve, read,
 * range, stream, search, write, collect, and every kind of bad input refused with a 4xx that names the
 * field, leaving the ref and the stored objects as they were.
 */

const S = 1_000_000_000n;
const GENESIS = '1795600000000000000';
const dir = mkdtempSync(join(tmpdir(), 'dreamdb-verbs-'));
const storeDir = join(dir, 'store');
let base = '';
let close: () => Promise<void>;

/** A unit vector pointing mostly along axis i % 4, so the nearest neighbour of each axis is known. */
const vectorOf = (i: number) => [0, 1, 2, 3].map((a) => (a === i % 4 ? 1 : 0.01 * (i + 1)));

/** Serve an origin over `store` on an ephemeral loopback port. */
async function start(store: ObjectStore): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = serve({ fetch: createOrigin({ store }).fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A client refused mid-upload (the 413s) may hold its connection until keep-alive times out.
        (server as import('node:http').Server).closeAllConnections();
      }),
  };
}

before(async () => {
  const store = await FsStore.open(storeDir);
  const served = await start(store);
  base = served.url;
  close = async () => {
    await served.stop();
    await store.close();
  };
});
after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

const api = (path: string, init?: RequestInit) => fetch(`${base}/v0/spaces${path}`, init);

/** A decoded JSON answer: the tests check it field by field. */
// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and asserted
type Answer = { status: number; json: any };

/** POST a JSON body; the answer's status and decoded JSON. */
async function post(path: string, body: unknown): Promise<Answer> {
  const response = await api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function get(path: string): Promise<Answer> {
  const response = await api(path);
  return { status: response.status, json: await response.json() };
}

/** Where main of a space is now (null when absent). */
async function mainOf(space = 'lab'): Promise<string | null> {
  const { status, json } = await get(`/${space}/refs/main`);
  return status === 200 ? json.manifest : null;
}

/** Every file in the store: what "nothing changed" is checked against. */
function storedFiles(): string[] {
  return (readdirSync(storeDir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(storeDir, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('tmp'))
    .sort();
}

const notes = Array.from({ length: 24 }, (_, i) => ({
  tick: `${i}s`,
  payload: { text: `note ${i}`, n: i, raw: { $bytes: toHex(new Uint8Array([i, 255])) } },
}));
const vectors = Array.from({ length: 24 }, (_, i) => ({
  tick: String(BigInt(i) * S),
  payload: { $bytes: toHex(encodeVector(vectorOf(i))) },
}));

/** Four captions of 4 s each; two say "kitchen". */
const captions = [
  'the runner was running fast',
  'a quiet kitchen scene',
  'dogs barking in the park',
  'cooking pasta in the kitchen',
].map((text, i) => ({ tick: `${4 * i}s`, duration: '4s', payload: { text } }));
/** A frame vector a second, each caption's frames along their own axis (0 for the first caption). */
const frames = Array.from({ length: 16 }, (_, i) => ({
  tick: `${i}s`,
  payload: {
    vector: { $bytes: toHex(encodeVector([0, 1, 2, 3].map((a) => (a === i >> 2 ? 1 : 0.01 * (i + 1))))) },
  },
}));

describe('the verb routes', () => {
  let first = '';

  test('publish creates a space in one request: timelines, tracks, items; resolve shows it', async () => {
    const { status, json } = await post('/lab/publish', {
      ref: 'main',
      expect: null,
      message: 'first',
      timelines: [{ name: 's1', genesis: GENESIS }],
      tracks: [
        { timeline: 's1', name: 'notes', kind: 'event', modality: 'event.annotation' },
        // LSH, named (the default of a vector track is the graph, tested below): its knobs are tested here.
        {
          timeline: 's1',
          name: 'emb',
          kind: 'event',
          modality: 'vector.f32;dim=4',
          bucketDuration: '10s',
          indexes: { 'dreamdb.lsh-cosine': {} },
        },
      ],
      writes: [
        { timeline: 's1', track: 'notes', items: notes },
        { timeline: 's1', track: 'emb', items: vectors },
      ],
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.previous, null);
    assert.equal(json.items, 48);
    assert.equal(json.moved, true);
    assert.ok(json.objectsWritten > 2);
    first = json.manifest;

    const resolved = await get('/lab/refs/main');
    assert.equal(resolved.status, 200);
    assert.equal(resolved.json.manifest, first);
    assert.equal(resolved.json.message, 'first');
    assert.deepEqual(resolved.json.parents, []);
    assert.deepEqual(resolved.json.timelines, [{ name: 's1', genesis: GENESIS }]);
    const emb = resolved.json.tracks.find((t: { name: string }) => t.name === 'emb');
    assert.deepEqual(
      { items: emb.items, first: emb.first, last: emb.last, bucketDuration: emb.bucketDuration },
      { items: 24, first: '0', last: String(23n * S), bucketDuration: String(10n * S) },
    );
    // By hash: the same document, cached forever.
    const byHash = await api(`/lab/refs/${first}`);
    assert.equal(byHash.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(((await byHash.json()) as { manifest: string }).manifest, first);

    const listing = await get('/lab/timelines/s1/tracks');
    assert.deepEqual(
      listing.json.tracks.map((t: { name: string; kind: string; items: number }) => [
        t.name,
        t.kind,
        t.items,
      ]),
      [
        ['emb', 'event', 24],
        ['notes', 'event', 24],
      ],
    );
    const one = await get('/lab/timelines/s1/tracks/notes');
    assert.equal(one.json.track.modality, 'event.annotation');
    assert.equal(one.json.track.bucketDuration, String(60n * S)); // the default, as dreamdb write
  });

  test('read: the item at or before a tick, payload in JSON form; CBOR on request, checked by cbor2', async () => {
    const { status, json } = await get('/lab/timelines/s1/tracks/notes/items/3.5s');
    assert.equal(status, 200);
    assert.equal(json.tick, String(3n * S));
    assert.equal(json.duration, '0');
    assert.deepEqual(json.payload, { text: 'note 3', n: 3, raw: { $bytes: '03ff' } });
    assert.match(json.address, /^dreamdb:\/\/lab\/1e20[0-9a-f]{64}#bytes:\d+-\d+$/);
    // The url and range serve exactly the item's bytes.
    const bytes = await fetch(`${base}${json.url}`, {
      headers: { range: `bytes=${json.range.start}-${json.range.end - 1}` },
    });
    assert.equal(bytes.status, 206);
    assert.equal((await bytes.arrayBuffer()).byteLength, json.bytes);

    const response = await api('/lab/timelines/s1/tracks/notes/items/3.5s', {
      headers: { accept: 'application/cbor' },
    });
    assert.equal(response.headers.get('content-type'), 'application/cbor');
    const cbor = new Uint8Array(await response.arrayBuffer());
    const item = decodeCanonical(cbor) as { tick: bigint | number; payload: { raw: Uint8Array } };
    assert.equal(BigInt(item.tick), 3n * S);
    assert.deepEqual(item.payload.raw, new Uint8Array([3, 255]));
    // An independent decoder agrees: integers for ticks, a byte string for the bytes.
    const checked = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import cbor2,sys,json; d=cbor2.loads(sys.stdin.buffer.read()); p=d["payload"]; print(json.dumps([d["tick"], d["track"], p["text"], p["raw"].hex()]))',
      ],
      { input: cbor },
    ).toString();
    assert.deepEqual(JSON.parse(checked), [Number(3n * S), 'notes', 'note 3', '03ff']);

    const nothing = await get('/lab/timelines/s1/tracks/notes/items/0?ref=main');
    assert.equal(nothing.json.payload.text, 'note 0');
  });

  test('range pages with a cursor through every item, in (tick, track) order', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v0/spaces/lab/timelines/s1/items?from=2s&to=20s&limit=7';
    let pages = 0;
    while (next) {
      const response: Response = await fetch(`${base}${next}`);
      assert.equal(response.status, 200);
      const page = (await response.json()) as { items: { tick: string; track: string }[]; next?: string };
      assert.ok(page.items.length <= 7);
      seen.push(...page.items.map((i) => `${BigInt(i.tick) / S}/${i.track}`));
      next = page.next;
      pages++;
    }
    const expected = [];
    for (let s = 2; s < 20; s++) expected.push(`${s}/emb`, `${s}/notes`);
    assert.deepEqual(seen, expected);
    assert.equal(pages, Math.ceil(36 / 7));
    const one = await get('/lab/timelines/s1/items?tracks=notes&from=5s&to=6s');
    assert.deepEqual(
      one.json.items.map((i: { track: string }) => i.track),
      ['notes'],
    );
    assert.equal(one.json.cursor, undefined);
  });

  test('time arguments: ticks, hex, numbers with a unit and RFC 3339 name the same instants in paths, queries and bodies', async () => {
    // RFC 3339 is read against the timeline's genesis (s1 has one).
    const wall = (ticks: bigint) => encodeURIComponent(formatRfc3339(BigInt(GENESIS) + ticks));
    for (const tick of [...FORMS_OF_3_5_S, wall(3_500_000_000n)]) {
      const { status, json } = await get(
        `/lab/timelines/s1/tracks/notes/items/${encodeURIComponent(decodeURIComponent(tick))}`,
      );
      assert.equal(status, 200, `${tick}: ${JSON.stringify(json)}`);
      assert.equal(json.tick, String(3n * S), tick);
    }
    const ticksOf = (json: { items: { tick: string }[] }) => json.items.map((i) => i.tick);
    const window = await get('/lab/timelines/s1/items?tracks=notes&from=5s&to=7s');
    assert.deepEqual(ticksOf(window.json), [String(5n * S), String(6n * S)]);
    for (const query of [
      'from=5000ms&to=7000000us',
      `from=${wall(5n * S)}&to=${wall(7n * S)}`,
      'from=000000012a05f200&to=7000000000',
    ])
      assert.deepEqual(
        ticksOf((await get(`/lab/timelines/s1/items?tracks=notes&${query}`)).json),
        ticksOf(window.json),
        query,
      );
    // Bodies: the same suffixes (a decimal string is ticks; hex and RFC 3339 are not taken there).
    const like = await post('/lab/search', { timeline: 's1', track: 'emb', like: '2s', k: 1 });
    for (const form of ['2000ms', '2000000us', '2000000000']) {
      const same = await post('/lab/search', { timeline: 's1', track: 'emb', like: form, k: 1 });
      assert.equal(same.status, 200, JSON.stringify(same.json));
      assert.deepEqual(same.json.hits, like.json.hits, form);
    }
    const refusals: [string, Promise<Answer>, RegExp][] = [
      [
        'a bare fraction in a path',
        get('/lab/timelines/s1/tracks/notes/items/3.5'),
        /^tick: "3.5" has no unit/,
      ],
      [
        'a space before the unit',
        get('/lab/timelines/s1/items?from=5%20ms'),
        /^from: "5 ms" is not a time; give ticks/,
      ],
      [
        'before the genesis',
        get(`/lab/timelines/s1/items?from=${encodeURIComponent(formatRfc3339(BigInt(GENESIS) - S))}`),
        /^from: .* is before the timeline's genesis/,
      ],
      [
        'RFC 3339 in a body',
        post('/lab/search', { timeline: 's1', track: 'emb', like: '2026-11-24T00:00:00Z' }),
        /^like: "2026-11-24T00:00:00Z" is an RFC 3339 time, which needs a timeline's genesis/,
      ],
    ];
    for (const [what, answer, message] of refusals) {
      const { status, json } = await answer;
      assert.equal(status, 400, what);
      assert.match(json.message, message, what);
    }
  });

  test('stream: NDJSON line by line, and a CBOR sequence that cbor2 reads', async () => {
    const response = await api('/lab/timelines/s1/stream?from=10s&tracks=notes,emb');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 28);
    assert.deepEqual(
      lines.slice(0, 3).map((l) => [l.tick, l.track]),
      [
        [String(10n * S), 'emb'],
        [String(10n * S), 'notes'],
        [String(11n * S), 'emb'],
      ],
    );
    const limited = await api('/lab/timelines/s1/stream?tracks=notes&limit=3', {
      headers: { accept: 'application/cbor-seq' },
    });
    assert.equal(limited.headers.get('content-type'), 'application/cbor-seq');
    const seq = new Uint8Array(await limited.arrayBuffer());
    const texts = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import cbor2,sys,io,json\nf=io.BytesIO(sys.stdin.buffer.read())\nout=[]\nwhile f.tell()<len(f.getbuffer()): out.append(cbor2.load(f)["payload"]["text"])\nprint(json.dumps(out))',
      ],
      { input: seq },
    ).toString();
    assert.deepEqual(JSON.parse(texts), ['note 0', 'note 1', 'note 2']);
  });

  test('search: the nearest vectors by cosine, from a vector or like an item', async () => {
    const { status, json } = await post('/lab/search', {
      timeline: 's1',
      track: 'emb',
      vector: [0, 0, 1, 0],
      k: 3,
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.hits.length, 3);
    // Axis 2 vectors are ticks 2, 6, 10, ...; the smallest off-axis noise is the closest.
    assert.equal(json.hits[0].tick, String(2n * S));
    assert.ok(json.hits[0].score > json.hits[2].score);
    const like = await post('/lab/search', { timeline: 's1', track: 'emb', like: '5s', k: 1, from: '4s' });
    assert.equal(like.json.hits[0].tick, String(5n * S));
    assert.equal(like.json.hits[0].score, 1);
  });

  test('search by the vector index: the hits an exact scan gives, with the same scores; the answer says how', async () => {
    const query = { timeline: 's1', track: 'emb', vector: [0.2, 0.1, 1, 0.05], k: 6 };
    const exact = await post('/lab/search', { ...query, exact: true });
    assert.equal(exact.status, 200, JSON.stringify(exact.json));
    assert.equal(exact.json.exact, true);
    assert.equal(exact.json.index, undefined);
    // Every lookup the index allows (probes = bits + 1) on a small track: the exact answer.
    const indexed = await post('/lab/search', { ...query, probes: 17, rerank: 24 });
    assert.equal(indexed.status, 200, JSON.stringify(indexed.json));
    assert.equal(indexed.json.exact, undefined);
    const { index } = indexed.json;
    assert.equal(index.scheme, 'dreamdb.lsh-cosine');
    assert.match(index.params.lineage, /^1e20[0-9a-f]{64}$/);
    assert.deepEqual([index.params.tables, index.params.bits, index.probes, index.rerank], [32, 16, 17, 24]);
    const ticksOf = (hits: { tick: string; score: number }[]) => hits.map((h) => [h.tick, h.score]);
    assert.deepEqual(ticksOf(indexed.json.hits), ticksOf(exact.json.hits));
    // The default probes: whatever it finds scores exactly as the scan scores that tick.
    const plain = await post('/lab/search', query);
    assert.equal(plain.json.index.probes, 17, 'the default index probes every bit');
    const exactScore = new Map(
      (await post('/lab/search', { ...query, k: 24, exact: true })).json.hits.map(
        (h: { tick: string; score: number }) => [h.tick, h.score],
      ),
    );
    assert.ok(plain.json.hits.length > 0);
    for (const hit of plain.json.hits) assert.equal(hit.score, exactScore.get(hit.tick), hit.tick);
    assert.equal(plain.json.hits[0].tick, exact.json.hits[0].tick);
    // CBOR both ways: the same hits, ticks as integers.
    const cbor = await api('/lab/search', {
      method: 'POST',
      headers: { 'content-type': 'application/cbor', accept: 'application/cbor' },
      body: encodeCanonical({ ...query, probes: 17 }) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(cbor.status, 200);
    const decoded = decodeCanonical(new Uint8Array(await cbor.arrayBuffer())) as {
      index: { params: { lineage: string } };
      hits: { tick: bigint | number }[];
    };
    assert.equal(decoded.index.params.lineage, index.params.lineage);
    assert.deepEqual(
      decoded.hits.map((h) => String(h.tick)),
      exact.json.hits.map((h: { tick: string }) => h.tick),
    );
  });

  test('a vector track written without indexes gets the graph index; search answers by it, exactly on a small track', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [Math.cos(i), Math.sin(i), (i % 7) / 7, 1]);
    const write = await post('/lab/publish', {
      ref: 'heads/graph',
      expect: null,
      timelines: [{ name: 'g1', genesis: GENESIS }],
      tracks: [{ timeline: 'g1', name: 'emb', kind: 'event', modality: 'vector.f32;dim=4' }],
      writes: [{ timeline: 'g1', track: 'emb', items: rows.map((v, i) => ({ tick: `${i}s`, payload: v })) }],
    });
    assert.equal(write.status, 200, JSON.stringify(write.json));
    const listing = await get('/lab/timelines/g1?ref=heads/graph');
    const emb = listing.json.tracks.find((t: { name: string }) => t.name === 'emb');
    assert.deepEqual(Object.keys(emb.indexes), ['dreamdb.vamana-cosine']);
    const graph = emb.indexes['dreamdb.vamana-cosine'];
    assert.deepEqual(
      [graph.role, graph.params.degree, graph.params.buildList, graph.params.alpha, graph.params.searchList],
      ['vector', 32, 64, 1.2, 64],
    );
    const query = { ref: 'heads/graph', timeline: 'g1', track: 'emb', vector: [0.3, 0.9, 0.5, 1], k: 5 };
    const exact = await post('/lab/search', { ...query, exact: true });
    const indexed = await post('/lab/search', { ...query, rerank: 16 });
    assert.equal(indexed.status, 200, JSON.stringify(indexed.json));
    assert.equal(indexed.json.index.scheme, 'dreamdb.vamana-cosine');
    assert.equal(indexed.json.index.rerank, 16);
    const pairs = (hits: { tick: string; score: number }[]) => hits.map((h) => [h.tick, h.score]);
    assert.deepEqual(pairs(indexed.json.hits), pairs(exact.json.hits));
    const probes = await post('/lab/search', { ...query, probes: 3 });
    assert.equal(probes.status, 400, JSON.stringify(probes.json));
    assert.match(probes.json.message, /probes apply to dreamdb\.lsh-cosine/);
    const bad = await post('/lab/write', {
      base: null,
      timelines: [{ name: 'g2' }],
      tracks: [
        {
          timeline: 'g2',
          name: 'emb',
          kind: 'event',
          modality: 'vector.f32;dim=4',
          indexes: { 'dreamdb.vamana-cosine': { degree: 0 } },
        },
      ],
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.match(
      bad.json.message,
      /indexes\.dreamdb\.vamana-cosine: graph degree 0 must be an integer from 2/,
    );
  });

  test('search pins the index lineage: the right one answers, another is 409 naming both', async () => {
    const listing = await get('/lab/timelines/s1');
    const emb = listing.json.tracks.find((t: { name: string }) => t.name === 'emb');
    const lsh = emb.indexes['dreamdb.lsh-cosine'];
    assert.deepEqual([lsh.scheme, lsh.role], ['dreamdb.lsh-cosine', 'vector']);
    assert.match(lsh.params.lineage, /^1e20[0-9a-f]{64}$/);
    assert.deepEqual([lsh.params.dimension, lsh.params.bits], [4, 16]);
    assert.ok(lsh.segments >= 1);
    assert.equal(emb.indexes['dreamdb.text-bm25'], undefined);
    const notes = listing.json.tracks.find((t: { name: string }) => t.name === 'notes');
    assert.ok(notes.indexes['dreamdb.text-bm25'].segments >= 1, JSON.stringify(notes));
    assert.equal(notes.indexes['dreamdb.text-bm25'].role, 'text');
    assert.equal(notes.indexes['dreamdb.lsh-cosine'], undefined);
    const verbListing = await get('/lab/timelines/s1/tracks/emb');
    assert.equal(verbListing.json.track.indexes['dreamdb.lsh-cosine'].params.lineage, lsh.params.lineage);
    const lineage: string = lsh.params.lineage;

    const query = { timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], k: 2 };
    const pinned = await post('/lab/search', { ...query, index: lineage });
    assert.equal(pinned.status, 200, JSON.stringify(pinned.json));
    assert.equal(pinned.json.index.params.lineage, lineage);
    const other = `1e20${'ab'.repeat(32)}`;
    const refused = await post('/lab/search', { ...query, index: other });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error, 'E_LINEAGE');
    assert.match(refused.json.message, /^index: /);
    assert.ok(refused.json.message.includes(lineage), refused.json.message);
    assert.ok(refused.json.message.includes(other), refused.json.message);
  });

  test('text: BM25 over captions and annotations finds a stemmed word, with what matched', async () => {
    const published = await post('/lab/publish', {
      ref: 'main',
      timelines: [{ name: 'talk', genesis: GENESIS }],
      tracks: [
        { timeline: 'talk', name: 'captions', kind: 'event', modality: 'text.cue' },
        { timeline: 'talk', name: 'marks', kind: 'event', modality: 'event.annotation' },
        { timeline: 'talk', name: 'frames', kind: 'event', modality: 'vector.f32;dim=4' },
      ],
      writes: [
        { timeline: 'talk', track: 'captions', items: captions },
        {
          timeline: 'talk',
          track: 'marks',
          items: [{ tick: '12s', duration: '4s', payload: { label: 'cooking', note: 'pasta for two' } }],
        },
        { timeline: 'talk', track: 'frames', items: frames },
      ],
    });
    assert.equal(published.status, 200, JSON.stringify(published.json));

    const { status, json } = await post('/lab/text', { timeline: 'talk', query: 'runs' });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.hits.length, 1);
    const [hit] = json.hits;
    assert.deepEqual(
      [hit.track, hit.tick, hit.hex, hit.duration],
      ['captions', '0', '0000000000000000', String(4n * S)],
    );
    assert.ok(hit.score > 0);
    assert.deepEqual(hit.matches, [{ term: 'run', fields: ['text'] }]);
    assert.equal(hit.item, `/v0/spaces/lab/timelines/talk/tracks/captions/items/0?ref=${json.manifest}`);
    assert.equal(hit.seek, `/v0/spaces/lab/timelines/talk/seek?t=0&ref=${json.manifest}`);
    const item = await get(hit.item.replace('/v0/spaces', ''));
    assert.equal(item.json.payload.text, 'the runner was running fast');

    // Captions and annotations both hold "pasta"; tracks and the window narrow it.
    const both = await post('/lab/text', { timeline: 'talk', query: 'pasta', k: 5 });
    assert.deepEqual(both.json.hits.map((h: { track: string }) => h.track).sort(), ['captions', 'marks']);
    const marks = await post('/lab/text', { timeline: 'talk', query: 'pasta', tracks: ['marks'] });
    assert.deepEqual(
      marks.json.hits.map((h: { track: string; matches: unknown }) => [h.track, h.matches]),
      [['marks', [{ term: 'pasta', fields: ['note'] }]]],
    );
    const windowed = await post('/lab/text', { timeline: 'talk', query: 'kitchen', from: '8s', to: '20s' });
    assert.deepEqual(
      windowed.json.hits.map((h: { tick: string }) => h.tick),
      [String(12n * S)],
    );
    // CBOR both ways: integer ticks in, integer ticks out.
    const cbor = await api('/lab/text', {
      method: 'POST',
      headers: { 'content-type': 'application/cbor', accept: 'application/cbor' },
      body: encodeCanonical({ timeline: 'talk', query: 'kitchen', from: 8n * S }) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(cbor.status, 200);
    const decoded = decodeCanonical(new Uint8Array(await cbor.arrayBuffer())) as {
      hits: { tick: bigint | number; matches: unknown }[];
    };
    assert.deepEqual(
      decoded.hits.map((h) => [BigInt(h.tick), h.matches]),
      [[12n * S, [{ term: 'kitchen', fields: ['text'] }]]],
    );
    // The listing says what the player can search.
    const listing = await get('/lab/timelines/talk');
    const searchable = Object.fromEntries(
      listing.json.tracks.map((t: { name: string; indexes?: Record<string, { role?: string }> }) => [
        t.name,
        [
          Object.values(t.indexes ?? {}).some((i) => i.role === 'text'),
          Object.values(t.indexes ?? {}).some((i) => i.role === 'vector'),
        ],
      ]),
    );
    assert.deepEqual(searchable, { captions: [true, false], frames: [false, true], marks: [true, false] });
  });

  test('hybrid: a frame like one inside a matching caption ranks that caption first, both matched', async () => {
    const { status, json } = await post('/lab/hybrid', {
      timeline: 'talk',
      text: 'kitchen',
      textTracks: ['captions'],
      like: '13s',
      k: 5,
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.vector.track, 'frames');
    assert.equal(json.vector.index.scheme, 'dreamdb.vamana-cosine');
    const [top] = json.hits;
    assert.deepEqual([top.track, top.tick, top.duration], ['captions', String(12n * S), String(4n * S)]);
    assert.equal(top.matched.text.rank, 2, 'the two kitchen captions tie on BM25: the earlier ranks first');
    assert.deepEqual(top.matched.text.terms, [{ term: 'kitchen', fields: ['text'] }]);
    assert.deepEqual([top.matched.vector.rank, top.matched.vector.tick], [1, String(13n * S)]);
    assert.equal(top.matched.vector.track, 'frames');
    assert.ok(Math.abs(top.matched.vector.score - 1) < 1e-6, 'the frame itself');
    assert.ok(top.score > json.hits[1].score);
    assert.equal(top.seek, `/v0/spaces/lab/timelines/talk/seek?t=${12n * S}&ref=${json.manifest}`);

    // Text alone, a vector alone (exact), and a label filter.
    const text = await post('/lab/hybrid', { timeline: 'talk', text: 'kitchen' });
    assert.deepEqual(
      text.json.hits.map((h: { tick: string; matched: object }) => [h.tick, Object.keys(h.matched)]),
      [
        [String(4n * S), ['text']],
        [String(12n * S), ['text']],
      ],
    );
    assert.equal(text.json.vector, undefined);
    const vector = await post('/lab/hybrid', {
      timeline: 'talk',
      vector: [0, 0, 0, 1],
      vectorTrack: 'frames',
      exact: true,
      k: 2,
    });
    assert.equal(vector.status, 200, JSON.stringify(vector.json));
    assert.equal(vector.json.vector.exact, true);
    assert.deepEqual(
      vector.json.hits.map((h: { track: string; tick: string }) => [h.track, h.tick]),
      [
        ['frames', String(12n * S)],
        ['frames', String(13n * S)],
      ],
    );
    const labelled = await post('/lab/hybrid', {
      timeline: 'talk',
      like: '1s',
      labels: ['cooking'],
      k: 10,
      weights: { vector: 2 },
      rrfK: 10,
    });
    assert.equal(labelled.status, 200, JSON.stringify(labelled.json));
    assert.ok(labelled.json.hits.length > 0);
    for (const hit of labelled.json.hits) {
      const tick = BigInt(hit.tick);
      assert.ok(tick >= 12n * S && tick < 16n * S, hit.tick);
    }
    assert.equal(labelled.json.hits[0].score, 2 / 11);
  });

  test('a track definition sets its indexes: the vector index parameters, a text index asked for; bad ones are 400', async () => {
    const write = await post('/lab/write', {
      base: null,
      timelines: [{ name: 'p1' }],
      tracks: [
        {
          timeline: 'p1',
          name: 'emb',
          kind: 'event',
          modality: 'vector.f32;dim=3',
          indexes: { 'dreamdb.lsh-cosine': { tables: 2, bits: 4, probes: 5, seed: '07'.repeat(32) } },
        },
        {
          timeline: 'p1',
          name: 'log',
          kind: 'event',
          modality: 'sensor.log',
          indexes: { 'dreamdb.text-bm25': {} },
        },
      ],
      writes: [
        {
          timeline: 'p1',
          track: 'emb',
          items: [
            { tick: '1s', payload: { vector: [1, 0, 0] } },
            { tick: '2s', payload: [0, 1, 0] },
          ],
        },
        { timeline: 'p1', track: 'log', items: [{ tick: '1s', payload: { text: 'motor overheated' } }] },
      ],
    });
    assert.equal(write.status, 200, JSON.stringify(write.json));
    const listing = await get(`/lab/timelines/p1?ref=${write.json.manifest}`);
    const tracks = Object.fromEntries(listing.json.tracks.map((t: { name: string }) => [t.name, t]));
    const lsh = tracks.emb.indexes['dreamdb.lsh-cosine'];
    assert.deepEqual(
      [lsh.params.tables, lsh.params.bits, lsh.params.probes, lsh.params.seed],
      [2, 4, 5, '07'.repeat(32)],
    );
    assert.deepEqual(Object.keys(tracks.emb.indexes), ['dreamdb.lsh-cosine'], 'only the indexes asked for');
    assert.equal(tracks.log.indexes['dreamdb.text-bm25'].segments, 1);
    // "motors" and "motor" share a stem.
    const found = await post('/lab/text', {
      ref: write.json.manifest,
      timeline: 'p1',
      query: 'motors',
      k: 3,
    });
    assert.equal(found.json.hits.length, 1, JSON.stringify(found.json));
    const near = await post('/lab/search', {
      ref: write.json.manifest,
      timeline: 'p1',
      track: 'emb',
      vector: [0, 1, 0.1],
      k: 1,
    });
    assert.equal(near.json.hits[0].tick, '2000000000');
    for (const [options, field] of [
      [{ bits: 40 }, /tracks\[0\]\.indexes\.dreamdb\.lsh-cosine\.bits/],
      [{ probes: 99 }, /tracks\[0\]\.indexes\.dreamdb\.lsh-cosine\.probes/],
      [{ seed: 'xyz' }, /tracks\[0\]\.indexes\.dreamdb\.lsh-cosine\.seed/],
      [{ tables: 2, bits: 4, probes: 6 }, /probes 6 must be an integer from 1 to 5/],
      [{ metric: 'l2' }, /tracks\[0\]\.indexes\.dreamdb\.lsh-cosine\.metric: unknown option/],
    ] as const) {
      const bad = await post('/lab/write', {
        base: null,
        timelines: [{ name: 'p1' }],
        tracks: [
          {
            timeline: 'p1',
            name: 'emb',
            kind: 'event',
            modality: 'vector.f32;dim=3',
            indexes: { 'dreamdb.lsh-cosine': options },
          },
        ],
      });
      assert.equal(bad.status, 400, JSON.stringify(bad.json));
      assert.match(bad.json.message, field);
    }
    const notVector = await post('/lab/write', {
      base: null,
      timelines: [{ name: 'p1' }],
      tracks: [
        {
          timeline: 'p1',
          name: 'log',
          kind: 'event',
          modality: 'sensor.log',
          indexes: { 'dreamdb.lsh-cosine': {} },
        },
      ],
    });
    assert.equal(notVector.status, 400);
    assert.match(
      notVector.json.message,
      /only event tracks of vector\.f32;dim=N have a dreamdb\.lsh-cosine index/,
    );
    const unknown = await post('/lab/write', {
      base: null,
      timelines: [{ name: 'p1' }],
      tracks: [
        { timeline: 'p1', name: 'log', kind: 'event', modality: 'sensor.log', indexes: { 'com.acme.x': {} } },
      ],
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.message, /index scheme "com\.acme\.x" is not known to this engine/);
  });

  test('write stores an unpublished manifest; publish moves the ref to it (fast-forward or expect)', async () => {
    const before = await mainOf();
    const write = await post('/lab/write', {
      message: 'two-step',
      writes: [{ timeline: 's1', track: 'notes', items: [{ tick: '30s', payload: 'late' }] }],
    });
    assert.equal(write.status, 200, JSON.stringify(write.json));
    assert.equal(write.json.base, before);
    assert.deepEqual(write.json.parents, [before]);
    assert.equal(await mainOf(), before, 'write moves no ref');
    // The unpublished version is readable by hash.
    const byHash = await get(`/lab/timelines/s1/tracks/notes/items/30s?ref=${write.json.manifest}`);
    assert.equal(byHash.json.payload, 'late');

    const published = await post('/lab/publish', { ref: 'main', manifest: write.json.manifest });
    assert.equal(published.status, 200, JSON.stringify(published.json));
    assert.equal(published.json.previous, before);
    assert.equal(await mainOf(), write.json.manifest);
    // A retry whose answer was lost: already there, nothing moves.
    const again = await post('/lab/publish', { ref: 'main', manifest: write.json.manifest });
    assert.equal(again.json.moved, false);

    // A second write on the old base is no longer a fast-forward of main.
    const stale = await post('/lab/write', { base: before, message: 'stale' });
    const refused = await post('/lab/publish', { ref: 'main', manifest: stale.json.manifest });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error, 'E_CONFLICT');
    assert.equal(refused.json.current, write.json.manifest);
    assert.match(refused.json.message, /not a fast-forward/);
    assert.equal(await mainOf(), write.json.manifest);
    // Named expectations: a wrong one is refused, the right one replaces.
    const wrong = await post('/lab/publish', { ref: 'main', manifest: stale.json.manifest, expect: before });
    assert.equal(wrong.status, 409);
    const forced = await post('/lab/publish', {
      ref: 'main',
      manifest: stale.json.manifest,
      expect: write.json.manifest,
    });
    assert.equal(forced.status, 200);
    assert.equal(await mainOf(), stale.json.manifest);
    // Put main back where it was for the next tests.
    const back = await post('/lab/publish', {
      ref: 'main',
      manifest: write.json.manifest,
      expect: stale.json.manifest,
    });
    assert.equal(back.status, 200);
  });

  test('publish a branch built on main; main does not move', async () => {
    const main = await mainOf();
    const branch = await post('/lab/publish', {
      ref: 'heads/exp',
      base: 'main',
      writes: [{ timeline: 's1', track: 'notes', items: [{ tick: 40, payload: 'branch' }] }],
    });
    assert.equal(branch.status, 200, JSON.stringify(branch.json));
    assert.deepEqual(branch.json.parents, [main]);
    assert.equal(await mainOf(), main);
    const resolved = await get('/lab/refs/heads/exp');
    assert.equal(resolved.json.ref, 'heads/exp');
    assert.equal(resolved.json.manifest, branch.json.manifest);
    const encoded = await get('/lab/refs/heads%2Fexp');
    assert.equal(encoded.json.manifest, branch.json.manifest);
    const read = await get('/lab/timelines/s1/tracks/notes/items/40?ref=heads/exp');
    assert.equal(read.json.payload, 'branch');
  });

  test('a stream track: fragments as bytes, the init segment inline, raw bytes with Accept: octet-stream', async () => {
    const fragment = (i: number) => new Uint8Array(64).fill(i);
    const { status, json } = await post('/lab/publish', {
      ref: 'main',
      tracks: [
        {
          timeline: 's1',
          name: 'cam',
          kind: 'stream',
          modality: 'video.h264',
          rate: '90000',
          codecs: 'avc1.64001f',
          init: { $bytes: 'cafe' },
        },
      ],
      writes: [
        {
          timeline: 's1',
          track: 'cam',
          items: [0, 1, 2].map((i) => ({
            tick: `${i * 2}s`,
            duration: '2s',
            payload: { $bytes: toHex(fragment(i)) },
          })),
        },
      ],
    });
    assert.equal(status, 200, JSON.stringify(json));
    const raw = await api('/lab/timelines/s1/tracks/cam/items/3s', {
      headers: { accept: 'application/octet-stream' },
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('x-dreamdb-tick'), String(2n * S));
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), fragment(1));
    const track = await get('/lab/timelines/s1/tracks/cam');
    assert.equal(track.json.track.rate, '90000/1');
    const notBytes = await api('/lab/timelines/s1/tracks/notes/items/3s', {
      headers: { accept: 'application/octet-stream' },
    });
    assert.equal(notBytes.status, 406);
  });

  test('collect: a dry run lists an unpublished write and deletes nothing; apply needs the full grace', async () => {
    const orphan = await post('/lab/write', {
      writes: [{ timeline: 's1', track: 'notes', items: [{ tick: '50s', payload: 'orphan' }] }],
    });
    const files = storedFiles();
    const { status, json } = await post('/lab/collect', { grace: '0s' });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.applied, false);
    assert.ok(json.objects.includes(orphan.json.manifest));
    assert.ok(json.unreachable >= 1);
    assert.deepEqual(storedFiles(), files);
    const refused = await post('/lab/collect', { apply: true, grace: '10s' });
    assert.equal(refused.status, 400);
    assert.match(refused.json.message, /^grace: /);
    const safe = await post('/lab/collect', { apply: true });
    assert.equal(safe.status, 200);
    assert.equal(safe.json.unreachable, 0, 'everything unreachable is younger than an hour');
  });
});

describe('bad input: a clear 4xx naming the field, and nothing stored changes', () => {
  const item = (tick: unknown) => ({
    ref: 'main',
    writes: [{ timeline: 's1', track: 'notes', items: [{ tick, payload: 1 }] }],
  });
  const json = (body: unknown) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const cases: [string, string, RequestInit | undefined, number, RegExp][] = [
    [
      'bad tick',
      '/lab/publish',
      json(item('soon')),
      400,
      /^writes\[0\]\.items\[0\]\.tick: "soon" is not a time; give ticks \(123\), a number with a unit/,
    ],
    ['negative tick', '/lab/publish', json(item(-5)), 400, /^writes\[0\]\.items\[0\]\.tick: .*negative/],
    [
      'tick past 2^64-1',
      '/lab/publish',
      json(item('18446744073709551616')),
      400,
      /items\[0\]\.tick: .*last tick/,
    ],
    ['unsafe number tick', '/lab/publish', json(item(2 ** 60)), 400, /items\[0\]\.tick: .*safe integer/],
    ['unknown field', '/lab/publish', json({ ref: 'main', colour: 'red' }), 400, /^colour: unknown field/],
    [
      'missing payload',
      '/lab/publish',
      json({ ref: 'main', writes: [{ timeline: 's1', track: 'notes', items: [{ tick: 1 }] }] }),
      400,
      /^writes\[0\]\.items\[0\]\.payload: required/,
    ],
    [
      'bad $bytes',
      '/lab/publish',
      json({
        ref: 'main',
        writes: [{ timeline: 's1', track: 'notes', items: [{ tick: 1, payload: { $bytes: 'xyz' } }] }],
      }),
      400,
      /^writes\[0\]\.items\[0\]\.payload: .*hex/,
    ],
    ['missing ref', '/lab/publish', json({}), 400, /^ref: /],
    ['bad ref name', '/lab/publish', json({ ref: '../x' }), 400, /^ref: must be/],
    [
      'malformed expect',
      '/lab/publish',
      json({ ref: 'main', expect: 'abc' }),
      400,
      /^expect: must be a BLAKE3 multihash/,
    ],
    [
      'malformed manifest hash',
      '/lab/publish',
      json({ ref: 'main', manifest: '1e20zz' }),
      400,
      /^manifest: must be/,
    ],
    [
      'manifest with a batch',
      '/lab/publish',
      json({ ref: 'main', manifest: `1e20${'0'.repeat(64)}`, message: 'x' }),
      400,
      /^message: not allowed with manifest/,
    ],
    [
      'unknown manifest',
      '/lab/publish',
      json({ ref: 'main', manifest: `1e20${'0'.repeat(64)}` }),
      404,
      /manifest 1e200+ is not in space lab/,
    ],
    [
      'unknown track',
      '/lab/publish',
      json({ ref: 'main', writes: [{ timeline: 's1', track: 'nope', items: [{ tick: 1, payload: 1 }] }] }),
      404,
      /^writes\[0\]: track s1\/nope is not defined/,
    ],
    [
      'track on an unknown timeline',
      '/lab/publish',
      json({ ref: 'main', tracks: [{ timeline: 'nope', name: 'x', kind: 'event', modality: 'event.x' }] }),
      404,
      /^tracks\[0\]: .*timeline nope/,
    ],
    [
      'kind change',
      '/lab/publish',
      json({
        ref: 'main',
        tracks: [{ timeline: 's1', name: 'notes', kind: 'constant', modality: 'event.annotation' }],
      }),
      400,
      /^tracks\[0\]: .*cannot become constant/,
    ],
    [
      'stream track without a rate',
      '/lab/publish',
      json({ ref: 'main', tracks: [{ timeline: 's1', name: 'v', kind: 'stream', modality: 'video.h264' }] }),
      400,
      /^tracks\[0\]\.rate: /,
    ],
    [
      'bad modality',
      '/lab/publish',
      json({ ref: 'main', tracks: [{ timeline: 's1', name: 'v', kind: 'event', modality: 'Not A Tag' }] }),
      400,
      /^tracks\[0\]\.modality: /,
    ],
    [
      'track name with a slash',
      '/lab/publish',
      json({ ref: 'main', tracks: [{ timeline: 's1', name: '../x', kind: 'event', modality: 'event.x' }] }),
      400,
      /^tracks\[0\]\.name: must be/,
    ],
    [
      'stream time going back',
      '/lab/publish',
      json({
        ref: 'main',
        writes: [
          {
            timeline: 's1',
            track: 'cam',
            items: [{ tick: '1s', duration: '1s', payload: { $bytes: '00' } }],
          },
        ],
      }),
      400,
      /^writes\[0\]: .*stream time must increase/,
    ],
    [
      'stale expect',
      '/lab/publish',
      json({ ref: 'main', expect: `1e20${'1'.repeat(64)}` }),
      409,
      /not at 1e201+ as expected/,
    ],
    ['expect null on an existing ref', '/lab/publish', json({ ref: 'main', expect: null }), 409, /exists/],
    [
      'unknown base',
      '/lab/publish',
      json({ ref: 'main', base: 'heads/none' }),
      404,
      /has no ref heads\/none/,
    ],
    ['unknown parent', '/lab/write', json({ parents: [`1e20${'2'.repeat(64)}`] }), 404, /^parents\[0\]: /],
    [
      'malformed JSON',
      '/lab/publish',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ref": "main",' },
      400,
      /^body: not valid JSON/,
    ],
    [
      'malformed CBOR',
      '/lab/publish',
      { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: new Uint8Array([0xa1, 0x63]) },
      400,
      /^body: not deterministic CBOR/,
    ],
    [
      'wrong content type',
      '/lab/publish',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"ref":"main"}' },
      415,
      /Content-Type text\/plain/,
    ],
    [
      'oversize body',
      '/lab/publish',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(16 * 1024 * 1024 + 1),
      },
      413,
      /^body: over the limit of 16777216 bytes/,
    ],
    [
      'search: wrong dimension',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 2] }),
      400,
      /^vector: .*4-dimensional/,
    ],
    [
      'search: not a vector track',
      '/lab/search',
      json({ timeline: 's1', track: 'notes', vector: [1] }),
      400,
      /^track: .*not a vector track/,
    ],
    [
      'search: no query',
      '/lab/search',
      json({ timeline: 's1', track: 'emb' }),
      400,
      /^vector: give exactly one/,
    ],
    [
      'search: bad k',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], k: 0 }),
      400,
      /^k: /,
    ],
    [
      'search: probes 0',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], probes: 0 }),
      400,
      /^probes: /,
    ],
    [
      'search: probes past bits + 1',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], probes: 18 }),
      400,
      /^probes: .*from 1 to 17/,
    ],
    [
      'search: rerank under k',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], k: 5, rerank: 3 }),
      400,
      /^rerank: 3 is under k \(5\)/,
    ],
    [
      'search: probes with exact',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], exact: true, probes: 2 }),
      400,
      /^probes: not with exact/,
    ],
    [
      'search: bad index hex',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], index: '1e20abc' }),
      400,
      /^index: must be a spatial index lineage/,
    ],
    [
      'search: exact not a boolean',
      '/lab/search',
      json({ timeline: 's1', track: 'emb', vector: [1, 0, 0, 0], exact: 'yes' }),
      400,
      /^exact: /,
    ],
    [
      'search: like a non-vector item',
      '/lab/search',
      json({ timeline: 's1', track: 'notes', like: '3s' }),
      400,
      /^track: .*not a vector track/,
    ],
    [
      'text: empty query',
      '/lab/text',
      json({ timeline: 'talk', query: '  ' }),
      400,
      /^query: must not be empty/,
    ],
    [
      'text: only stop words',
      '/lab/text',
      json({ timeline: 'talk', query: 'the' }),
      400,
      /^query: text query/,
    ],
    ['text: no query', '/lab/text', json({ timeline: 'talk' }), 400, /^query: /],
    [
      'text: unknown track',
      '/lab/text',
      json({ timeline: 'talk', query: 'pasta', tracks: ['captions', 'nope'] }),
      404,
      /^tracks\[1\]: nope is not in timeline talk/,
    ],
    [
      'text: a track without a text index',
      '/lab/text',
      json({ timeline: 'talk', query: 'pasta', tracks: ['frames'] }),
      400,
      /^tracks: .*has no text index/,
    ],
    ['text: bad k', '/lab/text', json({ timeline: 'talk', query: 'pasta', k: 0 }), 400, /^k: /],
    ['text: bad from', '/lab/text', json({ timeline: 'talk', query: 'pasta', from: 'soon' }), 400, /^from: /],
    [
      'text: empty window',
      '/lab/text',
      json({ timeline: 'talk', query: 'pasta', from: '5s', to: '5s' }),
      400,
      /^to: .*must be after from/,
    ],
    [
      'hybrid: no query',
      '/lab/hybrid',
      json({ timeline: 'talk', k: 3 }),
      400,
      /^text: give text, vector or like/,
    ],
    [
      'hybrid: vector and like',
      '/lab/hybrid',
      json({ timeline: 'talk', vector: [1, 0, 0, 0], like: '3s' }),
      400,
      /^like: not with vector/,
    ],
    [
      'hybrid: empty text',
      '/lab/hybrid',
      json({ timeline: 'talk', text: '' }),
      400,
      /^text: must not be empty/,
    ],
    [
      'hybrid: bad like',
      '/lab/hybrid',
      json({ timeline: 'talk', like: 'soon' }),
      400,
      /^like: "soon" is not a time/,
    ],
    [
      'hybrid: wrong dimension',
      '/lab/hybrid',
      json({ timeline: 'talk', vector: [1, 0] }),
      400,
      /^vector: .*4-dimensional/,
    ],
    [
      'hybrid: probes on a graph index',
      '/lab/hybrid',
      json({ timeline: 'talk', like: '3s', probes: 9 }),
      400,
      /^probes: probes apply to dreamdb\.lsh-cosine indexes; this track's index is dreamdb\.vamana-cosine/,
    ],
    [
      'hybrid: vector track not a vector track',
      '/lab/hybrid',
      json({ timeline: 'talk', like: '3s', vectorTrack: 'captions' }),
      400,
      /^vectorTrack: .*not a vector track/,
    ],
    [
      'hybrid: unknown vector track',
      '/lab/hybrid',
      json({ timeline: 'talk', like: '3s', vectorTrack: 'nope' }),
      404,
      /^vectorTrack: nope is not in timeline talk/,
    ],
    [
      'hybrid: negative weight',
      '/lab/hybrid',
      json({ timeline: 'talk', text: 'pasta', weights: { text: -1 } }),
      400,
      /^weights\.text: /,
    ],
    ['hybrid: bad rrfK', '/lab/hybrid', json({ timeline: 'talk', text: 'pasta', rrfK: -1 }), 400, /^rrfK: /],
    [
      'hybrid: labels not strings',
      '/lab/hybrid',
      json({ timeline: 'talk', text: 'pasta', labels: [1] }),
      400,
      /^labels\[0\]: /,
    ],
    [
      'hybrid: vectorTrack without a vector query',
      '/lab/hybrid',
      json({ timeline: 'talk', text: 'pasta', vectorTrack: 'frames' }),
      400,
      /^vectorTrack: only with vector or like/,
    ],
    [
      'hybrid: like before the first frame',
      '/lab/hybrid',
      json({ timeline: 's1', like: '0', vectorTrack: 'emb', from: '1s', to: '0s' }),
      400,
      /^to: .*must be after from/,
    ],
    ['collect: bad apply', '/lab/collect', json({ apply: 'yes' }), 400, /^apply: /],
    ['unknown space', '/nowhere/refs/main', undefined, 404, /space nowhere has no ref main/],
    ['space with traversal', '/..%2F..%2Fetc/refs/main', undefined, 400, /^space: /],
    ['ref with traversal', '/lab/refs/..%2F..%2Fobjects', undefined, 400, /ref name/],
    ['unknown ref', '/lab/refs/heads/none', undefined, 404, /has no ref heads\/none/],
    ['unknown timeline', '/lab/timelines/s9/tracks', undefined, 404, /^timeline: s9 is not in lab@main/],
    ['unknown track', '/lab/timelines/s1/tracks/nope/items/0', undefined, 404, /^track: nope/],
    [
      'track with a slash',
      '/lab/timelines/s1/tracks/a%2Fb/items/0',
      undefined,
      400,
      /^track: "a\/b" is not a name/,
    ],
    ['bad tick in the URL', '/lab/timelines/s1/tracks/notes/items/soon', undefined, 400, /^tick: /],
    [
      'no item before the first',
      '/lab/timelines/s1/tracks/cam/items/99999s',
      undefined,
      404,
      /^tick: no item/,
    ],
    ['malformed ref hash', `/lab/timelines/s1/items?ref=1E20${'AB'.repeat(32)}`, undefined, 400, /ref name/],
    [
      'hash two digits short',
      `/lab/timelines/s1/items?ref=1e20${'ab'.repeat(31)}`,
      undefined,
      400,
      /ref name/,
    ],
    ['ref with traversal in ?ref=', '/lab/timelines/s1/items?ref=..%2Fmain', undefined, 400, /ref name/],
    ['bad limit', '/lab/timelines/s1/items?limit=0', undefined, 400, /^limit: /],
    ['bad cursor', '/lab/timelines/s1/items?cursor=zz', undefined, 400, /cursor/],
    ['empty clip', '/lab/timelines/s1/items?from=5s&to=2s', undefined, 400, /must be after from/],
    ['unknown track in tracks=', '/lab/timelines/s1/stream?tracks=nope', undefined, 404, /track nope/],
  ];

  test('each bad request gets its status and a message naming the problem; the ref and the files stay', async () => {
    const main = await mainOf();
    const files = storedFiles();
    assert.ok(main && files.length > 0);
    const wrong: string[] = [];
    for (const [name, path, init, status, message] of cases) {
      const response = await api(path, init);
      const body = (await response.json()) as { error: string; message: string };
      if (response.status !== status || !message.test(body.message) || !/^E_[A-Z_]+$/.test(body.error))
        wrong.push(`${name}: ${response.status} ${JSON.stringify(body)}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal(await mainOf(), main, 'main did not move');
    assert.deepEqual(storedFiles(), files, 'no object or ref was written');
  });

  test('an oversize body sent without Content-Length is refused while it is read', async () => {
    const main = await mainOf();
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 17) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await api('/lab/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(response.status, 413);
    assert.equal(await mainOf(), main);
  });

  test('a raw ../ path from a client that does not normalize reaches nothing', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(base);
      request({ host: url.hostname, port: url.port, path: '/v0/spaces/../../etc/refs/main' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.ok(status === 400 || status === 404, `status ${status}`);
  });
});

/** A MemoryStore whose ranged GETs (item reads) fail once `failing` is set: a store dying mid-stream. */
class FlakyStore extends MemoryStore {
  failing = false;
  override async get(key: string, range?: { start: number; end: number }) {
    if (this.failing && range) throw new EngineError('E_STORE', `${key}: the store went away`);
    return super.get(key, range);
  }
}

test('CBOR request bodies (MemoryStore): integer ticks and byte payloads, read back as CBOR', async () => {
  const store = new FlakyStore();
  const served = await start(store);
  try {
    const body = encodeCanonical({
      ref: 'main',
      timelines: [{ name: 't' }],
      tracks: [{ timeline: 't', name: 'bin', kind: 'event', modality: 'event.blob' }],
      writes: [
        {
          timeline: 't',
          track: 'bin',
          items: [
            { tick: 5n * S, payload: new Uint8Array([1, 2, 3]) },
            { tick: 7, payload: { n: 2n ** 60n } },
          ],
        },
      ],
    });
    const published = await fetch(`${served.url}/v0/spaces/mem/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/cbor', accept: 'application/cbor' },
      body: body as Uint8Array<ArrayBuffer>,
    });
    assert.equal(published.status, 200, await published.clone().text());
    const answer = decodeCanonical(new Uint8Array(await published.arrayBuffer())) as { items: number };
    assert.equal(answer.items, 2);
    const read = await fetch(`${served.url}/v0/spaces/mem/timelines/t/tracks/bin/items/6s`, {
      headers: { accept: 'application/cbor' },
    });
    const item = decodeCanonical(new Uint8Array(await read.arrayBuffer())) as { payload: unknown };
    assert.deepEqual(item.payload, new Uint8Array([1, 2, 3]));
    const big = await fetch(`${served.url}/v0/spaces/mem/timelines/t/tracks/bin/items/7`);
    assert.deepEqual(((await big.json()) as { payload: unknown }).payload, {
      n: { $bigint: String(2n ** 60n) },
    });

    // A failure after the stream began cannot change the 200 any more: the last record says what happened.
    const cold = await start(store);
    store.failing = true;
    try {
      const broken = await fetch(`${cold.url}/v0/spaces/mem/timelines/t/stream`);
      assert.equal(broken.status, 200);
      const lines = (await broken.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(lines.at(-1).error, 'E_STORE');
      assert.match(lines.at(-1).message, /the store went away/);
    } finally {
      store.failing = false;
      await cold.stop();
    }
  } finally {
    await served.stop();
  }
});
