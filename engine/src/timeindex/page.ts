import { Tag } from 'cbor-x';
import type { Multihash } from '../address/multihash.js';
import { TAGS, tagTick } from '../cbor/tags.js';
import { openObject, sealObject } from '../format/envelope.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { assertName } from '../model/names.js';
import type { Tick } from '../time/ticks.js';
import type { EntryColumns } from './columns.js';

/** One item in a track's index: its time and where its bytes are (spec 0007 §7). */
export interface IndexEntry {
  readonly tick: Tick;
  /** 0 when the item has no duration. */
  readonly duration: Tick;
  readonly object: Multihash;
  readonly start: number;
  readonly end: number;
}

/** A child of an inner page: the key range under it, its page, and how many entries it holds. */
export interface ChildRef {
  readonly first: Tick;
  readonly last: Tick;
  readonly page: Multihash;
  readonly count: number;
}

export type IndexPage =
  | { readonly level: 0; readonly track: string; readonly entries: readonly IndexEntry[] }
  | { readonly level: number; readonly track: string; readonly children: readonly ChildRef[] };

const big = (v: unknown) => (typeof v === 'bigint' ? v : BigInt(v as number));
const mhTag = (mh: Multihash) => new Tag(mh, TAGS.multihash);

function undelta(first: Tick, deltas: readonly unknown[]): Tick[] {
  let tick = first;
  return deltas.map((d, i) => {
    if (i > 0) tick += big(d);
    return tick;
  });
}

/** Tick differences as CBOR wants them: numbers below 2^53, bigints above. */
function deltasFrom(ticks: ArrayLike<Tick>, from: number, to: number): (number | bigint)[] {
  const out: (number | bigint)[] = new Array(to - from);
  out[0] = 0;
  for (let i = from + 1; i < to; i++) {
    const d = ticks[i]! - ticks[i - 1]!;
    out[i - from] = d <= SAFE ? Number(d) : d;
  }
  return out;
}
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A leaf page of entries [from, to): times as deltas from the first, and positional arrays for the rest.
 * Objects are listed once per page and referred to by position, since neighbouring items share buckets.
 */
export function encodeLeaf(track: string, columns: EntryColumns, from = 0, to = columns.count): Uint8Array {
  const objects: Tag[] = [];
  const position = new Map<number, number>();
  const n = to - from;
  const refs: number[] = new Array(n);
  const starts: number[] = new Array(n);
  const lengths: number[] = new Array(n);
  let lastRef = -1;
  let lastPosition = -1;
  let anyDuration = false;
  for (let i = from; i < to; i++) {
    const ref = columns.refs[i]!;
    if (ref !== lastRef) {
      let p = position.get(ref);
      if (p === undefined) {
        p = objects.length;
        objects.push(mhTag(columns.objects[ref]!));
        position.set(ref, p);
      }
      lastRef = ref;
      lastPosition = p;
    }
    refs[i - from] = lastPosition;
    starts[i - from] = columns.starts[i]!;
    lengths[i - from] = columns.lengths[i]!;
    if (columns.durations && columns.durations[i] !== 0n) anyDuration = true;
  }
  const header: Record<string, unknown> = {
    v: 0,
    kind: 'leaf',
    refs,
    first: tagTick(columns.ticks[from]!),
    track: assertName(track, 'index track'),
    deltas: deltasFrom(columns.ticks, from, to),
    starts,
    lengths,
    objects,
  };
  if (anyDuration) header.durations = Array.from(columns.durations!.subarray(from, to));
  return sealObject('indexPage', header);
}

/** An inner page: each child's first tick (as deltas), span to its last tick, page and entry count. */
export function encodeNode(track: string, level: number, children: readonly ChildRef[]): Uint8Array {
  return sealObject('indexPage', {
    v: 0,
    kind: 'node',
    level,
    first: tagTick(children[0]!.first),
    track: assertName(track, 'index track'),
    counts: children.map((c) => c.count),
    deltas: deltasFrom(
      children.map((c) => c.first),
      0,
      children.length,
    ),
    spans: children.map((c) => c.last - c.first),
    children: children.map((c) => mhTag(c.page)),
  });
}

/** Decode an index page (leaf or inner), checking its arrays line up. */
export function decodePage(bytes: Uint8Array, what = 'index page'): IndexPage {
  const { header } = openObject(bytes, 'indexPage', what);
  const kind = (header as { kind?: unknown })?.kind;
  if (kind === 'leaf') {
    const r = new FieldReader(header, what, [
      'v',
      'kind',
      'refs',
      'first',
      'track',
      'deltas',
      'starts',
      'lengths',
      'objects',
      'durations',
    ]);
    const ticks = undelta(r.tick('first'), r.array('deltas'));
    const objects = r.multihashes('objects');
    const refs = r.array('refs') as number[];
    const starts = r.array('starts') as number[];
    const lengths = r.array('lengths') as number[];
    const durations = r.has('durations') ? r.array('durations') : undefined;
    if (refs.length !== ticks.length || starts.length !== ticks.length || lengths.length !== ticks.length) {
      fieldError(what, 'leaf arrays differ in length');
    }
    return {
      level: 0,
      track: r.name('track'),
      entries: ticks.map((tick, i) => {
        const object = objects[refs[i]!];
        if (!object) fieldError(`${what}.refs[${i}]`, `object ${refs[i]} is not listed`);
        return {
          tick,
          duration: durations ? big(durations[i]) : 0n,
          object,
          start: starts[i]!,
          end: starts[i]! + lengths[i]!,
        };
      }),
    };
  }
  if (kind === 'node') {
    const r = new FieldReader(header, what, [
      'v',
      'kind',
      'level',
      'first',
      'track',
      'counts',
      'deltas',
      'spans',
      'children',
    ]);
    const firsts = undelta(r.tick('first'), r.array('deltas'));
    const spans = r.array('spans');
    const counts = r.array('counts') as number[];
    const children = r.multihashes('children');
    if (
      spans.length !== firsts.length ||
      counts.length !== firsts.length ||
      children.length !== firsts.length
    ) {
      fieldError(what, 'node arrays differ in length');
    }
    const level = r.uint('level');
    if (level < 1) fieldError(r.at('level'), 'an inner page is at level 1 or above');
    return {
      level,
      track: r.name('track'),
      children: firsts.map((first, i) => ({
        first,
        last: first + big(spans[i]),
        page: children[i]!,
        count: counts[i]!,
      })),
    };
  }
  return fieldError(`${what}.kind`, `expected "leaf" or "node", got ${JSON.stringify(kind)}`);
}
