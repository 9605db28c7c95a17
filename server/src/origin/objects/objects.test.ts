import assert from 'node:assert/strict';
import { test } from 'node:test';
import { multihashToHex } from '@dreamdb/engine';
import { labForTests } from '../testing/lab.js';

/** The bytes route: content-addressed objects with Range, ETag and immutable caching. */

const served = labForTests('objects');
/** The session these tests read (served once before them). */
const lab = () => served.lab;

test('bytes: Range gives 206 with Content-Range, a bad range 416, ETag revalidation 304; immutable caching', async () => {
  const video = lab().report.tracks[0]!;
  const init = multihashToHex(video.init);
  const url = `${lab().base}/objects/lab/${init}`;
  const whole = await fetch(url);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(whole.headers.get('etag'), `"${init}"`);
  const size = (await whole.arrayBuffer()).byteLength;
  const part = await fetch(url, { headers: { range: 'bytes=4-11' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 4-11/${size}`);
  assert.equal(Buffer.from(await part.arrayBuffer()).toString('latin1', 0, 4), 'ftyp');
  const bad = await fetch(url, { headers: { range: `bytes=${size + 10}-` } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get('content-range'), `bytes */${size}`);
  const again = await fetch(url, { headers: { 'if-none-match': `"${init}"` } });
  assert.equal(again.status, 304);
});

test('objects: HEAD gives the size, If-Range with another validator gets the whole object', async () => {
  const init = multihashToHex(lab().report.tracks[0]!.init);
  const head = await fetch(`${lab().base}/objects/lab/${init}.mp4`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'video/mp4');
  const size = Number(head.headers.get('content-length'));
  assert.ok(size > 100);
  const stale = await fetch(`${lab().base}/objects/lab/${init}`, {
    headers: { range: 'bytes=0-9', 'if-range': '"other"' },
  });
  assert.equal(stale.status, 200);
  assert.equal((await stale.arrayBuffer()).byteLength, size);
  const fresh = await fetch(`${lab().base}/objects/lab/${init}`, {
    headers: { range: 'bytes=0-9', 'if-range': `"${init}"` },
  });
  assert.equal(fresh.status, 206);
});
