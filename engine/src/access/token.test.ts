import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCanonical, EngineError, encodeCanonical } from '../faces/core.js';
import { intersectPatterns } from './caveats.js';
import { checkAccess } from './grant.js';
import {
  attenuateToken,
  checkTime,
  decodeToken,
  encodeToken,
  fromBase64Url,
  issueToken,
  keyId,
  newIssuerKey,
  sealToken,
  TOKEN_PREFIX,
  toBase64Url,
  verifyToken,
} from './token.js';

const issuer = newIssuerKey(new Uint8Array(32).fill(7));
const trusted = new Map([[keyId(issuer.publicKey), issuer.publicKey]]);
const NOW = 1_800_000_000;
const root = issueToken(issuer, {
  tenant: 'lab',
  rights: ['read', 'write', 'merge'],
  spaces: ['demo', 'team-*'],
  exp: NOW + 3600,
});

const code = (fn: () => unknown, expected: string, pattern?: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EngineError, String(e));
    assert.equal(e.code, expected, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });

test('an issued token verifies offline and says what it grants', () => {
  const v = verifyToken(root, trusted);
  assert.equal(v.tenant, 'lab');
  assert.deepEqual(v.rights, ['read', 'write', 'merge']);
  assert.deepEqual(v.refs, ['*']);
  assert.equal(v.exp, NOW + 3600);
  assert.equal(v.revocationIds.length, 1);
  assert.ok(root.startsWith(TOKEN_PREFIX));
  checkAccess(v, { right: 'write', space: 'team-a', owner: 'lab', ref: 'main' });
  code(() => checkAccess(v, { right: 'ingest', space: 'demo', owner: 'lab' }), 'E_FORBIDDEN', /ingest/);
  code(() => checkAccess(v, { right: 'read', space: 'other', owner: 'lab' }), 'E_FORBIDDEN', /space other/);
  code(
    () => checkAccess(v, { right: 'read', space: 'demo', owner: 'acme' }),
    'E_FORBIDDEN',
    /another tenant/,
  );
  code(() => checkAccess(v, { right: 'read' }), 'E_FORBIDDEN', /admin/);
});

test('a holder attenuates without the issuer, and a block can only narrow', () => {
  const link = attenuateToken(root, {
    rights: ['read', 'admin'],
    refs: ['main'],
    exp: NOW + 60,
    window: { timeline: 'cam', from: 30_000_000_000n, to: 60_000_000_000n },
  });
  const v = verifyToken(link, trusted);
  assert.deepEqual(v.rights, ['read'], 'admin was not in the first block, so it is not granted');
  assert.equal(v.exp, NOW + 60);
  assert.deepEqual(v.refs, ['main']);
  const inWindow = { right: 'read', space: 'demo', owner: 'lab', ref: 'main', timeline: 'cam' } as const;
  checkAccess(v, { ...inWindow, from: 30_000_000_000n, to: 40_000_000_000n });
  code(() => checkAccess(v, { ...inWindow, from: 0n, to: 40_000_000_000n }), 'E_FORBIDDEN', /timeline cam/);
  code(
    () => checkAccess(v, { ...inWindow, timeline: 'mic', from: 30_000_000_000n, to: 40_000_000_000n }),
    'E_FORBIDDEN',
  );
  code(
    () => checkAccess(v, { ...inWindow, ref: 'heads/x', from: 30_000_000_000n, to: 31_000_000_000n }),
    'E_FORBIDDEN',
    /ref heads\/x/,
  );
  const hash = `1e20${'ab'.repeat(32)}`;
  code(
    () => checkAccess(v, { ...inWindow, ref: hash, from: 30_000_000_000n, to: 31_000_000_000n }),
    'E_FORBIDDEN',
    /by hash/,
  );
  // The derived token shares the first block's revocation id: revoking the root revokes the link too.
  assert.equal(v.revocationIds[0], verifyToken(root, trusted).revocationIds[0]);
  assert.equal(v.revocationIds.length, 2);
  // Two windows on different timelines grant nothing.
  const none = verifyToken(attenuateToken(link, { window: { timeline: 'mic', from: 0n, to: 1n } }), trusted);
  assert.equal(none.window, null);
  code(() => checkAccess(none, { ...inWindow, from: 30_000_000_000n, to: 31_000_000_000n }), 'E_FORBIDDEN');
});

test('patterns intersect exactly', () => {
  assert.deepEqual(intersectPatterns(['*'], ['a*']), ['a*']);
  assert.deepEqual(intersectPatterns(['team-*'], ['team-a', 'x']), ['team-a']);
  assert.deepEqual(intersectPatterns(['team-*'], ['te*']), ['team-*']);
  assert.deepEqual(intersectPatterns(['a*'], ['b*']), []);
  assert.deepEqual(intersectPatterns(['heads/*', 'main'], ['main', 'heads/a*']), ['heads/a*', 'main']);
});

test('tampering, truncation, a foreign issuer and a sealed chain are refused', () => {
  const t = decodeToken(attenuateToken(root, { rights: ['read'] }));
  // Rewrite the second block's payload to grant write again: its signature no longer holds.
  const forged = encodeToken({
    ...t,
    blocks: [t.blocks[0]!, { ...t.blocks[1]!, payload: encodeCanonical({ rights: ['read', 'write'] }) }],
  });
  code(() => verifyToken(forged, trusted), 'E_UNAUTHORIZED', /block 1/);
  // Dropping the narrowing block leaves a proof that does not match the first block's key.
  code(() => verifyToken(encodeToken({ ...t, blocks: [t.blocks[0]!] }), trusted), 'E_UNAUTHORIZED', /proof/);
  // The first block's payload changed: the issuer's signature fails.
  const r = decodeToken(root);
  const wider = encodeCanonical({ ...(decodeCanonical(r.blocks[0]!.payload) as object), spaces: ['*'] });
  code(
    () => verifyToken(encodeToken({ ...r, blocks: [{ ...r.blocks[0]!, payload: wider }] }), trusted),
    'E_UNAUTHORIZED',
    /block 0/,
  );
  const other = newIssuerKey();
  code(
    () =>
      verifyToken(issueToken(other, { tenant: 'lab', rights: ['read'], spaces: ['*'], exp: NOW }), trusted),
    'E_UNAUTHORIZED',
    /does not trust/,
  );
  // An attacker who swaps in our key id still needs our signature.
  const impostor = decodeToken(
    issueToken(other, { tenant: 'lab', rights: ['read'], spaces: ['*'], exp: NOW }),
  );
  code(
    () => verifyToken(encodeToken({ ...impostor, issuer: keyId(issuer.publicKey) }), trusted),
    'E_UNAUTHORIZED',
    /block 0/,
  );
  const sealed = sealToken(root);
  assert.equal(verifyToken(sealed, trusted).sealed, true);
  code(() => attenuateToken(sealed, { rights: ['read'] }), 'E_FORBIDDEN', /sealed/);
  // A seal made by another key than the chain's is refused.
  const badSeal = decodeToken(
    sealToken(issueToken(issuer, { tenant: 'lab', rights: ['read'], spaces: ['*'], exp: NOW })),
  );
  code(() => verifyToken(encodeToken({ ...r, proof: badSeal.proof }), trusted), 'E_UNAUTHORIZED', /proof/);
});

test('malformed, oversized and badly formed tokens get a reason, never a crash', () => {
  code(() => verifyToken('', trusted), 'E_UNAUTHORIZED', /ddb1_/);
  code(() => verifyToken(`${TOKEN_PREFIX}!!!`, trusted), 'E_UNAUTHORIZED', /malformed/);
  code(() => verifyToken(TOKEN_PREFIX + 'A'.repeat(9000), trusted), 'E_UNAUTHORIZED', /too large/);
  code(
    () => verifyToken(TOKEN_PREFIX + toBase64Url(encodeCanonical([2, 'x', [], new Uint8Array(32)])), trusted),
    'E_UNAUTHORIZED',
    /version 1/,
  );
  code(() => verifyToken(root.slice(0, -10), trusted), 'E_UNAUTHORIZED', /malformed/);
  code(
    () => issueToken(issuer, { tenant: 'lab', rights: ['read'], spaces: ['*'] } as never),
    'E_UNAUTHORIZED',
    /exp/,
  );
  code(() => attenuateToken(root, {}), 'E_UNAUTHORIZED', /at least one caveat/);
  code(() => attenuateToken(root, { tenant: 'other' }), 'E_UNAUTHORIZED', /first block/);
  code(
    () => issueToken(issuer, { tenant: 'lab', rights: ['fly' as never], spaces: ['*'], exp: 1 }),
    'E_UNAUTHORIZED',
    /fly/,
  );
  // A block with a caveat this verifier does not know is refused, not ignored.
  const t = decodeToken(root);
  code(
    () =>
      verifyToken(
        encodeToken({
          ...t,
          blocks: [
            {
              ...t.blocks[0]!,
              payload: encodeCanonical({ tenant: 'lab', rights: [], spaces: ['*'], exp: 1, ip: '1.2.3.4' }),
            },
          ],
        }),
        trusted,
      ),
    'E_UNAUTHORIZED',
    /unknown caveat "ip"/,
  );
});

test('times are read with a stated clock skew allowance', () => {
  const v = verifyToken(attenuateToken(root, { nbf: NOW }), trusted);
  checkTime(v, NOW);
  checkTime(v, NOW - 29);
  code(() => checkTime(v, NOW - 31), 'E_UNAUTHORIZED', /not valid before/);
  checkTime(v, NOW + 3600 + 30);
  code(() => checkTime(v, NOW + 3600 + 31), 'E_UNAUTHORIZED', /expired/);
});

test('base64url is strict', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 31, 32, 33]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
    assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString('base64url'));
  }
  assert.throws(() => fromBase64Url('AB+/'));
  assert.throws(() => fromBase64Url('AB='));
  assert.throws(() => fromBase64Url('AF'), /stray bits/);
});
