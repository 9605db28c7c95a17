/** @dreamdb/engine/node: the Node-only edge of the engine. Loading it installs native BLAKE3 when present. */

export { fileSpill, nodeGraphBuild, workerShards } from '../node/graph-shards.js';
export { HASH_CHUNK_BYTES, hashFile } from '../node/hash-file.js';
export { loadNativeBlake3, nativeBlake3 } from '../node/native-blake3.js';
export { FsStore, isAlive, MAX_OBJECT_BYTES } from '../node/store/fs-store.js';
export {
  type HeldStore,
  HOLDER_FILE,
  type Holder,
  holdStore,
  readHolder,
  StoreHeldError,
} from '../node/store/holder.js';
export { HttpStore, type HttpStoreOptions } from '../node/store/http-store.js';
export { defaultStoreDir, type OpenedStore, type OpenStoreOptions, openStore } from '../node/store/open.js';
export {
  isLoopback,
  type StoreServer,
  type StoreServerOptions,
  type StoreServerStats,
  startStoreServer,
} from '../node/store/server.js';
export { type Credentials, signRequest, verifyRequest } from '../node/store/sigv4.js';
export { loadVectorFiles, VECTORS_DIR } from '../node/vectors.js';
