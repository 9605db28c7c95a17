import { encodeCanonical } from '../cbor/deterministic.js';
import { EngineError } from '../errors.js';
import { MAX_BUCKET_BYTES } from '../format/bucket.js';
import { itemToCbor, validateItem } from '../model/item.js';
import { assertName } from '../model/names.js';
import type { Timeline } from '../model/timeline.js';
import { type Track, validateTrack } from '../model/track.js';
import { assertTick, type Tick } from '../time/ticks.js';
import type { Resolved } from './session.js';

/** An item as a writer gives it: stream items carry bytes (a CMAF fragment), others any CBOR value. */
export interface WriteItem {
  readonly tick: Tick;
  readonly duration?: Tick;
  readonly layer?: string;
  readonly payload: unknown;
}

/** An item ready for a bucket: its place in time and the exact bytes to store. */
export interface StagedItem {
  readonly tick: Tick;
  readonly duration: Tick;
  readonly bytes: Uint8Array;
  /** Constant items: the correction layer. */
  readonly layer?: string;
}

const key = (timeline: string, track: string) => `${timeline}/${track}`;

/**
 * write: stages items into tracks of a timeline, checking each before anything is stored (ticks, the
 * track's kind and modality, monotonic stream time, item size). Nothing reaches the store until publish.
 * One item per tick per track: writing a tick again replaces the staged item.
 */
export class Writer {
  private readonly timelines = new Map<string, Timeline>();
  private readonly tracks = new Map<string, Track>();
  /**
   * Staged items per track: a plain list while ticks only grow (the common, cheap case), turned into a
   * map by tick the first time a tick comes out of order or again.
   */
  private readonly staged = new Map<string, { list: StagedItem[]; byTick?: Map<bigint, StagedItem> }>();
  private readonly streamLast = new Map<string, Tick>();

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
    const { index: _newIndex, ...definition } = track;
    this.tracks.set(
      key(track.timeline, track.name),
      old?.index ? { ...definition, index: old.index } : definition,
    );
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
    const ready: StagedItem[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const full = {
        tick: item.tick,
        duration: item.duration,
        layer: item.layer,
        track: trackName,
        payload: item.payload,
      };
      try {
        // Checked without building the item's path (the hot path); a refusal is worded below.
        assertTick(item.tick);
        validateItem(full, track, '');
      } catch {
        const path = `${timeline}/${trackName}[${i}]`;
        assertTick(item.tick, `${path}.tick`);
        validateItem(full, track, path);
      }
      if (track.kind === 'stream') {
        if (item.tick <= last) {
          throw new EngineError(
            'E_TICK_RANGE',
            `${timeline}/${trackName}[${i}]: stream time must increase; tick ${item.tick} is not after ${last}`,
          );
        }
        last = item.tick;
      }
      // The item was just validated, so its CBOR is built directly, keys in canonical order (0001 §5).
      const bytes =
        track.kind === 'stream' ? (item.payload as Uint8Array) : encodeCanonical(itemToCbor(full));
      if (bytes.length > MAX_BUCKET_BYTES - 64 * 1024) {
        throw new EngineError(
          'E_TOO_LARGE',
          `${timeline}/${trackName}[${i}]: ${bytes.length} bytes is over the item limit (a bucket is at most 100 MiB)`,
        );
      }
      ready[i] =
        item.layer === undefined
          ? { tick: item.tick, duration: item.duration ?? 0n, bytes }
          : { tick: item.tick, duration: item.duration ?? 0n, bytes, layer: item.layer };
    }
    let staged = this.staged.get(k);
    if (!staged) {
      staged = { list: [] };
      this.staged.set(k, staged);
    }
    for (const item of ready) {
      const list = staged.list;
      if (!staged.byTick && (list.length === 0 || item.tick > list[list.length - 1]!.tick)) {
        list.push(item);
        continue;
      }
      if (!staged.byTick) staged.byTick = new Map(list.map((s) => [s.tick, s]));
      // Constant tracks: corrections are layers, and the lexicographically greatest layer wins (0008 §6.3).
      const previous = staged.byTick.get(item.tick);
      if (track.kind === 'constant' && previous?.layer !== undefined && previous.layer > item.layer!)
        continue;
      staged.byTick.set(item.tick, item);
    }
    if (track.kind === 'stream') this.streamLast.set(k, last);
    return this;
  }

  /** Staged items of a track, sorted by tick. */
  stagedItems(timeline: string, track: string): StagedItem[] {
    const staged = this.staged.get(key(timeline, track));
    if (!staged) return [];
    if (!staged.byTick) return staged.list;
    return [...staged.byTick.values()].sort((a, b) => (a.tick < b.tick ? -1 : 1));
  }

  /** Number of staged items. */
  get size(): number {
    let n = 0;
    for (const s of this.staged.values()) n += s.byTick ? s.byTick.size : s.list.length;
    return n;
  }
}
