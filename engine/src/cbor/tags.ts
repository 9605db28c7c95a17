import { Tag } from 'cbor-x';
import { EngineError, quote } from '../errors.js';
import { assertTick, type Tick } from '../time/ticks.js';

export { Tag as CborTag };

/** DreamDB's CBOR tags, all in the private-use range 65521-65525 (spec 0009 §3.2). */
export const TAGS = {
  /** bstr(34): a BLAKE3-256 multihash, 0x1e 0x20 + digest. */
  multihash: 65521,
  /** [bstr(34) multihash, uint start, uint end]: an item's address, bytes [start, end) of an object. */
  itemAddress: 65522,
  /** tstr: a modality tag in canonical form (spec 0002 §5). */
  modality: 65523,
  /** uint: a time anchor, a tick on a timeline (spec 0003). */
  timeAnchor: 65524,
  /** uint: a duration in ticks. */
  duration: 65525,
} as const;

/** The tag numbers a DreamDB decoder accepts; every other tag is refused. */
export const ALLOWED_TAGS: ReadonlySet<number> = new Set(Object.values(TAGS));

/** Wrap a tick as a time anchor (tag 65524). */
export function tagTick(tick: Tick): Tag {
  return new Tag(compact(assertTick(tick)), TAGS.timeAnchor);
}

/** Ticks below 2^32 are held as numbers: the form the canonical encoder writes without a copy. */
function compact(ticks: Tick): Tick | number {
  return ticks < 0x100000000n ? Number(ticks) : ticks;
}

/** Wrap a tick count as a duration (tag 65525). */
export function tagDuration(ticks: Tick): Tag {
  return new Tag(compact(assertTick(ticks, 'duration')), TAGS.duration);
}

/** Unwrap a tick-valued tag (65524 or 65525) decoded from CBOR, naming `field` on error. */
export function untagTick(value: unknown, field: string, tag: number = TAGS.timeAnchor): Tick {
  if (!(value instanceof Tag) || value.tag !== tag) {
    throw new EngineError('E_FIELD', `${field}: expected CBOR tag ${tag}, got ${quote(value)}`);
  }
  const inner = value.value;
  if (typeof inner === 'bigint') return assertTick(inner, field);
  if (typeof inner === 'number' && Number.isSafeInteger(inner)) return assertTick(BigInt(inner), field);
  throw new EngineError('E_FIELD', `${field}: tag ${tag} must hold an unsigned integer, got ${quote(inner)}`);
}
