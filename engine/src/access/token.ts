import { ed25519 } from '@noble/curves/ed25519.js';
import { hashBytes } from '../address/multihash.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { toHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { type Caveats, caveatsToCbor, combine, type Effective, readCaveats } from './caveats.js';

/**
 * Capability tokens (spec 0018 §2): a chain of blocks in the manner of biscuits. The issuer signs the
 * first block with its Ed25519 key; each block carries the public half of a fresh key that signs the next
 * one, and the token carries the secret half of the last block's key (its proof), so a holder can append a
 * narrower block without the issuer. Sealing replaces that secret with a signature: no more blocks.
 * Anyone who knows the issuer's public key verifies a token offline.
 */

/** The text every token begins with, then base64url (no padding) of its CBOR. */
export const TOKEN_PREFIX = 'ddb1_';
/** The largest token a verifier reads, in characters: a longer one is refused before decoding. */
export const MAX_TOKEN_CHARS = 8192;
/** The most blocks in a chain. */
export const MAX_BLOCKS = 16;
/** What each block's signature is over begins with this (domain separation from other Ed25519 uses). */
const CONTEXT = new TextEncoder().encode('dreamdb.token.v1');
const SEAL_CONTEXT = new TextEncoder().encode('dreamdb.token.v1.seal');

/** One signed block: its caveats as CBOR bytes, the key that signs the next block, its signature. */
export interface Block {
  readonly payload: Uint8Array;
  readonly nextKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A decoded token: the chain and its proof (a 32-byte secret: attenuable; a 64-byte signature: sealed). */
export interface Token {
  /** The id of the issuer key that signed block 0 (keyId): a hint, checked by that signature. */
  readonly issuer: string;
  readonly blocks: readonly Block[];
  readonly proof: Uint8Array;
}

/** An issuer's key pair; `id` names the public key in the first block (8 bytes of its BLAKE3, hex). */
export interface IssuerKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

const unauthorized = (message: string) => new EngineError('E_UNAUTHORIZED', message);

/** The id of an issuer public key: the first 8 bytes of its BLAKE3-256, in hex. */
export const keyId = (publicKey: Uint8Array): string => toHex(hashBytes(publicKey).subarray(2, 10));

/** A new issuer key pair; `seed` (32 bytes) makes it reproducible (test vectors). */
export function newIssuerKey(seed?: Uint8Array): IssuerKey {
  const { secretKey, publicKey } = ed25519.keygen(seed);
  return { secretKey, publicKey };
}

/** The public key of a 32-byte Ed25519 secret key. */
export const publicKeyOf = (secretKey: Uint8Array): Uint8Array => ed25519.getPublicKey(secretKey);

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes block `i` signs: the context, the previous block's signature, its payload, its next key. */
const signedBytes = (previous: Uint8Array, payload: Uint8Array, nextKey: Uint8Array) =>
  join(CONTEXT, previous, payload, nextKey);

function appendBlock(
  blocks: readonly Block[],
  signer: Uint8Array,
  caveats: Caveats,
  nextSeed: Uint8Array | undefined,
): Omit<Token, 'issuer'> {
  const payload = encodeCanonical(caveatsToCbor(caveats));
  const next = ed25519.keygen(nextSeed);
  const previous = blocks.at(-1)?.signature ?? new Uint8Array(0);
  const signature = ed25519.sign(signedBytes(previous, payload, next.publicKey), signer);
  return { blocks: [...blocks, { payload, nextKey: next.publicKey, signature }], proof: next.secretKey };
}

const chain = (issuer: string, token: Omit<Token, 'issuer'>): Token => ({ issuer, ...token });

/**
 * A new token: the issuer signs the authority block (tenant, rights, spaces, exp at least). `nextSeed`
 * fixes the chain's next key (test vectors); otherwise it is random.
 */
export function issueToken(issuer: IssuerKey, caveats: Caveats, nextSeed?: Uint8Array): string {
  readCaveats(caveatsToCbor(caveats), true);
  return encodeToken(chain(keyId(issuer.publicKey), appendBlock([], issuer.secretKey, caveats, nextSeed)));
}

/** A narrower token, derived by a holder without the issuer: one more block of caveats. */
export function attenuateToken(token: string, caveats: Caveats, nextSeed?: Uint8Array): string {
  const decoded = decodeToken(token);
  if (decoded.proof.length !== 32)
    throw new EngineError('E_FORBIDDEN', 'this token is sealed: no block can be added to it');
  if (decoded.blocks.length >= MAX_BLOCKS)
    throw new EngineError('E_FORBIDDEN', `a token has at most ${MAX_BLOCKS} blocks`);
  readCaveats(caveatsToCbor(caveats), false);
  return encodeToken(chain(decoded.issuer, appendBlock(decoded.blocks, decoded.proof, caveats, nextSeed)));
}

/** The token sealed: its proof becomes a signature over the last block's, so nobody can extend it. */
export function sealToken(token: string): string {
  const decoded = decodeToken(token);
  if (decoded.proof.length !== 32) return token;
  const last = decoded.blocks.at(-1)!;
  const seal = ed25519.sign(join(SEAL_CONTEXT, last.signature), decoded.proof);
  return encodeToken({ issuer: decoded.issuer, blocks: decoded.blocks, proof: seal });
}

/** A token's text form. */
export function encodeToken(token: Token): string {
  const cbor = encodeCanonical([
    1,
    token.issuer,
    token.blocks.map((b) => [b.payload, b.nextKey, b.signature]),
    token.proof,
  ]);
  return TOKEN_PREFIX + toBase64Url(cbor);
}

const isBytes = (v: unknown, length: number): v is Uint8Array =>
  v instanceof Uint8Array && v.length === length;

/** A token's structure, read without checking any signature (inspect, attenuate); malformed: E_UNAUTHORIZED. */
export function decodeToken(text: string): Token {
  if (text.length > MAX_TOKEN_CHARS)
    throw unauthorized(`token too large: ${text.length} characters, at most ${MAX_TOKEN_CHARS}`);
  if (!text.startsWith(TOKEN_PREFIX))
    throw unauthorized(`malformed token: it does not begin with ${TOKEN_PREFIX}`);
  let value: unknown;
  try {
    value = decodeCanonical(fromBase64Url(text.slice(TOKEN_PREFIX.length)));
  } catch (error) {
    throw unauthorized(`malformed token: ${(error as Error).message.replace(/^E_[A-Z_]+: /, '')}`);
  }
  if (!Array.isArray(value) || value.length !== 4 || value[0] !== 1)
    throw unauthorized('malformed token: not a version 1 token [1, issuer, blocks, proof]');
  const [, issuer, rawBlocks, proof] = value as [number, unknown, unknown, unknown];
  if (typeof issuer !== 'string' || !/^[0-9a-f]{16}$/.test(issuer))
    throw unauthorized('malformed token: its issuer is not a key id (16 hex digits)');
  if (!Array.isArray(rawBlocks) || rawBlocks.length === 0 || rawBlocks.length > MAX_BLOCKS)
    throw unauthorized(`malformed token: it must have 1-${MAX_BLOCKS} blocks`);
  const blocks = rawBlocks.map((b, i): Block => {
    if (
      !Array.isArray(b) ||
      b.length !== 3 ||
      !(b[0] instanceof Uint8Array) ||
      !isBytes(b[1], 32) ||
      !isBytes(b[2], 64)
    )
      throw unauthorized(
        `malformed token: block ${i} is not [payload, next key (32 bytes), signature (64 bytes)]`,
      );
    return { payload: b[0], nextKey: b[1], signature: b[2] };
  });
  if (!isBytes(proof, 32) && !isBytes(proof, 64))
    throw unauthorized('malformed token: its proof is neither a 32-byte key nor a 64-byte seal');
  return { issuer, blocks, proof };
}

/** The caveats of each block, as written (inspect: no signature is checked). */
export function tokenCaveats(token: Token): Caveats[] {
  return token.blocks.map((b, i) => {
    let value: unknown;
    try {
      value = decodeCanonical(b.payload);
    } catch (error) {
      throw unauthorized(`malformed token: block ${i}: ${(error as Error).message}`);
    }
    try {
      return readCaveats(value, i === 0);
    } catch (error) {
      throw unauthorized(`${(error as Error).message.replace(/^E_[A-Z_]+: /, '')} (block ${i})`);
    }
  });
}

/** What a verified token says: its combined caveats, its blocks', and the ids that revoke it. */
export interface VerifiedToken extends Effective {
  /** The issuer key's id (keyId). */
  readonly issuer: string;
  readonly blocks: readonly Caveats[];
  /** One per block (hex): revoking block i's id revokes this token and every token derived from it. */
  readonly revocationIds: readonly string[];
  readonly sealed: boolean;
}

/** The id that revokes a block: the first 16 bytes of the BLAKE3-256 of its signature, hex. */
export const revocationId = (block: Block): string => toHex(hashBytes(block.signature).subarray(2, 18));

/**
 * Check a token's signatures against the issuers an origin trusts (by key id) and read its caveats. Times
 * are not checked here (see `checkTime`), so a verified token can be cached; any failure is E_UNAUTHORIZED.
 */
export function verifyToken(text: string, issuers: ReadonlyMap<string, Uint8Array>): VerifiedToken {
  const token = decodeToken(text);
  const caveats = tokenCaveats(token);
  const key = issuers.get(token.issuer);
  if (!key) throw unauthorized(`token issued by key ${token.issuer}, which this origin does not trust`);
  const first = token.blocks[0]!;
  if (!ed25519.verify(first.signature, signedBytes(new Uint8Array(0), first.payload, first.nextKey), key))
    throw unauthorized('token tampered: bad signature on block 0');
  for (let i = 1; i < token.blocks.length; i++) {
    const b = token.blocks[i]!;
    const previous = token.blocks[i - 1]!;
    if (!ed25519.verify(b.signature, signedBytes(previous.signature, b.payload, b.nextKey), previous.nextKey))
      throw unauthorized(`token tampered: bad signature on block ${i}`);
  }
  const last = token.blocks.at(-1)!;
  const sealed = token.proof.length === 64;
  const proofHolds = sealed
    ? ed25519.verify(token.proof, join(SEAL_CONTEXT, last.signature), last.nextKey)
    : equal(ed25519.getPublicKey(token.proof), last.nextKey);
  if (!proofHolds) throw unauthorized('token tampered: its proof does not match its last block');
  return {
    ...combine(caveats),
    issuer: token.issuer,
    blocks: caveats,
    revocationIds: token.blocks.map(revocationId),
    sealed,
  };
}

/** How far apart an origin's clock and an issuer's may be, in seconds: nbf and exp are read with it. */
export const CLOCK_SKEW_SECONDS = 30;

/** Refuse a token outside its validity at `nowSeconds` (with the skew allowance), naming the bound. */
export function checkTime(token: Effective, nowSeconds: number): void {
  if (nowSeconds > token.exp + CLOCK_SKEW_SECONDS)
    throw unauthorized(`token expired at ${new Date(token.exp * 1000).toISOString()}`);
  if (token.nbf !== undefined && nowSeconds + CLOCK_SKEW_SECONDS < token.nbf)
    throw unauthorized(
      `token not valid before ${new Date(token.nbf * 1000).toISOString()} (check the clocks)`,
    );
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** base64url without padding (RFC 4648 §5), which URLs, headers and fragments carry unescaped. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += B64[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** base64url without padding, strictly: any other character or a dangling one is refused. */
export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error('base64url of a length no bytes have');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const c of text) {
    const v = B64_INDEX.get(c);
    if (v === undefined) throw new Error(`${JSON.stringify(c)} is not a base64url character`);
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 255;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw new Error('base64url with stray bits at its end');
  return out;
}
