import { createReadStream } from 'node:fs';
import { hashStream, type Multihash } from '../address/multihash.js';
import './native-blake3.js'; // hash files with the native BLAKE3 when it is installed

/** Read size for hashing files: large reads keep the per-chunk cost low without holding the file. */
export const HASH_CHUNK_BYTES = 1 << 20;

/** The multihash of a file, streamed in 1 MiB chunks: memory stays flat whatever the file's size. */
export function hashFile(path: string): Promise<Multihash> {
  return hashStream(createReadStream(path, { highWaterMark: HASH_CHUNK_BYTES }));
}
