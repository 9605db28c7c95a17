import { type Multihash, multihashToHex } from '../address/multihash.js';
import type { IndexEntry } from './page.js';

/**
 * Index entries column by column, sorted by tick: what leaves are cut and encoded from. A publish of ten
 * million items builds these typed arrays instead of ten million entry objects.
 */
export interface EntryColumns {
  readonly count: number;
  readonly ticks: BigUint64Array;
  /** Absent when every entry lasts 0. */
  readonly durations?: BigUint64Array;
  /** The distinct objects entries point into; `refs[i]` is entry i's position here. */
  readonly objects: readonly Multihash[];
  readonly refs: Uint32Array;
  readonly starts: Uint32Array;
  readonly lengths: Uint32Array;
}

/** Columns of entry objects (sorted by tick). */
export function entryColumns(entries: readonly IndexEntry[]): EntryColumns {
  const n = entries.length;
  const ticks = new BigUint64Array(n);
  const durations = new BigUint64Array(n);
  const refs = new Uint32Array(n);
  const starts = new Uint32Array(n);
  const lengths = new Uint32Array(n);
  const objects: Multihash[] = [];
  const position = new Map<string, number>();
  let anyDuration = false;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    ticks[i] = e.tick;
    durations[i] = e.duration;
    if (e.duration !== 0n) anyDuration = true;
    const hex = multihashToHex(e.object);
    let ref = position.get(hex);
    if (ref === undefined) {
      ref = objects.length;
      objects.push(e.object);
      position.set(hex, ref);
    }
    refs[i] = ref;
    starts[i] = e.start;
    lengths[i] = e.end - e.start;
  }
  return { count: n, ticks, refs, starts, lengths, objects, ...(anyDuration && { durations }) };
}

/** One column set after another (the first's ticks all before the second's). */
export function concatColumns(a: EntryColumns, b: EntryColumns): EntryColumns {
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  const n = a.count + b.count;
  const ticks = new BigUint64Array(n);
  ticks.set(a.ticks.subarray(0, a.count));
  ticks.set(b.ticks.subarray(0, b.count), a.count);
  let durations: BigUint64Array | undefined;
  if (a.durations || b.durations) {
    durations = new BigUint64Array(n);
    if (a.durations) durations.set(a.durations.subarray(0, a.count));
    if (b.durations) durations.set(b.durations.subarray(0, b.count), a.count);
  }
  const starts = new Uint32Array(n);
  starts.set(a.starts.subarray(0, a.count));
  starts.set(b.starts.subarray(0, b.count), a.count);
  const lengths = new Uint32Array(n);
  lengths.set(a.lengths.subarray(0, a.count));
  lengths.set(b.lengths.subarray(0, b.count), a.count);
  // b's objects join a's list; those both use keep a's position.
  const objects = [...a.objects];
  const position = new Map(a.objects.map((o, i) => [multihashToHex(o), i]));
  const remap = b.objects.map((o) => {
    const hex = multihashToHex(o);
    let i = position.get(hex);
    if (i === undefined) {
      i = objects.length;
      objects.push(o);
      position.set(hex, i);
    }
    return i;
  });
  const refs = new Uint32Array(n);
  refs.set(a.refs.subarray(0, a.count));
  for (let i = 0; i < b.count; i++) refs[a.count + i] = remap[b.refs[i]!]!;
  return { count: n, ticks, refs, starts, lengths, objects, ...(durations && { durations }) };
}

/** Entry i as an object. */
export function entryAt(columns: EntryColumns, i: number): IndexEntry {
  const start = columns.starts[i]!;
  return {
    tick: columns.ticks[i]!,
    duration: columns.durations ? columns.durations[i]! : 0n,
    object: columns.objects[columns.refs[i]!]!,
    start,
    end: start + columns.lengths[i]!,
  };
}
