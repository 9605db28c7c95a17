/**
 * `@dreamdb/engine/format`: the byte formats of spec 0007 for tools that read objects directly: the
 * envelope, buckets, ItemManifests, and the time index's pages and trees (each module whole: all of it is
 * the format).
 */

export * from '../format/bucket.js';
export * from '../format/envelope.js';
export * from '../format/item-manifest.js';
export * from '../timeindex/chunking.js';
export * from '../timeindex/columns.js';
export * from '../timeindex/diff.js';
export * from '../timeindex/edit.js';
export * from '../timeindex/page.js';
export * from '../timeindex/tree.js';
