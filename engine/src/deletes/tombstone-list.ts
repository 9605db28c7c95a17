import { Tag } from 'cbor-x';
import type { Multihash } from '../address/multihash.js';
import { TAGS, tagTick } from '../cbor/tags.js';
import { openObject, sealObject } from '../format/envelope.js';
import { FieldReader, fieldError } from '../model/fields.js';
import { assertName } from '../model/names.js';
import type { Tick } from '../time/ticks.js';
import { END } from './selector.js';

/**
 * One thing a publish deleted (spec 0020 §3): a timeline (no track), a whole track (no bounds) or a
 * track's items with from <= tick < to. `count` is how many items went; `root` is the root page of the
 * track's index before the delete, where those items can still be found (compaction and erasure walk it).
 */
export interface Tombstone {
  readonly timeline: string;
  readonly track?: string;
  readonly from?: Tick;
  /** Exclusive; absent: to the end of time. */
  readonly to?: Tick;
  readonly count: number;
  readonly root?: Multihash;
}

/** A TombstoneList: what one publish deleted, and whether it asked for erasure (spec 0020 §3). */
export interface TombstoneList {
  readonly space: string;
  readonly tombstones: readonly Tombstone[];
  /** The delete asked that the bytes go from history too (`delete --erase`, §7). */
  readonly erase: boolean;
}

const order = (a: Tombstone, b: Tombstone): number =>
  a.timeline !== b.timeline
    ? a.timeline < b.timeline
      ? -1
      : 1
    : (a.track ?? '') !== (b.track ?? '')
      ? (a.track ?? '') < (b.track ?? '')
        ? -1
        : 1
      : (a.from ?? 0n) < (b.from ?? 0n)
        ? -1
        : (a.from ?? 0n) > (b.from ?? 0n)
          ? 1
          : 0;

function tombstoneToCbor(t: Tombstone): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timeline: assertName(t.timeline, 'tombstone.timeline'),
    count: t.count,
  };
  if (t.track !== undefined) out.track = assertName(t.track, 'tombstone.track');
  if (t.from !== undefined && t.from !== 0n) out.from = tagTick(t.from);
  if (t.to !== undefined && t.to !== END) out.to = tagTick(t.to);
  if (t.root !== undefined) out.root = new Tag(t.root, TAGS.multihash);
  return out;
}

function tombstoneFromCbor(value: unknown, path: string): Tombstone {
  const r = new FieldReader(value, path, ['timeline', 'track', 'from', 'to', 'count', 'root']);
  const t: Tombstone = {
    timeline: r.name('timeline'),
    count: r.uint('count'),
    ...(r.has('track') && { track: r.name('track') }),
    ...(r.has('from') && { from: r.tick('from') }),
    ...(r.has('to') && { to: r.tick('to') }),
    ...(r.has('root') && { root: r.multihashesOf([r.raw('root')], 'root')[0]! }),
  };
  if (t.track === undefined && (t.from !== undefined || t.to !== undefined))
    fieldError(path, 'a tick range belongs to a track');
  if (t.from !== undefined && t.to !== undefined && t.to <= t.from) fieldError(path, 'to must be after from');
  return t;
}

/** The TombstoneList as a stored object (envelope kind 8, header only); tombstones sorted. */
export function sealTombstoneList(list: TombstoneList): Uint8Array {
  const header = {
    v: 1,
    space: assertName(list.space, 'tombstones.space'),
    erase: list.erase,
    tombstones: [...list.tombstones].sort(order).map(tombstoneToCbor),
  };
  openTombstoneList(sealObject('tombstoneList', header)); // refuse what a reader would refuse
  return sealObject('tombstoneList', header);
}

/** Read a stored TombstoneList. */
export function openTombstoneList(bytes: Uint8Array, what = 'tombstone list'): TombstoneList {
  const r = new FieldReader(openObject(bytes, 'tombstoneList', what).header, what, [
    'v',
    'space',
    'erase',
    'tombstones',
  ]);
  if (r.uint('v') !== 1) fieldError(r.at('v'), 'this engine reads version 1');
  const erase = r.raw('erase');
  if (typeof erase !== 'boolean') fieldError(r.at('erase'), 'expected true or false');
  return {
    space: r.name('space'),
    erase,
    tombstones: r.array('tombstones').map((t, i) => tombstoneFromCbor(t, `${r.at('tombstones')}[${i}]`)),
  };
}
