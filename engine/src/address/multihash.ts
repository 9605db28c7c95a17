import { createBLAKE3, type IHasher } from 'hash-wasm';
import { toHex } from '../cbor/json-form.js';
import { EngineError, quote } from '../errors.js';

/** A content address: multihash code 0x1e (BLAKE3), length 0x20, then the 32-byte BLAKE3-256 digest. */
export type Multihash = Uint8Array;

/** Multihash code of BLAKE3 (spec 0009 §3.1). */
export const BLAKE3_CODE = 0x1e;
/** Digest length in bytes. */
export const DIGEST_BYTES = 0x20;
/** Bytes of a multihash: two header bytes and the digest. */
export const MULTIHASH_BYTES = 2 + DIGEST_BYTES;

/** A BLAKE3 multihash in hex, as manifests and objects are named in refs, URLs and arguments. */
export const MULTIHASH_HEX = /^1e20[0-9a-f]{64}$/;

/** An incremental BLAKE3-256 state. */
export interface Blake3State {
  update(chunk: Uint8Array): void;
  /** The 32-byte digest. */
  digest(): Uint8Array;
}

/** A BLAKE3-256 implementation; every backend must give @noble/hashes' digests (the tests check). */
export interface Blake3Backend {
  readonly name: string;
  /** One-shot digest of bytes in memory. */
  digest(bytes: Uint8Array): Uint8Array;
  /** A fresh incremental state. */
  create(): Promise<Blake3State>;
}

// One WASM instance serves every synchronous one-shot hash; streams get their own.
const wasmOneShot: IHasher = await createBLAKE3(256);

/** hash-wasm's BLAKE3: portable (browser and Node), about 0.9 GB/s on one core. */
export const wasmBlake3: Blake3Backend = {
  name: 'hash-wasm',
  digest(bytes) {
    wasmOneShot.init();
    wasmOneShot.update(bytes);
    return wasmOneShot.digest('binary');
  },
  async create() {
    const hasher = await createBLAKE3(256);
    return { update: (chunk) => void hasher.update(chunk), digest: () => hasher.digest('binary') };
  },
};

let backend: Blake3Backend = wasmBlake3;

/** Choose the BLAKE3 implementation (the Node edge installs a native one when it loads). */
export function setBlake3Backend(next: Blake3Backend): void {
  backend = next;
}

/** The BLAKE3 implementation in use. */
export function blake3Backend(): Blake3Backend {
  return backend;
}

function wrap(digest: Uint8Array): Multihash {
  const out = new Uint8Array(MULTIHASH_BYTES);
  out[0] = BLAKE3_CODE;
  out[1] = DIGEST_BYTES;
  out.set(digest, 2);
  return out;
}

/** The multihash of bytes held in memory. */
export function hashBytes(bytes: Uint8Array): Multihash {
  return wrap(backend.digest(bytes));
}

/** The multihash of the concatenation of `parts` (without joining them). */
export async function hashParts(parts: readonly Uint8Array[]): Promise<Multihash> {
  if (parts.length === 1) return hashBytes(parts[0]!);
  const hasher = await backend.create();
  for (const part of parts) hasher.update(part);
  return wrap(hasher.digest());
}

/** An incremental hasher for input that arrives in pieces. */
export interface Multihasher {
  update(chunk: Uint8Array): void;
  /** The multihash of everything given to update; the hasher cannot be used after. */
  digest(): Multihash;
  /** Bytes given to update so far. */
  readonly bytesHashed: number;
}

/** Start an incremental hash; each hasher owns its WASM state, so streams may interleave. */
export async function createMultihasher(): Promise<Multihasher> {
  const hasher = await backend.create();
  let bytesHashed = 0;
  return {
    update(chunk) {
      hasher.update(chunk);
      bytesHashed += chunk.length;
    },
    digest: () => wrap(hasher.digest()),
    get bytesHashed() {
      return bytesHashed;
    },
  };
}

/** Hash a stream chunk by chunk without holding it whole (works on Node streams and web ReadableStreams). */
export async function hashStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Multihash> {
  const hasher = await createMultihasher();
  for await (const chunk of source) hasher.update(chunk);
  return hasher.digest();
}

/** The 68-character lowercase hex form used in object keys and URIs. */
export function multihashToHex(multihash: Multihash): string {
  assertMultihash(multihash);
  return toHex(multihash);
}

/** Parse the hex form; anything but "1e20" + 64 lowercase hex digits is refused. */
export function multihashFromHex(text: string): Multihash {
  if (typeof text !== 'string' || !MULTIHASH_HEX.test(text)) {
    throw new EngineError(
      'E_MULTIHASH',
      `${quote(text)} is not a BLAKE3 multihash (1e20 + 64 lowercase hex digits)`,
    );
  }
  const out = new Uint8Array(MULTIHASH_BYTES);
  for (let i = 0; i < MULTIHASH_BYTES; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Refuse anything that is not a 34-byte BLAKE3 multihash. */
export function assertMultihash(value: unknown, what = 'multihash'): Multihash {
  if (
    !(value instanceof Uint8Array) ||
    value.length !== MULTIHASH_BYTES ||
    value[0] !== BLAKE3_CODE ||
    value[1] !== DIGEST_BYTES
  ) {
    throw new EngineError(
      'E_MULTIHASH',
      `${what} ${quote(value)} is not a 34-byte BLAKE3 multihash (1e 20 ...)`,
    );
  }
  return value;
}

/** Throw E_HASH_MISMATCH unless `bytes` hash to `expected`; readers call this before trusting bytes. */
export function verifyBytes(bytes: Uint8Array, expected: Multihash, what = 'object'): void {
  const actual = hashBytes(bytes);
  if (!equalBytes(actual, expected)) {
    throw new EngineError(
      'E_HASH_MISMATCH',
      `${what} ${multihashToHex(expected)} hashes to ${multihashToHex(actual)}; its bytes are corrupt`,
    );
  }
}

/** Byte-wise equality. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
