import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { hashBytes } from '../address/multihash.js';
import { encodeCanonical } from '../cbor/deterministic.js';
import { toHex } from '../cbor/json-form.js';
import {
  caveatsJson,
  type RequestJson,
  runTokenVectors,
  type TokenVectorFile,
} from '../conformance/token-vectors.js';
import type { Caveats } from './caveats.js';
import {
  attenuateToken,
  decodeToken,
  encodeToken,
  issueToken,
  keyId,
  newIssuerKey,
  sealToken,
  TOKEN_PREFIX,
  toBase64Url,
  verifyToken,
} from './token.js';

/**
 * spec/vectors/access/tokens.json: `DREAMDB_WRITE_VECTORS=1` rewrites it from this engine; otherwise the
 * engine must write it back byte for byte, verify it, and spec/vectors/access/check_tokens.py (Python's
 * `cryptography` Ed25519, cbor2 and b3sum) checks every signature, grant and request independently.
 */

const DIR = new URL('../../../spec/vectors/access/', import.meta.url);
const FILE = new URL('tokens.json', DIR);

const seed = (label: string) => hashBytes(new TextEncoder().encode(`dreamdb token vector ${label}`)).slice(2);
const NOW = 1_800_000_000;
const issuer = newIssuerKey(seed('issuer'));
const stranger = newIssuerKey(seed('stranger'));
const trusted = new Map([[keyId(issuer.publicKey), issuer.publicKey]]);
const S = 1_000_000_000n; // ticks per second

const lab: Caveats = {
  tenant: 'lab',
  rights: ['read', 'write', 'merge', 'ingest'],
  spaces: ['demo', 'team-*'],
  exp: NOW + 86_400,
  note: 'lab members',
};
const root = issueToken(issuer, lab, seed('root next'));
const reviewer = attenuateToken(
  root,
  { rights: ['read'], refs: ['main', 'heads/review-*'] },
  seed('reviewer next'),
);
const clip = attenuateToken(
  reviewer,
  { spaces: ['demo'], exp: NOW + 3600, window: { timeline: 'cam', from: 60n * S, to: 90n * S } },
  seed('clip next'),
);

const r = (request: RequestJson, allowed: boolean) => ({ request, allowed });
const VALID: { name: string; token: string; requests: ReturnType<typeof r>[] }[] = [
  {
    name: 'authority block: a tenant, rights, space patterns, an expiry',
    token: root,
    requests: [
      r({ right: 'write', space: 'demo', owner: 'lab', ref: 'main' }, true),
      r({ right: 'ingest', space: 'team-robots', owner: 'lab', ref: 'heads/x' }, true),
      r({ right: 'admin', space: 'demo', owner: 'lab' }, false),
      r({ right: 'read', space: 'other', owner: 'lab' }, false),
      r({ right: 'read', space: 'demo', owner: 'acme' }, false),
      r({ right: 'read' }, false),
    ],
  },
  {
    name: 'attenuated to read-only on main and review branches',
    token: reviewer,
    requests: [
      r({ right: 'read', space: 'team-a', owner: 'lab', ref: 'heads/review-7' }, true),
      r({ right: 'write', space: 'team-a', owner: 'lab', ref: 'heads/review-7' }, false),
      r({ right: 'read', space: 'team-a', owner: 'lab', ref: 'heads/other' }, false),
      r({ right: 'read', space: 'team-a', owner: 'lab', ref: `1e20${'0'.repeat(64)}` }, false),
    ],
  },
  {
    name: 'a 30-second clip of one timeline of one space, expiring in an hour',
    token: clip,
    requests: [
      r(
        {
          right: 'read',
          space: 'demo',
          owner: 'lab',
          ref: 'main',
          timeline: 'cam',
          from: String(60n * S),
          to: String(90n * S),
        },
        true,
      ),
      r(
        {
          right: 'read',
          space: 'demo',
          owner: 'lab',
          ref: 'main',
          timeline: 'cam',
          from: String(59n * S),
          to: String(90n * S),
        },
        false,
      ),
      r(
        {
          right: 'read',
          space: 'demo',
          owner: 'lab',
          ref: 'main',
          timeline: 'mic',
          from: String(60n * S),
          to: String(61n * S),
        },
        false,
      ),
      r({ right: 'read', space: 'demo', owner: 'lab', ref: 'main' }, false),
      r(
        {
          right: 'read',
          space: 'team-a',
          owner: 'lab',
          ref: 'main',
          timeline: 'cam',
          from: String(60n * S),
          to: String(61n * S),
        },
        false,
      ),
    ],
  },
  {
    name: 'sealed: verifies, cannot be extended',
    token: sealToken(reviewer),
    requests: [r({ right: 'read', space: 'demo', owner: 'lab', ref: 'main' }, true)],
  },
  {
    name: 'a block that asks for more gets the intersection',
    token: attenuateToken(
      root,
      { rights: ['read', 'admin'], spaces: ['*'], nbf: NOW - 60 },
      seed('wider next'),
    ),
    requests: [
      r({ right: 'read', space: 'team-b', owner: 'lab' }, true),
      r({ right: 'admin', space: 'demo', owner: 'lab' }, false),
      r({ right: 'read', space: 'elsewhere', owner: 'lab' }, false),
    ],
  },
];

const decoded = decodeToken(reviewer);
const forgedPayload = encodeCanonical({ rights: ['read', 'write'], refs: ['main', 'heads/review-*'] });
const INVALID: TokenVectorFile['invalid'] = [
  {
    name: 'expired',
    token: issueToken(issuer, { ...lab, exp: NOW - 31 }, seed('expired next')),
    error: 'E_UNAUTHORIZED',
    reason: 'expired',
  },
  {
    name: 'not yet valid (beyond the clock skew allowance)',
    token: issueToken(issuer, { ...lab, nbf: NOW + 31 }, seed('future next')),
    error: 'E_UNAUTHORIZED',
    reason: 'not valid before',
  },
  {
    name: 'an attenuation block rewritten to widen its rights',
    token: encodeToken({
      ...decoded,
      blocks: [decoded.blocks[0]!, { ...decoded.blocks[1]!, payload: forgedPayload }],
    }),
    error: 'E_UNAUTHORIZED',
    reason: 'bad signature on block 1',
  },
  {
    name: 'the narrowing block dropped',
    token: encodeToken({ ...decoded, blocks: [decoded.blocks[0]!] }),
    error: 'E_UNAUTHORIZED',
    reason: 'proof',
  },
  {
    name: 'signed by an untrusted issuer',
    token: issueToken(stranger, lab, seed('stranger next')),
    error: 'E_UNAUTHORIZED',
    reason: 'does not trust',
  },
  {
    name: 'an untrusted issuer naming a trusted key id',
    token: encodeToken({
      ...decodeToken(issueToken(stranger, lab, seed('stranger next'))),
      issuer: keyId(issuer.publicKey),
    }),
    error: 'E_UNAUTHORIZED',
    reason: 'bad signature on block 0',
  },
  {
    name: 'not base64url',
    token: `${TOKEN_PREFIX}not*base64`,
    error: 'E_UNAUTHORIZED',
    reason: 'malformed token',
  },
  {
    name: 'a version 2 token',
    token: TOKEN_PREFIX + toBase64Url(encodeCanonical([2, keyId(issuer.publicKey), [], new Uint8Array(32)])),
    error: 'E_UNAUTHORIZED',
    reason: 'version 1',
  },
];

function build(): TokenVectorFile {
  return {
    spec: '0018',
    issuers: [{ id: keyId(issuer.publicKey), public: toHex(issuer.publicKey) }],
    now: NOW,
    valid: VALID.map(({ name, token, requests }) => {
      const v = verifyToken(token, trusted);
      const { issuer: _i, blocks, revocationIds, sealed, ...effective } = v;
      return {
        name,
        token,
        blocks: blocks.map(caveatsJson),
        effective: caveatsJson(effective),
        revocation_ids: [...revocationIds],
        sealed,
        requests,
      };
    }),
    invalid: INVALID,
  };
}

const text = `${JSON.stringify(build(), null, 1)}\n`;
if (process.env.DREAMDB_WRITE_VECTORS === '1') writeFileSync(FILE, text);

test('the token vectors are what this engine writes now, byte for byte', () => {
  assert.equal(readFileSync(FILE, 'utf8'), text);
});

test('the engine verifies every token vector as the file says', () => {
  const outcomes = runTokenVectors(JSON.parse(readFileSync(FILE, 'utf8')) as TokenVectorFile);
  assert.equal(outcomes.length, VALID.length + INVALID.length);
  assert.deepEqual(
    outcomes.filter((o) => !o.ok),
    [],
  );
});

test("Python's cryptography Ed25519 checks every signature, grant and request of the vectors", () => {
  const out = execFileSync('/usr/bin/python3', [new URL('check_tokens.py', DIR).pathname], {
    encoding: 'utf8',
  });
  assert.match(out, new RegExp(`check_tokens: ${VALID.length + INVALID.length} passed, 0 failed`));
});
