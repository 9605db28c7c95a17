import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { OPEN_ACCESS } from './access/rights.js';
import { Api, ApiError } from './api.js';

/** The requests the API client made, and the answers it is given (fetch stubbed: no server). */
interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
}

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

function answering(status: number, body: unknown): Sent[] {
  const sent: Sent[] = [];
  globalThis.fetch = (async (url: string, init: RequestInit = {}) => {
    sent.push({
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
    });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return sent;
}

test('every API call presents the token as a bearer header, beside its own headers', async () => {
  const api = new Api('', 'AbC-_9');
  const sent = answering(200, { refs: [], timelines: [], items: [], hits: [], entries: [] });
  await api.refs('demo');
  await api.timelines('demo', 'main');
  await api.items('demo', 'lab', 'main', ['events']);
  await api.log('demo', 'main');
  await api.text('demo', { ref: 'main', timeline: 'lab', query: 'x', k: 5 });
  await api.merge('demo', { into: 'main', from: ['heads/ann'] });
  assert.equal(sent.length, 6);
  for (const request of sent) assert.equal(request.headers.authorization, 'Bearer AbC-_9', request.url);
  const post = sent.find((r) => r.method === 'POST');
  assert.equal(post?.headers['content-type'], 'application/json');
});

test('without a token no authorization header is sent', async () => {
  const sent = answering(200, { refs: [] });
  await new Api().refs('demo');
  assert.equal(sent[0]?.headers.authorization, undefined);
});

test('a window limits the items asked for to it', async () => {
  const sent = answering(200, { items: [] });
  await new Api('', 't').items('demo', 'lab', 'main', ['events'], { from: 60n, to: 90n });
  assert.match(sent[0]!.url, /[?&]from=60&to=90(&|$)/);
});

test('/v0/access: the document; 404 (an origin without tokens) is open mode; 401 is thrown with its message', async () => {
  const doc = {
    mode: 'token',
    rights: ['read'],
    spaces: ['demo'],
    refs: ['main'],
    expires: '2026-12-08T14:00:00Z',
  };
  let sent = answering(200, doc);
  assert.deepEqual(await new Api('', 'T').access(), doc);
  assert.equal(sent[0]?.url, '/v0/access');
  assert.equal(sent[0]?.headers.authorization, 'Bearer T');

  answering(404, { error: 'E_NOT_FOUND', message: 'no route for GET /v0/access' });
  assert.deepEqual(await new Api('', 'T').access(), OPEN_ACCESS);

  sent = answering(401, { error: 'E_UNAUTHORIZED', message: 'this link has expired' });
  await assert.rejects(new Api('', 'T').access(), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'E_UNAUTHORIZED');
    assert.equal(error.body.message, 'this link has expired');
    return true;
  });
});

test('an upload (XMLHttpRequest) presents the token too', async () => {
  const headers: Record<string, string> = {};
  let opened = '';
  class FakeXhr {
    status = 200;
    responseText = '';
    statusText = 'OK';
    upload = {};
    onload: (() => void) | undefined;
    open(_method: string, url: string) {
      opened = url;
    }
    setRequestHeader(name: string, value: string) {
      headers[name] = value;
    }
    send() {
      this.responseText = `${JSON.stringify({ stage: 'done', status: 201, timeline: 'up', tracks: [], derived: [] })}\n`;
      queueMicrotask(() => this.onload?.());
    }
  }
  const real = globalThis.XMLHttpRequest;
  globalThis.XMLHttpRequest = FakeXhr as unknown as typeof XMLHttpRequest;
  try {
    await new Api('', 'AbC').ingest('demo', 'up', new Blob([new Uint8Array(4)]), {
      ref: 'main',
      name: 'a.mp4',
    });
  } finally {
    globalThis.XMLHttpRequest = real;
  }
  assert.equal(headers.authorization, 'Bearer AbC');
  // The token goes as a header, never in the upload's URL (which servers log).
  assert.doesNotMatch(opened, /token/);
});
