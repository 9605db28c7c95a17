import { createRequire } from 'node:module';
import { type Blake3Backend, setBlake3Backend } from '../address/multihash.js';

interface NativeHasher {
  update(input: Buffer): NativeHasher;
  digestBuffer(): Buffer;
}

const require = createRequire(import.meta.url);

const asBuffer = (bytes: Uint8Array) =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The native BLAKE3 of @napi-rs/blake-hash (the Rust blake3 crate, SIMD): about 8 GB/s on one core here,
 * where WASM gives 0.9. Undefined when its prebuilt binary is not installed for this platform.
 */
export function loadNativeBlake3(): Blake3Backend | undefined {
  let Hasher: new () => NativeHasher;
  try {
    Hasher = (require('@napi-rs/blake-hash') as { Blake3Hasher: new () => NativeHasher }).Blake3Hasher;
  } catch {
    return undefined;
  }
  return {
    name: 'native (@napi-rs/blake-hash)',
    digest: (bytes) => new Uint8Array(new Hasher().update(asBuffer(bytes)).digestBuffer()),
    async create() {
      const hasher = new Hasher();
      return {
        update: (chunk) => void hasher.update(asBuffer(chunk)),
        digest: () => new Uint8Array(hasher.digestBuffer()),
      };
    },
  };
}

/** The native backend, installed as the engine's BLAKE3 as soon as any Node-edge module loads. */
export const nativeBlake3 = loadNativeBlake3();
if (nativeBlake3) setBlake3Backend(nativeBlake3);
