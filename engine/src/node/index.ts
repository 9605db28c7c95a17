/** @dreamdb/engine/node: the Node-only edge of the engine. */
export { HASH_CHUNK_BYTES, hashFile } from './hash-file.js';
export { loadVectorFiles, VECTORS_DIR } from './vectors.js';
