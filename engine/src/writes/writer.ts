import { encodeCanonicalView } from '../cbor/deterministic.js';
import { type CheckedSelector, checkSelector, type DeleteSelector } from '../deletes/selector.js';
import type { Tombstone } from '../deletes/tombstone-list.js';
import { EngineError } from '../errors.js';
import '../indexes/builtin.js';
import { definedIndexes, IndexStager } from '../indexes/track-indexes.js';
import { itemToCbor, validateItem } from '../model/item.js';
import { assertName } from '../model/names.js';
import type { Timeline } from '../model/timeline.js';
import { type Track, validateTrack } from '../model/track.js';
import type { Resolved } from '../session/session.js';
import { assertTick, MAX_TICK, type Tick } from '../time/ticks.js';
import { concatColumns, type EntryColumns } from '../timeindex/columns.js';
import { payloadVector, vectorPayloadBytes, vectorTrackDimension } from '../vectors/payload.js';
import { StagedColumns } from './staged.js';

/** An item as a writer gives it: stream items carry bytes (a CMAF fragment), others any CBOR value. */
export interface WriteItem {
  readonly tick: Tick;
  readonly duration?: Tick;
  readonly layer?: string;
  readonly payload: unknown;
}

const key = (timeline: string, track: string) => `${timeline}/${track}`;

/** An item is at most 2 GiB; those over 64 MiB are stored as parts (spec 0014 §4). */
const MAX_ITEM_BYTES = 2 ** 31 - 1;

/** The checks of validateItem, without building the item or a path: the hot path (false: word it). */
function fits(item: WriteItem, track: Track): boolean {
  const { tick, duration, layer } = item;
  if (typeof tick !== 'bigint' || tick < 0n || tick > MAX_TICK) return false;
  if (duration !== undefined && (typeof duration !== 'bigint' || duration < 0n || tick + duration > MAX_TICK))
    return false;
  if (track.kind === 'stream')
    return (
      item.payload instanceof Uint8Array && duration !== undefined && duration > 0n && layer === undefined
    );
  if (track.kind === 'constant') return typeof layer === 'string' && layer.length >= 1 && layer.length <= 255;
  return layer === undefined;
}

/**
 * write: stages items into tracks of a timeline, checking each before anything is stored (ticks, the
 * track's kind and modality, monotonic stream time, item size). Nothing reaches the store until publish.
 * One item per tick per track: writing a tick again replaces the staged item.
 */
export class Writer {
  private readonly timelines = new Map<string, Timeline>();
  private readonly tracks = new Map<string, Track>();
  /** Staged items per track, as columns (StagedColumns): no object per item. */
  private readonly staged = new Map<string, StagedColumns>();
  private readonly streamLast = new Map<string, Tick>();
  /** Stream tracks: entries of items spill has already packed and uploaded (publish indexes them). */
  private readonly spilled = new Map<string, EntryColumns>();
  /** Tick ranges to delete per track, applied at publish to the items the writer was built on. */
  private readonly deleted = new Map<string, CheckedSelector[]>();
  /** Tracks and timelines this writer deleted whole, as their tombstones (spec 0020 §3). */
  private readonly dropped: Tombstone[] = [];

  constructor(readonly base?: Resolved) {
    for (const t of base?.manifest.timelines ?? []) this.timelines.set(t.name, t);
    for (const t of base?.manifest.tracks ?? []) this.tracks.set(key(t.timeline, t.name), t);
  }

  /** Define (or redefine) a timeline. */
  timeline(timeline: Timeline): this {
    assertName(timeline.name, 'timeline.name');
    this.timelines.set(timeline.name, timeline);
    return this;
  }

  /** Define a track; an existing track keeps its items and index, and may not change kind or modality. */
  track(track: Track): this {
    validateTrack(track);
    assertName(track.name, 'track.name'); // checked once here: write encodes items under this name
    assertName(track.timeline, 'track.timeline');
    if (!this.timelines.has(track.timeline)) {
      throw new EngineError('E_NOT_FOUND', `track ${track.name}: timeline ${track.timeline} is not defined`);
    }
    const old = this.tracks.get(key(track.timeline, track.name));
    if (old && (old.kind !== track.kind || old.modality !== track.modality)) {
      throw new EngineError(
        'E_FIELD',
        `track ${track.timeline}/${track.name} is a ${old.kind} track of ${old.modality}; it cannot become ${track.kind} of ${track.modality}`,
      );
    }
    const { index: _newIndex, indexes: _indexes, ...definition } = track;
    const indexes = definedIndexes(track, old);
    this.tracks.set(key(track.timeline, track.name), {
      ...definition,
      ...(old?.index && { index: old.index }),
      ...(indexes && { indexes }),
    });
    return this;
  }

  /** The tracks this writer will publish, with their current definitions. */
  allTracks(): Track[] {
    return [...this.tracks.values()];
  }

  allTimelines(): Timeline[] {
    return [...this.timelines.values()];
  }

  /** Stage items of one track. Refused as a whole if any item is bad. */
  write(timeline: string, trackName: string, items: readonly WriteItem[]): this {
    const track = this.tracks.get(key(timeline, trackName));
    if (!track) {
      const known = [...this.tracks.keys()].join(', ') || 'none';
      throw new EngineError(
        'E_NOT_FOUND',
        `track ${timeline}/${trackName} is not defined (tracks: ${known})`,
      );
    }
    const k = key(timeline, trackName);
    let last = this.streamLast.get(k) ?? (track.index ? track.index.last : -1n);
    let staged = this.staged.get(k);
    if (!staged) {
      staged = new StagedColumns();
      this.staged.set(k, staged);
    }
    const dimension = vectorTrackDimension(track);
    // What the track's index kinds need of each item is taken now, from the payload in hand.
    const stage = new IndexStager(track).into(staged);
    // Items are staged as they are checked; a bad item rolls the whole call back.
    const mark = staged.mark();
    try {
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        if (!fits(item, track)) {
          const path = `${timeline}/${trackName}[${i}]`;
          assertTick(item.tick, `${path}.tick`);
          validateItem({ ...item, track: trackName }, track, path);
        }
        const payload = dimension === undefined ? item.payload : vectorPayloadBytes(item.payload);
        if (dimension !== undefined) payloadVector(payload, dimension, `${timeline}/${trackName}[${i}]`);
        if (track.kind === 'stream') {
          if (item.tick <= last) {
            throw new EngineError(
              'E_TICK_RANGE',
              `${timeline}/${trackName}[${i}]: stream time must increase; tick ${item.tick} is not after ${last}`,
            );
          }
          last = item.tick;
        }
        // The item was just validated, so its CBOR is built directly, keys in canonical order (0001 §5);
        // the encoder's view is copied straight into the arena.
        const bytes =
          track.kind === 'stream'
            ? (item.payload as Uint8Array)
            : encodeCanonicalView(
                itemToCbor(
                  { tick: item.tick, duration: item.duration, layer: item.layer, track: trackName, payload },
                  true, // the track was found by this name: a defined track's name was checked
                ),
              );
        if (bytes.length > MAX_ITEM_BYTES) {
          throw new EngineError(
            'E_TOO_LARGE',
            `${timeline}/${trackName}[${i}]: ${bytes.length} bytes is over the item limit of 2 GiB`,
          );
        }
        // Event and constant bytes are the encoder's view, overwritten by the next encode.
        staged.push(item.tick, item.duration ?? 0n, bytes, item.layer, track.kind !== 'stream');
        stage?.(staged.count - 1, payload);
      }
    } catch (error) {
      staged.rollback(mark);
      throw error;
    }
    if (track.kind === 'stream') this.streamLast.set(k, last);
    return this;
  }

  /**
   * delete: remove a timeline (with its tracks), a track, or a track's items with from <= tick < to
   * (spec 0020 §2). Ranges apply at publish to the items of the version this writer was built on; items
   * this writer stages are written after them, so a batch can replace what it deletes.
   */
  delete(selector: DeleteSelector, path = 'delete'): this {
    const s = checkSelector(selector, path);
    if (!this.timelines.has(s.timeline))
      throw new EngineError('E_NOT_FOUND', `${path}: timeline ${s.timeline} is not defined`);
    if (s.track === undefined) {
      for (const track of [...this.tracks.values()]) if (track.timeline === s.timeline) this.drop(track);
      this.timelines.delete(s.timeline);
      this.dropped.push({ timeline: s.timeline, count: 0 });
      return this;
    }
    const track = this.tracks.get(key(s.timeline, s.track));
    if (!track)
      throw new EngineError('E_NOT_FOUND', `${path}: track ${s.timeline}/${s.track} is not defined`);
    if (s.whole) this.drop(track);
    else {
      const k = key(s.timeline, s.track);
      this.deleted.set(k, [...(this.deleted.get(k) ?? []), s]);
    }
    return this;
  }

  /** Forget a track and everything staged in it, and record its tombstone. */
  private drop(track: Track): void {
    const k = key(track.timeline, track.name);
    this.tracks.delete(k);
    this.staged.delete(k);
    this.spilled.delete(k);
    this.streamLast.delete(k);
    this.deleted.delete(k);
    this.dropped.push({
      timeline: track.timeline,
      track: track.name,
      count: track.index?.count ?? 0,
      ...(track.index && { root: track.index.root }),
    });
  }

  /** The tick ranges deleted from a track (checked selectors), or undefined. */
  deletedRanges(timeline: string, track: string): readonly CheckedSelector[] | undefined {
    return this.deleted.get(key(timeline, track));
  }

  /** Tombstones of the tracks and timelines deleted whole. */
  droppedTombstones(): readonly Tombstone[] {
    return this.dropped;
  }

  /** Staged items of a track, sorted by tick, one per tick; undefined when none. */
  stagedItems(timeline: string, track: string): StagedColumns | undefined {
    return this.staged.get(key(timeline, track))?.inOrder();
  }

  /** Bytes of a track's staged items (what `spill` would upload). */
  stagedBytes(timeline: string, track: string): number {
    return this.staged.get(key(timeline, track))?.bytesHeld ?? 0;
  }

  /** Take a track's staged items out of the writer (spill packs them into buckets itself). */
  takeStaged(timeline: string, track: string): StagedColumns | undefined {
    const staged = this.staged.get(key(timeline, track))?.inOrder();
    this.staged.delete(key(timeline, track));
    return staged;
  }

  /** Put back items taken by takeStaged (a spill that failed), ahead of any staged since. */
  restoreStaged(timeline: string, track: string, staged: StagedColumns): void {
    const k = key(timeline, track);
    const since = this.staged.get(k);
    if (since) for (let i = 0; i < since.count; i++) staged.pushItemOf(since, i);
    this.staged.set(k, staged);
  }

  /** Index entries of a track's items that spill already uploaded in buckets, in tick order. */
  spilledEntries(timeline: string, track: string): EntryColumns | undefined {
    return this.spilled.get(key(timeline, track));
  }

  /** Record entries of items just uploaded by spill (they come after those recorded before). */
  addSpilled(timeline: string, track: string, entries: EntryColumns): void {
    const k = key(timeline, track);
    const before = this.spilled.get(k);
    this.spilled.set(k, before ? concatColumns(before, entries) : entries);
  }

  /** Number of items written: staged, and already spilled. */
  get size(): number {
    let n = 0;
    for (const s of this.staged.values()) n += s.inOrder().count;
    for (const s of this.spilled.values()) n += s.count;
    return n;
  }
}
