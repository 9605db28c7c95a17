import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '@dreamdb/engine';
import { httpOf } from './testing/http.js';
import { labForTests } from './testing/lab.js';

/** What createOrigin adds around the routes: compression of generated text, and /metrics. */

const served = labForTests('app');
/** The session these tests read (served once before them). */
const lab = () => served.lab;

const { mediaOf, segmentBytes } = httpOf(() => lab().base);

test('generated text is compressed (br, gzip) and the same once decoded; media bytes are not', async () => {
  const plain = await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8`, {
    headers: { 'accept-encoding': 'identity' },
  });
  assert.equal(plain.headers.get('content-encoding'), null);
  const body = await plain.text();
  for (const encoding of ['br', 'gzip']) {
    const packed = await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8`, {
      headers: { 'accept-encoding': encoding },
    });
    assert.equal(packed.headers.get('content-encoding'), encoding);
    assert.match(packed.headers.get('vary') ?? '', /accept-encoding/i);
    assert.equal(await packed.text(), body); // fetch decodes
  }
  const video = multihashToHex(lab().report.tracks[0]!.init);
  const media = await fetch(`${lab().base}/objects/lab/${video}`, { headers: { 'accept-encoding': 'br' } });
  assert.equal(media.headers.get('content-encoding'), null);
});

test('/metrics counts requests by route, the byte cache and the store requests, in Prometheus text', async () => {
  const before = lab().origin.cache.stats.hits;
  const playlist = await mediaOf('/hls/lab/main/s1/video-180p.m3u8');
  for (const s of playlist.segments) await segmentBytes(s);
  // The first fragment's miss read ahead over the rest of the rung's fragments.
  assert.ok(lab().origin.cache.stats.hits >= before + playlist.segments.length - 1);
  const response = await fetch(`${lab().base}/metrics`);
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
  assert.equal(hits, lab().origin.cache.stats.hits);
  assert.match(metrics, /dreamdb_store_requests_total\{op="get"\} [1-9]\d*/);
  assert.match(metrics, /dreamdb_cache_hit_ratio 0\.\d+/);
});
