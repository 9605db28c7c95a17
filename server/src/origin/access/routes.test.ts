import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Caveats,
  decodeToken,
  encodeToken,
  issueToken,
  keyId,
  newIssuerKey,
  RIGHTS,
} from '@dreamdb/engine/access';
import { listAll } from '@dreamdb/engine/store';
import { labForTests } from '../testing/lab.js';
import { ruleOf } from './policy.js';

/**
 * Built from the app's own route list: every route refuses a missing, expired, tampered, wrong-tenant,
 * wrong-space and under-scoped token (and a wrong ref, where it names one), and nothing is written by any
 * refusal. A route added later without a rule in policy.ts needs admin, and shows up here by name.
 */

const issuer = newIssuerKey();
const served = labForTests('access', undefined, undefined, {
  issuers: new Map([[keyId(issuer.publicKey), issuer.publicKey]]),
});
const now = () => Math.floor(Date.now() / 1000);
const token = (c: Partial<Caveats> = {}) =>
  issueToken(issuer, { tenant: 'default', rights: [...RIGHTS], spaces: ['*'], exp: now() + 600, ...c });

const HASH = `1e20${'ab'.repeat(32)}`;
/** Values for a route's path parameters: the lab's space, ref and timeline, and plausible names. */
const PARAMS: Record<string, string> = {
  space: 'lab',
  ref: 'main',
  timeline: 's1',
  track: 'video-180p',
  tick: '0',
  file: 'master.m3u8',
  segment: '0.vtt',
  hash: HASH,
};
/** Bodies that pass each POST route's checks up to the ref it names. */
const BODIES: Record<string, unknown> = {
  search: { timeline: 's1', track: 'frames', vector: [1, 0, 0] },
  text: { timeline: 's1', query: 'hello' },
  hybrid: { timeline: 's1', text: 'hello' },
  write: {},
  publish: { ref: 'main', manifest: HASH },
  delete: { deletes: [{ timeline: 's1', track: 'no-such-track', tick: 0 }] },
  compact: { ref: 'heads/no-such-branch' },
  refs: { name: 'team' },
  merge: { from: 'heads/team' },
  collect: { dryRun: true },
};

interface Route {
  method: string;
  path: string;
  url: string;
  verb?: string;
}

function routes(): Route[] {
  const seen = new Set<string>();
  const out: Route[] = [];
  for (const r of served.lab.origin.routes) {
    if (r.method === 'ALL' || r.path.endsWith('*')) continue; // middleware
    for (const method of r.method === 'GET' ? ['GET'] : [r.method]) {
      const key = `${method} ${r.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const url = r.path.replace(/:([a-z]+)(\{[^}]*\})?/g, (_m, name: string) => PARAMS[name] ?? 'x');
      const verb = /\/v0\/spaces\/lab\/([a-z]+)/.exec(url)?.[1];
      out.push({ method, path: r.path, url, ...(verb && { verb }) });
    }
  }
  return out;
}

const call = (r: Route, headers: Record<string, string> = {}, url = r.url) =>
  fetch(`${served.lab.base}${url}`, {
    method: r.method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(r.method === 'POST' && { body: JSON.stringify((r.verb && BODIES[r.verb]) ?? {}) }),
  });

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function snapshot(): Promise<string[]> {
  const store = served.lab.origin.cache.store;
  const keys: string[] = [];
  for await (const o of listAll(store, '')) keys.push(`${o.key} ${o.etag}`);
  return keys.sort();
}

const isPublic = (r: Route) => ruleOf(r.method, r.url, () => undefined).kind !== 'grant';

test('every route refuses a missing, expired, tampered, wrong-tenant, wrong-space and under-scoped token', async () => {
  const all = routes();
  assert.ok(all.length >= 25, `the app lists ${all.length} routes`);
  const before = await snapshot();
  const t = decodeToken(token());
  const tampered = encodeToken({ ...t, proof: new Uint8Array(32).fill(1) });
  let checked = 0;
  const controls: Route[] = [];
  for (const r of all) {
    if (isPublic(r)) continue;
    const rule = ruleOf(r.method, r.url, () => undefined);
    assert.equal(rule.kind, 'grant');
    if (rule.kind !== 'grant') continue;
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ['missing', {}, 401, /no token/],
      ['expired', bearer(token({ exp: now() - 3600 })), 401, /expired/],
      ['tampered', bearer(tampered), 401, /tampered/],
      ['malformed', bearer('ddb1_%%%'), 401, /malformed/],
      ['wrong tenant', bearer(token({ tenant: 'acme' })), 403, /another tenant/],
      ['wrong space', bearer(token({ spaces: ['elsewhere'] })), 403, /space lab/],
      [
        'under-scoped',
        bearer(token({ rights: RIGHTS.filter((x) => x !== rule.right) })),
        403,
        new RegExp(`grant ${rule.right}`),
      ],
    ];
    for (const [name, headers, status, message] of cases) {
      // An origin-wide route (metrics) names no space: only rights apply.
      if (rule.space === undefined && (name === 'wrong tenant' || name === 'wrong space')) continue;
      const response = await call(r, headers);
      const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
      assert.equal(
        response.status,
        status,
        `${r.method} ${r.path} with a ${name} token: ${JSON.stringify(body)}`,
      );
      // A HEAD answer has no body to name the reason in.
      if (r.method !== 'HEAD')
        assert.match(body.message ?? '', message, `${r.method} ${r.path} with a ${name} token`);
    }
    controls.push(r);
    checked++;
  }
  assert.ok(checked >= 25, `${checked} routes checked`);
  assert.deepEqual(await snapshot(), before, 'a refused request wrote something');
  // The control, after: the right token reaches each route (whatever it answers, access is not refused).
  for (const r of controls) {
    const allowed = await call(r, bearer(token()));
    const answer = await allowed.text();
    assert.ok(
      ![401, 500].includes(allowed.status) && !(allowed.status === 403 && /token/.test(answer)),
      `${r.method} ${r.path} with a full token: ${allowed.status} ${answer}`,
    );
  }
});

test('every route that reads or moves a ref refuses a token for other refs', async () => {
  const before = await snapshot();
  const narrow = bearer(token({ refs: ['heads/other-*'] }));
  const BODY_REFS = ['search', 'text', 'hybrid', 'write', 'publish', 'merge', 'delete', 'compact'];
  const refRoutes = routes().filter((r) => {
    const rule = ruleOf(r.method, r.url, () => undefined);
    return (
      rule.kind === 'grant' &&
      (rule.refs.length > 0 || BODY_REFS.includes(r.verb ?? '') || (r.verb === 'refs' && r.method === 'POST'))
    );
  });
  assert.ok(refRoutes.length >= 20, `${refRoutes.length} routes name a ref`);
  for (const r of refRoutes) {
    const response = await call(r, narrow);
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    assert.equal(response.status, 403, `${r.method} ${r.path}: ${JSON.stringify(body)}`);
    assert.match(body.message ?? '', /grant ref|named refs/, `${r.method} ${r.path}`);
  }
  assert.deepEqual(await snapshot(), before);
});

test('bad tokens get a reason: oversized, future-dated, a bad Authorization header; never a 500', async () => {
  const url = `${served.lab.base}/v0/spaces/lab/timelines`;
  const cases: [Record<string, string>, number, RegExp][] = [
    [bearer(`ddb1_${'A'.repeat(9000)}`), 401, /too large/],
    [bearer(token({ nbf: now() + 3600 })), 401, /not valid before/],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, 401, /Bearer/],
    [
      bearer(
        issueToken(newIssuerKey(), { tenant: 'default', rights: ['read'], spaces: ['*'], exp: now() + 60 }),
      ),
      401,
      /does not trust/,
    ],
  ];
  for (const [headers, status, message] of cases) {
    const response = await fetch(url, { headers });
    assert.equal(response.status, status);
    assert.match(response.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.match(((await response.json()) as { message: string }).message, message);
  }
  // A token within the clock skew allowance (30 s) is accepted.
  const skewed = await fetch(url, { headers: bearer(token({ nbf: now() + 10 })) });
  assert.equal(skewed.status, 200);
});

test('GET /v0/access says what the token allows; /v0/health says the origin checks tokens', async () => {
  const reviewer = token({ rights: ['read'], refs: ['main'] });
  const doc = (await (
    await fetch(`${served.lab.base}/v0/access`, { headers: bearer(reviewer) })
  ).json()) as Record<string, unknown>;
  assert.deepEqual(
    { ...doc, expires: undefined },
    { mode: 'token', tenant: 'default', rights: ['read'], spaces: ['*'], refs: ['main'], expires: undefined },
  );
  assert.equal((await fetch(`${served.lab.base}/v0/access`)).status, 401);
  const health = (await (await fetch(`${served.lab.base}/v0/health`)).json()) as { access: string };
  assert.equal(health.access, 'token');
});

test('erasure takes the admin right: a token that may write deletes, but its erase is refused and changes nothing', async () => {
  const writer = bearer(token({ rights: ['read', 'write'] }));
  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${served.lab.base}/v0/spaces/lab/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  assert.equal((await post('refs', { name: 'erase-check', at: 'main' }, writer)).status, 201);
  const deletes = [{ timeline: 's1', track: 'events' }];
  const before = await snapshot();
  const refused = await post('delete', { ref: 'heads/erase-check', erase: true, deletes }, writer);
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { message: string }).message, /admin/);
  assert.deepEqual(await snapshot(), before);
  const plain = await post('delete', { ref: 'heads/erase-check', deletes }, writer);
  assert.equal(plain.status, 200, await plain.text());
});
