/** @dreamdb/engine/node: the Node-only edge of the engine. Loading it installs native BLAKE3 when present. */
export { HASH_CHUNK_BYTES, hashFile } from './hash-file.js';
export { loadNativeBlake3, nativeBlake3 } from './native-blake3.js';
export { FsStore, MAX_OBJECT_BYTES } from './store/fs-store.js';
export { HttpStore, type HttpStoreOptions } from './store/http-store.js';
export { defaultStoreDir, type OpenedStore, openStore } from './store/open.js';
export {
  type StoreServer,
  type StoreServerOptions,
  type StoreServerStats,
  startStoreServer,
} from './store/server.js';
export { type Credentials, signRequest, verifyRequest } from './store/sigv4.js';
export { loadVectorFiles, VECTORS_DIR } from './vectors.js';
