import { joinParts } from '../bytes.js';
import { decodeCanonical, encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';

/**
 * The envelope every DreamDB object starts with (spec 0007 §2): a 12-byte preamble that names the
 * object's kind and the length of its deterministic-CBOR header, then the header, then an optional
 * payload (raw item bytes in buckets). A reader can fetch the first bytes of an object, learn its kind
 * and header size, and range-read the rest.
 *
 *   0  "DRDB"          magic
 *   4  u8  version     0
 *   5  u8  kind        1 manifest, 2 index page, 3 bucket, 4 item manifest, 5 spatial segment,
 *                      6 text directory, 7 text page, 8 tombstone list, 9 dropped ticks,
 *                      10 graph index, 11 graph page, 12 vector compressor
 *   6  u16 flags       0 (readers refuse other values)
 *   8  u32 header_len  big-endian length of the CBOR header
 *  12  header          deterministic CBOR map
 *  12+header_len       payload (kind-specific; may be empty)
 */

export const MAGIC = Uint8Array.of(0x44, 0x52, 0x44, 0x42); // "DRDB"
export const ENVELOPE_VERSION = 0;
export const PREAMBLE_BYTES = 12;

export const OBJECT_KINDS = {
  manifest: 1,
  indexPage: 2,
  bucket: 3,
  itemManifest: 4,
  spatialSegment: 5,
  textDirectory: 6,
  textPage: 7,
  tombstoneList: 8,
  droppedTicks: 9,
  graphIndex: 10,
  graphPage: 11,
  vectorCompressor: 12,
  graphBody: 13,
} as const;
export type ObjectKind = keyof typeof OBJECT_KINDS;
const KIND_NAMES = new Map<number, ObjectKind>(
  Object.entries(OBJECT_KINDS).map(([k, v]) => [v, k as ObjectKind]),
);

/** An opened object: its kind, decoded header and the offset where its payload starts. */
export interface Envelope {
  readonly kind: ObjectKind;
  readonly header: unknown;
  readonly payloadStart: number;
}

/**
 * An object as parts: the preamble and header, then the payload's own arrays (not copied). Large
 * objects (buckets of fragments) are hashed and written from the parts, never assembled in memory.
 */
export function sealObjectParts(
  kind: ObjectKind,
  header: unknown,
  payload: readonly Uint8Array[] = [],
): Uint8Array[] {
  const headerBytes = encodeCanonical(header);
  const head = new Uint8Array(PREAMBLE_BYTES + headerBytes.length);
  head.set(MAGIC, 0);
  head[4] = ENVELOPE_VERSION;
  head[5] = OBJECT_KINDS[kind];
  new DataView(head.buffer).setUint32(8, headerBytes.length);
  head.set(headerBytes, PREAMBLE_BYTES);
  return [head, ...payload];
}

/** Wrap a header (and payload) into object bytes. */
export function sealObject(
  kind: ObjectKind,
  header: unknown,
  payload?: Uint8Array | readonly Uint8Array[],
): Uint8Array {
  const parts = payload === undefined ? [] : payload instanceof Uint8Array ? [payload] : payload;
  return joinParts(sealObjectParts(kind, header, parts));
}

/** Read the preamble: the object's kind and header length. Needs at least the first 12 bytes. */
export function readPreamble(bytes: Uint8Array, what = 'object'): { kind: ObjectKind; headerBytes: number } {
  if (bytes.length < PREAMBLE_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new EngineError('E_FIELD', `${what}: not a DreamDB object (no "DRDB" preamble)`);
  }
  if (bytes[4] !== ENVELOPE_VERSION)
    throw new EngineError('E_FIELD', `${what}: envelope version ${bytes[4]} is not supported`);
  const kind = KIND_NAMES.get(bytes[5]!);
  if (!kind) throw new EngineError('E_FIELD', `${what}: unknown object kind ${bytes[5]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(6) !== 0)
    throw new EngineError('E_FIELD', `${what}: unknown envelope flags ${view.getUint16(6)}`);
  return { kind, headerBytes: view.getUint32(8) };
}

/** Open object bytes, checking they are of the expected kind. */
export function openObject(bytes: Uint8Array, expected: ObjectKind, what = 'object'): Envelope {
  const { kind, headerBytes } = readPreamble(bytes, what);
  if (kind !== expected) throw new EngineError('E_FIELD', `${what}: is a ${kind}, not a ${expected}`);
  const end = PREAMBLE_BYTES + headerBytes;
  if (end > bytes.length) throw new EngineError('E_FIELD', `${what}: header runs past the end of the object`);
  return { kind, header: decodeCanonical(bytes.subarray(PREAMBLE_BYTES, end)), payloadStart: end };
}
