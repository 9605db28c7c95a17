import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { multihashToHex } from '@dreamdb/engine';
import HLS from 'hls-parser';
import type { Origin } from './app.js';
import { type Lab, serveLab } from './testing/lab.js';

/** What createOrigin adds around the routes: compression of generated text, and /metrics. */

const dir = mkdtempSync(join(tmpdir(), 'dreamdb-app-'));
let base = '';
let close: () => Promise<void>;
let report: Lab['report'];
let origin: Origin;

before(async () => {
  const lab = await serveLab(
    dir,
    '{"seconds": 1, "label": "start", "who": "ana"}\n{"seconds": 3.5, "duration_s": 1.5, "label": "grasp \\"cup\\""}\n',
    { thumbnails: { everySeconds: 2, width: 96 }, genesis: 1_795_600_000_000_000_000n },
  );
  ({ base, origin, report } = lab);
  close = lab.close;
});
after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

const text = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${base}${path}`, init);
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return response.text();
};
const mediaOf = async (path: string) => HLS.parse(await text(path)) as HLS.types.MediaPlaylist;
/** Bytes of a segment (its byte range of an object), as a client fetches them. */
const segmentBytes = async (s: HLS.types.Segment) => {
  const { offset, length } = s.byterange!;
  const response = await fetch(`${base}${s.uri}`, {
    headers: { range: `bytes=${offset}-${offset + length - 1}` },
  });
  assert.equal(response.status, 206);
  return new Uint8Array(await response.arrayBuffer());
};

test('generated text is compressed (br, gzip) and the same once decoded; media bytes are not', async () => {
  const plain = await fetch(`${base}/hls/lab/main/s1/video-180p.m3u8`, {
    headers: { 'accept-encoding': 'identity' },
  });
  assert.equal(plain.headers.get('content-encoding'), null);
  const body = await plain.text();
  for (const encoding of ['br', 'gzip']) {
    const packed = await fetch(`${base}/hls/lab/main/s1/video-180p.m3u8`, {
      headers: { 'accept-encoding': encoding },
    });
    assert.equal(packed.headers.get('content-encoding'), encoding);
    assert.match(packed.headers.get('vary') ?? '', /accept-encoding/i);
    assert.equal(await packed.text(), body); // fetch decodes
  }
  const video = multihashToHex(report.tracks[0]!.init);
  const media = await fetch(`${base}/objects/lab/${video}`, { headers: { 'accept-encoding': 'br' } });
  assert.equal(media.headers.get('content-encoding'), null);
});

test('/metrics counts requests by route, the byte cache and the store requests, in Prometheus text', async () => {
  const before = origin.cache.stats.hits;
  const playlist = await mediaOf('/hls/lab/main/s1/video-180p.m3u8');
  for (const s of playlist.segments) await segmentBytes(s);
  // The first fragment's miss read ahead over the rest of the rung's fragments.
  assert.ok(origin.cache.stats.hits >= before + playlist.segments.length - 1);
  const response = await fetch(`${base}/metrics`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const metrics = await response.text();
  assert.match(
    metrics,
    /dreamdb_http_requests_total\{route="\/hls\/:space\/:ref\/:timeline\/:file",method="GET",status="200"\} \d+/,
  );
  assert.match(
    metrics,
    /dreamdb_http_request_duration_seconds_bucket\{le="0.005",route="\/objects\/:space\/:hash"\} \d+/,
  );
  const hits = Number(/dreamdb_cache_hits_total (\d+)/.exec(metrics)?.[1]);
  assert.equal(hits, origin.cache.stats.hits);
  assert.match(metrics, /dreamdb_store_requests_total\{op="get"\} [1-9]\d*/);
  assert.match(metrics, /dreamdb_cache_hit_ratio 0\.\d+/);
});
