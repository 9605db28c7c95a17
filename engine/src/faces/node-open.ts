/**
 * @dreamdb/engine/node/open: opening a store from configuration, and nothing else of the Node edge, so a
 * command that only needs a store starts fast (the S3 client loads only for s3:// and http:// stores).
 * Loading it installs native BLAKE3 when present.
 */
import '../node/native-blake3.js';

export { nodeGraphBuild } from '../node/graph-shards.js';
export { defaultStoreDir, type OpenedStore, type OpenStoreOptions, openStore } from '../node/store/open.js';
