import {
  CborTag,
  decodeCanonical,
  EngineError,
  encodeCanonical,
  hashBytes,
  type Multihash,
  multihashToHex,
  type SegmentRef,
  TAGS,
  type Tick,
} from '@dreamdb/engine';
import type { IndexKind } from '@dreamdb/engine/indexes';
import { itemBytes, trackEntries } from '@dreamdb/engine/query';
import type { Session } from '@dreamdb/engine/store';

/**
 * A toy index kind that proves the seam: the exact count of each label of a track's items. It lives in
 * this one folder, uses the engine's public face only, and is registered by one line in its test; the
 * engine learns nothing else about it. A segment is a small directory object naming a counts object,
 * so collect and fsck have something to follow.
 */

export const LABEL_COUNTS = 'com.example.label-counts';

/** Which payload field holds the label. */
export interface LabelCountParams {
  readonly field: string;
}

/** The index opened for queries. */
export interface LabelCounts {
  counts(): Promise<Record<string, number>>;
}

/** Segments past this many are merged into one. */
const MAX_SEGMENTS = 4;

const labelOf = (payload: unknown, field: string): string | null => {
  const value =
    payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : null;
};

/** A segment's counts, from its directory and the counts object it names. */
async function readCounts(session: Session, segment: SegmentRef): Promise<Map<string, number>> {
  const directory = decodeCanonical(await session.store.getObject(segment.object)) as { counts: CborTag };
  if (!(directory?.counts instanceof CborTag) || directory.counts.tag !== TAGS.multihash)
    throw new EngineError(
      'E_FIELD',
      `label-counts segment ${multihashToHex(segment.object)}: no counts object`,
    );
  const counts = decodeCanonical(await session.store.getObject(directory.counts.value as Multihash));
  return new Map(Object.entries(counts as Record<string, number>));
}

/** Write a segment of these counts (its counts object, then its directory); undefined when empty. */
async function writeSegment(
  context: Parameters<IndexKind['update']>[0],
  counts: Map<string, number>,
  first: Tick,
  last: Tick,
): Promise<SegmentRef | undefined> {
  let count = 0;
  for (const n of counts.values()) count += n;
  if (count === 0) return undefined;
  const countsBytes = encodeCanonical(Object.fromEntries(counts));
  const countsHash = hashBytes(countsBytes);
  await context.uploader.put(countsBytes, countsHash);
  const directory = encodeCanonical({ counts: new CborTag(countsHash, TAGS.multihash) });
  const object = hashBytes(directory);
  await context.uploader.put(directory, object);
  return { object, count, first, last };
}

const add = (into: Map<string, number>, label: string, n = 1) => into.set(label, (into.get(label) ?? 0) + n);

export const labelCounts: IndexKind<LabelCountParams, LabelCounts> = {
  scheme: LABEL_COUNTS,
  objects: [],
  readParams(record, path) {
    const keys = Object.keys(record);
    if (keys.length !== 1 || typeof record.field !== 'string')
      throw new EngineError('E_FIELD', `${path}: expected {field: text}, got keys ${keys.join(', ')}`);
    return { field: record.field };
  },
  writeParams: (params) => ({ field: params.field }),
  fits(track, _params, path) {
    if (track.kind !== 'event')
      throw new EngineError('E_FIELD', `${path}: only event tracks have label counts`);
  },
  stage: (payload, params) => labelOf(payload, params.field),
  async update(context, params, segments, change) {
    const { staged, staging } = change;
    const fresh = new Map<string, number>();
    for (let i = 0; i < staged.count; i++) {
      const label = staging?.[i] as string | null | undefined;
      if (label) add(fresh, label);
    }
    if (change.append) {
      const added = await writeSegment(context, fresh, staged.ticks[0]!, staged.ticks[staged.count - 1]!);
      const list = added ? [...segments, added] : [...segments];
      if (list.length <= MAX_SEGMENTS) return list;
      const all = new Map<string, number>();
      for (const segment of list)
        for (const [label, n] of await readCounts(context.session, segment)) add(all, label, n);
      const merged = await writeSegment(context, all, list[0]!.first, list[list.length - 1]!.last);
      return merged ? [merged] : [];
    }
    // Any other change: count again from the items the change leaves alone, and the staged ones.
    const { session } = context;
    const replaced = new Set<Tick>([...staged.ticks.subarray(0, staged.count), ...change.removed]);
    const all = fresh;
    let first: Tick | undefined = staged.count > 0 ? staged.ticks[0] : undefined;
    let last: Tick | undefined = staged.count > 0 ? staged.ticks[staged.count - 1] : undefined;
    for await (const entry of trackEntries(session, change.track)) {
      if (replaced.has(entry.tick)) continue;
      const bytes = await itemBytes(session, await session.store.getRange(entry.object, entry));
      const label = labelOf((decodeCanonical(bytes) as { payload?: unknown }).payload, params.field);
      if (!label) continue;
      add(all, label);
      if (first === undefined || entry.tick < first) first = entry.tick;
      if (last === undefined || entry.tick > last) last = entry.tick;
    }
    const rebuilt = first === undefined ? undefined : await writeSegment(context, all, first, last!);
    return rebuilt ? [rebuilt] : [];
  },
  async open(session, _track, _params, segments) {
    return {
      async counts() {
        const all = new Map<string, number>();
        for (const segment of segments)
          for (const [label, n] of await readCounts(session, segment)) add(all, label, n);
        return Object.fromEntries([...all].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      },
    };
  },
  async follow(session, segment) {
    const directory = decodeCanonical(await session.store.getObject(segment.object)) as { counts: CborTag };
    return [directory.counts.value as Multihash];
  },
  async check(session, segment) {
    let total = 0;
    for (const n of (await readCounts(session, segment)).values()) total += n;
    if (total !== segment.count)
      throw new EngineError('E_FIELD', `counts add up to ${total}, not the ${segment.count} the track names`);
  },
  describe: (params) => `labels of field ${params.field}`,
};
