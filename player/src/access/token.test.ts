import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authHeaders, playbackUrls, tokenFromFragment, withToken } from './token.js';

test('the token comes from the fragment, beside other fragment parameters', () => {
  assert.equal(tokenFromFragment('#token=AbC-_9'), 'AbC-_9');
  assert.equal(tokenFromFragment('#x=1&token=AbC-_9&y=2'), 'AbC-_9');
  assert.equal(tokenFromFragment('token=AbC'), 'AbC');
  // Percent-encoding in the fragment is undone; padding survives (only the first = splits).
  assert.equal(tokenFromFragment('#token=a%2Bb%2Fc%3D'), 'a+b/c=');
  assert.equal(tokenFromFragment('#token=abc=='), 'abc==');
  assert.equal(tokenFromFragment('#token=%20abc%20'), 'abc');
});

test('no token: an empty fragment, an empty value, another parameter', () => {
  for (const hash of ['', '#', '#token=', '#token', '#tokens=abc', '#t=123']) {
    assert.equal(tokenFromFragment(hash), undefined, hash);
  }
});

test('the API gets the token as a bearer header, and nothing without one', () => {
  assert.deepEqual(authHeaders('AbC-_9'), { authorization: 'Bearer AbC-_9' });
  assert.deepEqual(authHeaders(undefined), {});
  assert.deepEqual(authHeaders(''), {});
});

test('a playlist URL gets token=, URL-encoded, its other parameters and fragment kept byte for byte', () => {
  assert.equal(
    withToken('/hls/demo/main/lab/master.m3u8', 'AbC-_9'),
    '/hls/demo/main/lab/master.m3u8?token=AbC-_9',
  );
  assert.equal(
    withToken('/hls/demo/heads%2Fann/lab/master.m3u8?from=2s&tracks=a,b%20c', 'AbC'),
    '/hls/demo/heads%2Fann/lab/master.m3u8?from=2s&tracks=a,b%20c&token=AbC',
  );
  assert.equal(
    withToken('/dash/demo/main/lab/manifest.mpd#t=3', 'a+b/c='),
    '/dash/demo/main/lab/manifest.mpd?token=a%2Bb%2Fc%3D#t=3',
  );
  assert.equal(
    withToken('https://cdn.example/hls/d/main/l/master.m3u8?x=1', 'AbC'),
    'https://cdn.example/hls/d/main/l/master.m3u8?x=1&token=AbC',
  );
  // A trailing ? or & leaves no empty parameter behind.
  assert.equal(withToken('/objects/d/b.m4s?', 'AbC'), '/objects/d/b.m4s?token=AbC');
  assert.equal(withToken('/objects/d/b.m4s?x=1&', 'AbC'), '/objects/d/b.m4s?x=1&token=AbC');
});

test('a URL that already carries a token gets this one instead, once', () => {
  assert.equal(
    withToken('/hls/d/main/l/master.m3u8?token=old&from=1', 'new'),
    '/hls/d/main/l/master.m3u8?from=1&token=new',
  );
  assert.equal(
    withToken('/hls/d/main/l/master.m3u8?token&tokens=x', 'new'),
    '/hls/d/main/l/master.m3u8?tokens=x&token=new',
  );
});

test('without a token, URLs are left alone', () => {
  for (const url of ['/hls/d/main/l/master.m3u8', '/dash/d/main/l/manifest.mpd?from=1', 'x#y'])
    assert.equal(withToken(url, undefined), url);
});

test('both playback URLs of a timeline carry the token', () => {
  const urls = { hls: '/hls/demo/main/lab/master.m3u8', dash: '/dash/demo/main/lab/manifest.mpd' };
  assert.deepEqual(playbackUrls(urls, 'T0k'), {
    hls: '/hls/demo/main/lab/master.m3u8?token=T0k',
    dash: '/dash/demo/main/lab/manifest.mpd?token=T0k',
  });
  assert.deepEqual(playbackUrls(urls, undefined), urls);
});
