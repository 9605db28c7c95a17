import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { Track } from '../model/track.js';
import { findTrack, type Resolved, type Session } from '../session/session.js';
import { assertTick, type Tick } from '../time/ticks.js';
import type { IndexEntry } from '../timeindex/page.js';
import { COALESCE_GAP, COALESCE_MAX, isErased, itemBytes, type ReadItem, toItem } from './read.js';

/** Options of a stream. */
export interface StreamOptions {
  readonly timeline: string;
  /** Tracks to play; all of the timeline's tracks when omitted. */
  readonly tracks?: readonly string[];
  /** First tick (items with tick >= from, as in range). */
  readonly from: Tick;
  /** End, exclusive (default: to the end of every track). */
  readonly to?: Tick;
  /** Most bytes requested and not yet handed to the consumer (default 8 MiB). */
  readonly maxBytesInFlight?: number;
  /** Prefetch window at the start and after a seek (default 256 KiB, at most maxBytesInFlight). */
  readonly initialWindow?: number;
}

/** What a stream has done so far; live, updated as it runs. */
export interface StreamStats {
  /** Items handed to the consumer. */
  yielded: number;
  /** Items whose bytes were already fetched when the consumer asked for them. */
  hits: number;
  /** Items the consumer had to wait for. */
  misses: number;
  /** Range GETs issued (one per run of neighbouring items). */
  fetches: number;
  /** Bytes received (coalescing gaps included). */
  bytesFetched: number;
  /** Bytes requested and not yet handed to the consumer (or, when dropped by a seek or stop, not yet received). */
  bytesInFlight: number;
  peakBytesInFlight: number;
  /** How far ahead of the consumer fetches may reach, in bytes. */
  window: number;
}

/** Items in (tick, track) order with prefetch; one pass, not safe to call next() from two consumers. */
export interface ItemStream extends AsyncIterableIterator<ReadItem> {
  readonly stats: Readonly<StreamStats>;
  /** Drop what was prefetched and continue from `tick`, with the window back at its initial size. */
  seek(tick: Tick): Promise<void>;
  /** Stop: no fetch is started after this, and it resolves once every fetch already started has ended. */
  return(): Promise<IteratorResult<ReadItem>>;
}

/** Same coalescing as read.ts (its constants are not exported): neighbours this close share one GET. */
const DEFAULT_MAX_BYTES_IN_FLIGHT = 8 * 1024 * 1024;
const DEFAULT_INITIAL_WINDOW = 256 * 1024;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** One range GET: a run of neighbouring items of one object. */
interface Fetch {
  readonly object: IndexEntry['object'];
  readonly start: number;
  end: number;
  /** Items of this fetch not yet yielded or dropped; its bytes count as in flight until then. */
  unclaimed: number;
  settled: boolean;
  released: boolean;
  bytes?: Uint8Array;
  error?: unknown;
  /** Resolves when the GET ends; never rejects (the error is kept in `error`). */
  promise?: Promise<void>;
}

interface Slot {
  readonly track: Track;
  readonly entry: IndexEntry;
  readonly fetch: Fetch;
}

/** A track's index walk and its next entry (undefined when the walk is over). */
interface Head {
  readonly track: Track;
  readonly iterator: AsyncGenerator<IndexEntry>;
  next: IndexEntry | undefined;
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new EngineError('E_BAD_REQUEST', `${what} ${value} is not a positive integer number of bytes`);
  }
  return value;
}

/**
 * stream: the items of chosen tracks from a tick on, in (tick, track) order (the order of range), fetched
 * ahead of the consumer. The window opens by each consumed item's size (doubling per window of in-order
 * playback, like TCP slow start) up to maxBytesInFlight, and closes back to its initial size on a seek.
 */
export function stream(session: Session, resolved: Resolved, options: StreamOptions): ItemStream {
  const tracks = (
    options.tracks ??
    resolved.manifest.tracks.filter((t) => t.timeline === options.timeline).map((t) => t.name)
  )
    .map((name) => findTrack(resolved.manifest, options.timeline, name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  assertTick(options.from, 'from');
  if (options.to !== undefined) assertTick(options.to, 'to');
  const max = positive(options.maxBytesInFlight, DEFAULT_MAX_BYTES_IN_FLIGHT, 'maxBytesInFlight');
  const initial = Math.min(max, positive(options.initialWindow, DEFAULT_INITIAL_WINDOW, 'initialWindow'));
  return new Playback(session, tracks, options.from, options.to, max, initial);
}

class Playback implements ItemStream {
  readonly stats: StreamStats;
  private heads: Head[] | undefined;
  private pending: Slot[] = [];
  private planning: Promise<void> | undefined;
  private exhausted = false;
  private closed = false;
  private failure: unknown;
  /** Bumped by seek and return: a plan of an older generation issues nothing. */
  private generation = 0;
  private readonly outstanding = new Set<Promise<void>>();
  /** next, seek and return run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: Session,
    private readonly tracks: readonly Track[],
    private position: Tick,
    private readonly to: Tick | undefined,
    private readonly max: number,
    private readonly initial: number,
  ) {
    this.stats = {
      yielded: 0,
      hits: 0,
      misses: 0,
      fetches: 0,
      bytesFetched: 0,
      bytesInFlight: 0,
      peakBytesInFlight: 0,
      window: initial,
    };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ReadItem>> {
    return this.serially(() => this.step());
  }

  return(): Promise<IteratorResult<ReadItem>> {
    return this.serially(async () => {
      this.closed = true;
      await this.reset();
      return DONE;
    });
  }

  seek(tick: Tick): Promise<void> {
    return this.serially(async () => {
      assertTick(tick, 'seek tick');
      if (this.closed) throw new EngineError('E_BAD_REQUEST', `cannot seek to ${tick}: the stream is closed`);
      await this.reset();
      this.position = tick;
      this.exhausted = false;
      this.failure = undefined;
      this.stats.window = this.initial;
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async step(): Promise<IteratorResult<ReadItem>> {
    if (this.closed) return DONE;
    const waited = this.pending.length === 0;
    while (this.pending.length === 0) {
      if (this.failure !== undefined) return this.fail(this.failure);
      if (this.exhausted) return DONE;
      await this.refill(true);
      if (this.failure !== undefined) return this.fail(this.failure);
      // Nothing fits while fetches dropped by a seek still hold the budget: wait for one to end.
      if (this.pending.length === 0 && !this.exhausted && this.outstanding.size > 0)
        await Promise.race(this.outstanding);
    }
    const { track, entry, fetch } = this.pending.shift()!;
    if (!waited && fetch.settled) this.stats.hits++;
    else this.stats.misses++;
    await fetch.promise;
    fetch.unclaimed--;
    this.release(fetch);
    let stored: Uint8Array;
    if (fetch.error === undefined)
      stored = fetch.bytes!.subarray(entry.start - fetch.start, entry.end - fetch.start);
    else if (!isErased(fetch.error)) return this.fail(fetch.error);
    else {
      // An erased item in a coalesced run (spec 0020 §7): each item of it alone; an erased one is skipped.
      try {
        stored = await this.session.store.getRange(entry.object, entry);
      } catch (error) {
        return isErased(error) ? this.step() : this.fail(error);
      }
    }
    let item: ReadItem;
    try {
      item = toItem(this.session.store.space, track, entry, await itemBytes(this.session, stored));
    } catch (error) {
      return isErased(error) ? this.step() : this.fail(error);
    }
    this.stats.yielded++;
    this.stats.window = Math.min(this.max, this.stats.window + (entry.end - entry.start));
    // Fetch on while the consumer handles this item.
    void this.refill(false);
    return { done: false, value: item };
  }

  /** An error ends the stream, like a throwing async generator: stop everything, then throw. */
  private async fail(error: unknown): Promise<never> {
    this.closed = true;
    await this.reset();
    throw error;
  }

  /** Plan more fetches if a quarter of the window is free (or always, when forced); one plan at a time. */
  private refill(force: boolean): Promise<void> {
    if (this.planning) return this.planning;
    if (this.closed || this.exhausted) return Promise.resolve();
    if (!force && this.stats.window - this.stats.bytesInFlight < this.stats.window / 4)
      return Promise.resolve();
    const generation = this.generation;
    const planning: Promise<void> = this.plan(generation)
      .catch((error: unknown) => {
        if (generation === this.generation) this.failure = error;
      })
      .then(() => {
        if (this.planning === planning) this.planning = undefined;
      });
    this.planning = planning;
    return planning;
  }

  /** Open each track's index walk at the current position. */
  private async open(): Promise<Head[]> {
    return Promise.all(
      this.tracks.flatMap((track) => {
        const index = track.index;
        if (!index) return [];
        const root = {
          page: index.root,
          height: index.height,
          count: index.count,
          first: index.first,
          last: index.last,
        };
        const iterator = this.session.pages.range(root, this.position, this.to ?? index.last + 1n);
        return [iterator.next().then((r) => ({ track, iterator, next: r.done ? undefined : r.value }))];
      }),
    );
  }

  /**
   * Take entries in (tick, track) order while they fit in the free window, group neighbours of one object
   * into runs of at most a quarter window (so a run is consumed, and its budget freed, well before the
   * window empties), then start one GET per run.
   */
  private async plan(generation: number): Promise<void> {
    if (!this.heads) {
      const heads = await this.open();
      if (generation !== this.generation) {
        await closeHeads(heads);
        return;
      }
      this.heads = heads;
    }
    const heads = this.heads;
    const runCap = Math.max(1, Math.min(COALESCE_MAX, Math.floor(this.stats.window / 4)));
    const batch: Slot[] = [];
    const runs: Fetch[] = [];
    const open = new Map<string, Fetch>();
    let planned = 0;
    for (;;) {
      let best: Head | undefined;
      for (const head of heads) if (head.next && (!best || head.next.tick < best.next!.tick)) best = head;
      if (!best) {
        this.exhausted = true;
        break;
      }
      const entry = best.next!;
      const hex = multihashToHex(entry.object);
      const run = open.get(hex);
      const joins =
        run !== undefined &&
        entry.start >= run.end &&
        entry.start - run.end <= COALESCE_GAP &&
        entry.end - run.start <= runCap;
      const cost = joins ? entry.end - run.end : entry.end - entry.start;
      // An item larger than the window still goes, alone, once nothing else is held.
      const alone = this.stats.bytesInFlight === 0 && planned === 0;
      if (!alone && this.stats.bytesInFlight + planned + cost > this.stats.window) break;
      planned += cost;
      let fetch: Fetch;
      if (joins) {
        fetch = run;
        fetch.end = entry.end;
      } else {
        fetch = {
          object: entry.object,
          start: entry.start,
          end: entry.end,
          unclaimed: 0,
          settled: false,
          released: false,
        };
        open.set(hex, fetch);
        runs.push(fetch);
      }
      fetch.unclaimed++;
      batch.push({ track: best.track, entry, fetch });
      const next = await best.iterator.next();
      if (generation !== this.generation) return; // seek or stop: these heads are being closed
      best.next = next.done ? undefined : next.value;
      if (alone && cost >= this.stats.window) break;
    }
    for (const fetch of runs) this.start(fetch);
    this.pending.push(...batch);
  }

  private start(fetch: Fetch): void {
    const span = fetch.end - fetch.start;
    this.stats.fetches++;
    this.stats.bytesInFlight += span;
    this.stats.peakBytesInFlight = Math.max(this.stats.peakBytesInFlight, this.stats.bytesInFlight);
    const promise = this.session.store
      .getRange(fetch.object, { start: fetch.start, end: fetch.end })
      .then(
        (bytes) => {
          fetch.bytes = bytes;
          this.stats.bytesFetched += bytes.length;
        },
        (error: unknown) => {
          fetch.error = error;
        },
      )
      .then(() => {
        fetch.settled = true;
        this.outstanding.delete(promise);
        this.release(fetch);
      });
    fetch.promise = promise;
    this.outstanding.add(promise);
  }

  /** A fetch stops counting once it has ended and none of its items is still waiting for the consumer. */
  private release(fetch: Fetch): void {
    if (fetch.released || !fetch.settled || fetch.unclaimed > 0) return;
    fetch.released = true;
    this.stats.bytesInFlight -= fetch.end - fetch.start;
  }

  /** Drop everything planned, stop the index walks and wait for every started GET to end. */
  private async reset(): Promise<void> {
    this.generation++;
    for (const slot of this.pending) {
      slot.fetch.unclaimed--;
      this.release(slot.fetch);
    }
    this.pending = [];
    await this.planning;
    const heads = this.heads;
    this.heads = undefined;
    if (heads) await closeHeads(heads);
    await Promise.all(this.outstanding);
  }
}

async function closeHeads(heads: readonly Head[]): Promise<void> {
  await Promise.all(heads.map((h) => h.iterator.return(undefined).catch(() => undefined)));
}
