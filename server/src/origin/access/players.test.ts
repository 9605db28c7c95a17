/** Tokens reach every URL a playlist lists: ffmpeg and GStreamer (no Authorization header) play with one. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { attenuateToken, issueToken, keyId, newIssuerKey } from '@dreamdb/engine/access';
import { ffmpegCopy } from '../testing/ffmpeg.js';
import { gstPlay } from '../testing/gstreamer.js';
import { labForTests, probeStreams } from '../testing/lab.js';

const issuer = newIssuerKey();
const served = labForTests('access-players', undefined, undefined, {
  issuers: new Map([[keyId(issuer.publicKey), issuer.publicKey]]),
});
const lab = () => served.lab;
const reader = issueToken(issuer, {
  tenant: 'default',
  rights: ['read'],
  spaces: ['lab'],
  exp: Math.floor(Date.now() / 1000) + 600,
});

test('ffmpeg and GStreamer play HLS and DASH with the token in the URL only', async () => {
  const hls = `${lab().base}/hls/lab/main/s1/master.m3u8?token=${reader}`;
  const copy = join(served.dir, 'copy.mp4');
  await ffmpegCopy(hls, copy, ['0']);
  const video = (await probeStreams(copy)).find((s) => s.codec_type === 'video')!;
  assert.ok(Math.abs(Number(video.duration) - 6) <= 0.04, `copied ${video.duration} s`);
  const dash = join(served.dir, 'dash.mp4');
  await ffmpegCopy(`${lab().base}/dash/lab/main/s1/manifest.mpd?token=${reader}`, dash, ['0:v:0']);
  assert.ok(Math.abs(Number((await probeStreams(dash))[0]!.duration) - 6) <= 0.04);
  const played = await gstPlay(hls);
  assert.equal(played.video.buffers, 150, `${played.video.buffers} frames`);
  // Without the token nothing plays, and the refusal names why.
  const refused = await fetch(`${lab().base}/hls/lab/main/s1/master.m3u8`);
  assert.equal(refused.status, 401);
  await assert.rejects(ffmpegCopy(`${lab().base}/hls/lab/main/s1/master.m3u8`, join(served.dir, 'no.mp4')));
});

test('every URL of a playlist served to a token carries it; the ETag differs per token', async () => {
  const base = `${lab().base}/hls/lab/main/s1`;
  const master = await (await fetch(`${base}/master.m3u8?token=${reader}`)).text();
  const media = await fetch(`${base}/video-180p.m3u8?token=${reader}`);
  const text = await media.text();
  const uris = [...master.split('\n'), ...text.split('\n')].filter((l) => l && !l.startsWith('#'));
  const attributes = [...(master + text).matchAll(/URI="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(uris.length > 3 && attributes.length > 0);
  for (const uri of [...uris, ...attributes]) assert.ok(uri.includes(`token=${reader}`), uri);
  const other = issueToken(issuer, {
    tenant: 'default',
    rights: ['read'],
    spaces: ['*'],
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  const again = await fetch(`${base}/video-180p.m3u8?token=${other}`);
  assert.notEqual(again.headers.get('etag'), media.headers.get('etag'));
  assert.ok(!(await again.text()).includes(reader), "one token's playlist never lists another's");
  // A response to a token is cacheable no longer than the token lives.
  const object = uris.find((u) => u.startsWith('/objects/'))!;
  const bytes = await fetch(`${lab().base}${object}`, { headers: { range: 'bytes=0-99' } });
  assert.equal(bytes.status, 206);
  const maxAge = Number(/max-age=(\d+)/.exec(bytes.headers.get('cache-control') ?? '')?.[1]);
  assert.ok(maxAge <= 600 && maxAge > 500, `max-age ${maxAge}`);
});

test('a token for a 2-second clip plays the clip and no byte outside it', async () => {
  const video = lab().report.tracks.find((t) => t.name === 'video-180p')!;
  const from = video.first + 2_000_000_000n;
  const to = video.first + 4_000_000_000n;
  const clip = attenuateToken(reader, { window: { timeline: 's1', from, to } });
  const base = `${lab().base}/hls/lab/main/s1`;
  // The playlist of the clip (from/to within the window) is served; the whole timeline is not.
  assert.equal((await fetch(`${base}/master.m3u8?token=${clip}`)).status, 403);
  const copy = join(served.dir, 'clip.mp4');
  await ffmpegCopy(`${base}/master.m3u8?from=${from}&to=${to}&token=${clip}`, copy, ['0:v:0']);
  const duration = Number((await probeStreams(copy))[0]!.duration);
  assert.ok(duration >= 1.9 && duration <= 4.1, `copied ${duration} s`);
  // The whole timeline's fragments: those outside the clip are refused, though their URLs name real bytes.
  const whole = await (await fetch(`${lab().base}/hls/lab/main/s1/video-180p.m3u8?token=${reader}`)).text();
  const lines = whole.split('\n');
  const segments: { uri: string; range: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXT-X-BYTERANGE:(\d+)@(\d+)/.exec(lines[i]!);
    if (m)
      segments.push({
        uri: lines[i + 1]!.split('?')[0]!,
        range: `bytes=${m[2]}-${Number(m[2]) + Number(m[1]) - 1}`,
      });
  }
  const statuses = await Promise.all(
    segments.map(
      async (s) =>
        (await fetch(`${lab().base}${s.uri}?token=${clip}&ref=main`, { headers: { range: s.range } })).status,
    ),
  );
  assert.ok(statuses.includes(206) && statuses.includes(403), statuses.join(','));
  // The clip's fragments (the one covering its start and those inside it) are served; no others are.
  assert.ok(statuses.filter((s) => s === 206).length <= 3);
  assert.ok(statuses.filter((s) => s === 403).length >= 1);
  // Search and other timelines are out of a clip token's reach.
  assert.equal(
    (await fetch(`${lab().base}/v0/spaces/lab/timelines`, { headers: { authorization: `Bearer ${clip}` } }))
      .status,
    403,
  );
});
