import { type Multihash, multihashToHex } from '../address/multihash.js';
import type { Address } from '../address/uri.js';
import { joinParts } from '../bytes.js';
import { decodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { decodeBucketHeader } from '../format/bucket.js';
import { PREAMBLE_BYTES, readPreamble } from '../format/envelope.js';
import { decodeItemManifest, isItemManifest } from '../format/item-manifest.js';
import { itemFromCbor } from '../model/item.js';
import type { Track } from '../model/track.js';
import { findTrack, type Resolved, type Session } from '../session/session.js';
import { MAX_TICK, type Tick, tickFromHex, tickToHex } from '../time/ticks.js';
import type { IndexEntry } from '../timeindex/page.js';
import type { TreeRoot } from '../timeindex/tree.js';

/** An item as the read verbs return it. */
export interface ReadItem {
  readonly timeline: string;
  readonly track: string;
  readonly tick: Tick;
  readonly duration: Tick;
  readonly address: Address;
  /** The stored bytes: a CMAF fragment for stream items, the item's CBOR for the others. */
  readonly bytes: Uint8Array;
  /** Event and constant items: the decoded payload. */
  readonly payload?: unknown;
  readonly layer?: string;
}

/** Bytes of a bucket read to find its header: enough for most headers in one GET. */
const HEAD_BYTES = 64 * 1024;

/**
 * A bucket's header (its items' ticks and byte ranges, the parts it names) from its first bytes; the
 * preamble and the header alone when erased items follow the header (spec 0020 §7).
 */
export async function readBucketHeader(session: Session, bucket: Multihash) {
  let head: Uint8Array;
  try {
    head = await session.store.getRange(bucket, { start: 0, end: HEAD_BYTES });
  } catch (error) {
    if (!isErased(error)) throw error;
    head = await session.store.getRange(bucket, { start: 0, end: PREAMBLE_BYTES });
  }
  const end = PREAMBLE_BYTES + readPreamble(head, 'bucket').headerBytes;
  if (end > head.length) head = await session.store.getRange(bucket, { start: 0, end });
  return decodeBucketHeader(head, `bucket ${multihashToHex(bucket)}`);
}

/** Whether an error is an erased item's (spec 0020 §7): reads of many items leave such an item out. */
export const isErased = (error: unknown): boolean =>
  error instanceof EngineError && error.code === 'E_ERASED';

/** The root of a track's index, as the tree functions take it; undefined while the track is empty. */
export function trackRoot(track: Track): TreeRoot | undefined {
  const index = track.index;
  return (
    index && {
      page: index.root,
      height: index.height,
      count: index.count,
      first: index.first,
      last: index.last,
    }
  );
}

/** A stored constant item's correction layer ('' when it has none) and its bytes (parts joined). */
export async function storedLayer(
  session: Session,
  track: Track,
  entry: IndexEntry,
): Promise<{ layer: string; bytes: Uint8Array }> {
  const bytes = await itemBytes(session, await session.store.getRange(entry.object, entry));
  return { layer: toItem(session.store.space, track, entry, bytes).layer ?? '', bytes };
}

/**
 * The index entries (tick, duration, object, byte range) of a track's items with t0 <= tick < t1, in
 * tick order, without fetching any item: what a playlist or a seek needs.
 */
export async function* trackEntries(
  session: Session,
  track: Track,
  t0: Tick = 0n,
  t1: Tick = MAX_TICK,
): AsyncGenerator<IndexEntry> {
  const root = trackRoot(track);
  if (root) yield* session.pages.range(root, t0, t1);
}

/**
 * The index entry for tick t without fetching the item: in a stream track, the fragment covering t (its
 * tick is the sync sample playback starts from); in an event or constant track, the item at or before t.
 */
export async function seekEntry(session: Session, track: Track, t: Tick): Promise<IndexEntry | undefined> {
  const root = trackRoot(track);
  if (!root) return undefined;
  const entry = await session.pages.floor(root, t);
  if (entry && track.kind === 'stream' && entry.tick + entry.duration <= t) return undefined;
  return entry;
}

/**
 * An item's own bytes from what its entry's range holds: the bytes themselves, or, for an item stored as
 * parts (spec 0014 §4), its parts fetched (each verified by its hash) and joined.
 */
export async function itemBytes(session: Session, stored: Uint8Array): Promise<Uint8Array> {
  if (!isItemManifest(stored)) return stored;
  const manifest = decodeItemManifest(stored);
  const parts = await Promise.all(manifest.parts.map((p) => session.store.getObject(p.object)));
  return joinParts(parts);
}

/** The ReadItem for an entry's stored bytes; event items are decoded and checked against their entry. */
export function toItem(space: string, track: Track, entry: IndexEntry, bytes: Uint8Array): ReadItem {
  const address: Address = {
    space,
    object: multihashToHex(entry.object),
    start: entry.start,
    end: entry.end,
  };
  const base = {
    timeline: track.timeline,
    track: track.name,
    tick: entry.tick,
    duration: entry.duration,
    address,
    bytes,
  };
  if (track.kind === 'stream') return base;
  const item = itemFromCbor(decodeCanonical(bytes), `item ${track.name}@${entry.tick}`);
  if (item.tick !== entry.tick || item.track !== track.name) {
    throw new EngineError(
      'E_HASH_MISMATCH',
      `item at ${address.object}#bytes:${entry.start}-${entry.end} is not ${track.name}@${entry.tick}`,
    );
  }
  return { ...base, payload: item.payload, ...(item.layer !== undefined && { layer: item.layer }) };
}

/**
 * read: one item by tick. In a stream track, the item covering tick t (t inside [tick, tick + duration));
 * in an event or constant track, the item at or before t. Undefined when there is none.
 */
export async function read(
  session: Session,
  resolved: Resolved,
  where: { timeline: string; track: string; tick: Tick },
): Promise<ReadItem | undefined> {
  const track = findTrack(resolved.manifest, where.timeline, where.track);
  const entry = await seekEntry(session, track, where.tick);
  if (!entry) return undefined;
  const stored = await session.store.getRange(entry.object, entry);
  return toItem(session.store.space, track, entry, await itemBytes(session, stored));
}

/** Options of a range query. */
export interface RangeQuery {
  readonly timeline: string;
  /** Tracks to read; all of the timeline's tracks when omitted. */
  readonly tracks?: readonly string[];
  readonly t0: Tick;
  /** End, exclusive. */
  readonly t1: Tick;
  /** At most this many items (default: all). */
  readonly limit?: number;
  /** Resume after the item a previous page ended on. */
  readonly cursor?: string;
}

/** A page of a range query: items in (tick, track) order, and the cursor to resume after them. */
export interface RangePage {
  readonly items: ReadItem[];
  readonly cursor?: string;
}

/** Neighbouring items of one object are fetched together when the gap between them is at most this. */
export const COALESCE_GAP = 64 * 1024;
/** ...and while the run stays under this many bytes. */
export const COALESCE_MAX = 8 * 1024 * 1024;

/** Items of one track in [t0, t1), fetched with one range read per run of neighbouring items. */
async function* trackItems(session: Session, track: Track, t0: Tick, t1: Tick): AsyncGenerator<ReadItem> {
  let run: IndexEntry[] = [];
  const flush = async function* () {
    if (run.length === 0) return;
    const object: Multihash = run[0]!.object;
    const start = run[0]!.start;
    const end = run[run.length - 1]!.end;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await session.store.getRange(object, { start, end });
    } catch (error) {
      if (!isErased(error)) throw error;
    }
    for (const entry of run) {
      // An erased item (spec 0020 §7) is left out; the items around it read as before, one by one.
      try {
        const stored = bytes
          ? bytes.subarray(entry.start - start, entry.end - start)
          : await session.store.getRange(entry.object, entry);
        yield toItem(session.store.space, track, entry, await itemBytes(session, stored));
      } catch (error) {
        if (!isErased(error)) throw error;
      }
    }
    run = [];
  };
  for await (const entry of trackEntries(session, track, t0, t1)) {
    const last = run[run.length - 1];
    const joins =
      last &&
      multihashToHex(last.object) === multihashToHex(entry.object) &&
      entry.start >= last.end &&
      entry.start - last.end <= COALESCE_GAP &&
      entry.end - run[0]!.start <= COALESCE_MAX;
    if (!joins) yield* flush();
    run.push(entry);
  }
  yield* flush();
}

function parseCursor(cursor: string): { tick: Tick; track: string } {
  const slash = cursor.indexOf('/');
  try {
    return { tick: tickFromHex(cursor.slice(0, slash)), track: cursor.slice(slash + 1) };
  } catch {
    throw new EngineError(
      'E_BAD_REQUEST',
      `cursor ${JSON.stringify(cursor)} is not one this server gave out`,
    );
  }
}

/**
 * range: items of chosen tracks with t0 <= tick < t1, in (tick, track) order, streamed track by track and
 * merged; with a limit, returns a cursor that resumes exactly after the last item returned.
 */
export async function range(session: Session, resolved: Resolved, query: RangeQuery): Promise<RangePage> {
  const tracks = (
    query.tracks
      ? [...new Set(query.tracks)]
      : resolved.manifest.tracks.filter((t) => t.timeline === query.timeline).map((t) => t.name)
  )
    .map((name) => findTrack(resolved.manifest, query.timeline, name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const after = query.cursor ? parseCursor(query.cursor) : undefined;
  const t0 = after && after.tick > query.t0 ? after.tick : query.t0;
  const limit = query.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 1) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
    throw new EngineError('E_BAD_REQUEST', `range limit ${query.limit} must be a positive integer`);
  }
  const heads = await Promise.all(
    tracks.map(async (track) => {
      const iterator = trackItems(session, track, t0, query.t1);
      return { iterator, next: await iterator.next() };
    }),
  );
  const items: ReadItem[] = [];
  while (items.length < limit) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.next.done) continue;
      const item = head.next.value;
      if (after && (item.tick < after.tick || (item.tick === after.tick && item.track <= after.track))) {
        head.next = await head.iterator.next();
        i--;
        continue;
      }
      const current = best >= 0 ? (heads[best]!.next.value as ReadItem) : undefined;
      if (!current || item.tick < current.tick) best = i;
    }
    if (best < 0) return { items };
    items.push(heads[best]!.next.value as ReadItem);
    heads[best]!.next = await heads[best]!.iterator.next();
  }
  const more = heads.some((h) => !h.next.done);
  for (const head of heads) await head.iterator.return(undefined);
  const last = items[items.length - 1]!;
  return more ? { items, cursor: `${tickToHex(last.tick)}/${last.track}` } : { items };
}
