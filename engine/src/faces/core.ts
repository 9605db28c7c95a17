/**
 * `@dreamdb/engine`: the pure core, unchanged in Node and in the browser (the player imports it): time,
 * deterministic CBOR, BLAKE3 addresses, modality tags, the data model's records and their codecs, vector
 * payloads, and the one error type. What reads and writes a store is in the other faces.
 */

export {
  assertModality,
  FAMILIES,
  formatModality,
  MAX_MODALITY_LENGTH,
  type Modality,
  parseModality,
} from '../address/modality.js';
export {
  assertMultihash,
  BLAKE3_CODE,
  type Blake3Backend,
  type Blake3State,
  blake3Backend,
  createMultihasher,
  DIGEST_BYTES,
  equalBytes,
  hashBytes,
  hashParts,
  hashStream,
  MULTIHASH_BYTES,
  MULTIHASH_HEX,
  type Multihash,
  type Multihasher,
  multihashFromHex,
  multihashToHex,
  setBlake3Backend,
  verifyBytes,
  wasmBlake3,
} from '../address/multihash.js';
export { type Address, formatAddress, parseAddress } from '../address/uri.js';
export { joinParts } from '../bytes.js';
export {
  type CborValue,
  decodeCanonical,
  encodeCanonical,
  encodeCanonicalView,
  isCanonical,
} from '../cbor/deterministic.js';
export { fromHex, fromJsonForm, type JsonValue, toHex, toJsonForm } from '../cbor/json-form.js';
export { ALLOWED_TAGS, CborTag, TAGS, tagDuration, tagTick, untagTick } from '../cbor/tags.js';
export { EngineError, type EngineErrorCode } from '../errors.js';
export { decodeItem, encodeItem, type Item, itemFromCbor, itemToCbor, validateItem } from '../model/item.js';
export {
  decodeManifest,
  encodeManifest,
  MANIFEST_VERSION,
  type Manifest,
  manifestFromCbor,
  manifestToCbor,
  openManifest,
  sealManifest,
} from '../model/manifest.js';
export { assertName, isName } from '../model/names.js';
export type { SegmentRef } from '../model/segments.js';
export { decodeSpace, encodeSpace, type Space, spaceFromCbor, spaceToCbor } from '../model/space.js';
export {
  decodeTimeline,
  encodeTimeline,
  type Timeline,
  timelineFromCbor,
  timelineToCbor,
} from '../model/timeline.js';
export {
  decodeTrack,
  encodeTrack,
  type IndexRecord,
  TRACK_KINDS,
  type Track,
  type TrackIndex,
  type TrackKind,
  trackFromCbor,
  trackToCbor,
  validateTrack,
} from '../model/track.js';
export * from '../time/clock.js';
export * from '../time/parse.js';
export * from '../time/rate.js';
export * from '../time/ticks.js';
export {
  encodeVector,
  payloadVector,
  storedVectorBytes,
  vectorPayloadBytes,
  vectorTrackDimension,
} from '../vectors/payload.js';
