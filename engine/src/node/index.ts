/** @dreamdb/engine/node: the Node-only edge of the engine. Loading it installs native BLAKE3 when present. */
export { HASH_CHUNK_BYTES, hashFile } from './hash-file.js';
export { loadNativeBlake3, nativeBlake3 } from './native-blake3.js';
export { loadVectorFiles, VECTORS_DIR } from './vectors.js';
