import { Tag } from 'cbor-x';
import type { Multihash } from '../address/multihash.js';
import { TAGS, tagTick } from '../cbor/tags.js';
import type { Tick } from '../time/ticks.js';
import { FieldReader, fieldError } from './fields.js';

/**
 * One segment of a track's search index (spatial 0004 §6, text 0015): an immutable object holding the
 * index of `count` items whose ticks lie in [first, last]. A track's index is a list of segments, merged
 * log-structured as items are appended, so a publish rewrites only new and merged segments.
 */
export interface SegmentRef {
  readonly object: Multihash;
  readonly count: number;
  readonly first: Tick;
  readonly last: Tick;
  /**
   * A DroppedTicks object (spec 0020 §2.1): ticks of items the segment still holds but the track no longer
   * does (deleted). Readers leave them out; the next rewrite of the segment purges them.
   */
  readonly dropped?: Multihash;
}

/** The CBOR map of a segment reference. */
export function segmentToCbor(segment: SegmentRef): Record<string, unknown> {
  return {
    last: tagTick(segment.last),
    count: segment.count,
    first: tagTick(segment.first),
    object: new Tag(segment.object, TAGS.multihash),
    ...(segment.dropped && { dropped: new Tag(segment.dropped, TAGS.multihash) }),
  };
}

/** Read a segment list, refusing empty segments and inverted tick bounds. */
export function segmentsFromCbor(list: unknown[], path: string): SegmentRef[] {
  return list.map((value, i) => {
    const at = `${path}[${i}]`;
    const r = new FieldReader(value, at, ['last', 'count', 'first', 'object', 'dropped']);
    const segment: SegmentRef = {
      object: r.multihashesOf([r.raw('object')], 'object')[0]!,
      count: r.uint('count'),
      first: r.tick('first'),
      last: r.tick('last'),
      ...(r.has('dropped') && { dropped: r.multihashesOf([r.raw('dropped')], 'dropped')[0]! }),
    };
    if (segment.count < 1 || segment.last < segment.first)
      fieldError(at, 'count must be positive, last >= first');
    return segment;
  });
}
