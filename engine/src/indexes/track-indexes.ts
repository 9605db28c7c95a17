import { equalBytes, type Multihash, multihashToHex } from '../address/multihash.js';
import { encodeCanonical } from '../cbor/deterministic.js';
import type { Erasure } from '../deletes/registry.js';
import { EngineError } from '../errors.js';
import type { SegmentRef } from '../model/segments.js';
import type { IndexRecord, Track } from '../model/track.js';
import type { Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';
import type { StagedColumns } from '../writes/staged.js';
import type { IndexContext, IndexKind, IndexRole } from './kind.js';
import { findIndexKind, indexKind, indexKinds } from './registry.js';

/* What writes, queries and versions do with a track's indexes, whatever their kinds (the seam's engine side). */

/** A track's indexes as [scheme, record] pairs, in scheme order. */
export function trackIndexes(track: Track): [string, IndexRecord][] {
  return Object.entries(track.indexes ?? {}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Typed parameters by record: a record is read once however often it is used. */
const typed = new WeakMap<object, unknown>();

/** The kind's reading of an index record's parameters (read once per record, checked by the kind). */
export function paramsOf<P>(kind: IndexKind<P>, record: IndexRecord, path = `index ${kind.scheme}`): P {
  if (typed.has(record.params)) return typed.get(record.params) as P;
  const params = kind.readParams(record.params, `${path}.params`);
  typed.set(record.params, params);
  return params;
}

/** A track's index of one scheme: its kind (E_UNSUPPORTED when unknown), record and parameters. */
export function trackIndex<P = unknown>(
  track: Track,
  scheme: string,
): { kind: IndexKind<P>; record: IndexRecord; params: P } | undefined {
  const record = track.indexes?.[scheme];
  if (!record) return undefined;
  const kind = indexKind(scheme, `track ${track.timeline}/${track.name}`) as IndexKind<P>;
  return { kind, record, params: paramsOf(kind, record) };
}

/** The track's index that plays a role for the verbs (a vector index for search), if any. */
export function roleIndex<P = unknown>(
  track: Track,
  role: IndexRole,
): { scheme: string; kind: IndexKind<P>; record: IndexRecord; params: P } | undefined {
  for (const [scheme, record] of trackIndexes(track)) {
    const kind = findIndexKind(scheme);
    if (kind?.role === role)
      return { scheme, kind: kind as IndexKind<P>, record, params: paramsOf(kind as IndexKind<P>, record) };
  }
  return undefined;
}

/** An index opened for queries (each kind keeps what it loads per session). */
export async function openIndex<O = unknown>(session: Session, track: Track, scheme: string): Promise<O> {
  const index = trackIndex(track, scheme);
  if (!index)
    throw new EngineError('E_NOT_FOUND', `track ${track.timeline}/${track.name} has no ${scheme} index`);
  const segments = liveSegments(index.record.segments, await session.store.erasures());
  return index.kind.open(session, track, index.params, segments) as Promise<O>;
}

/**
 * Segments as erasure left them (spec 0020 §7): an erased segment read as its replacement, or left out
 * when nothing of it is left. Kinds keep what they open by object, so a replaced segment is opened anew.
 */
export function liveSegments(
  segments: readonly SegmentRef[],
  erased: ReadonlyMap<string, Erasure>,
): readonly SegmentRef[] {
  if (erased.size === 0) return segments;
  const out: SegmentRef[] = [];
  for (const segment of segments) {
    const e = erased.get(multihashToHex(segment.object));
    if (!e) out.push(segment);
    else if (e.replacement) out.push({ ...segment, object: e.replacement });
  }
  return out;
}

/** The lineage a track's buckets carry (spec 0007 §6.1.1): its vector index's, if it has one. */
export function bucketLineage(track: Track): Multihash | undefined {
  for (const [scheme, record] of trackIndexes(track)) {
    const kind = findIndexKind(scheme);
    if (kind?.lineage) return kind.lineage(paramsOf(kind, record));
  }
  return undefined;
}

const paramsBytes = (record: IndexRecord) => encodeCanonical(record.params);

/** Whether two versions of a track have the same indexes: the same schemes with the same parameters. */
export function sameIndexes(a: Track, b: Track): boolean {
  const x = trackIndexes(a);
  const y = trackIndexes(b);
  return (
    x.length === y.length &&
    x.every(
      ([scheme, record], i) => scheme === y[i]![0] && equalBytes(paramsBytes(record), paramsBytes(y[i]![1])),
    )
  );
}

/** The indexes of a track in a few words, for messages. */
export function describeIndexes(track: Track): string {
  const list = trackIndexes(track).map(([scheme, record]) => {
    const kind = findIndexKind(scheme);
    return kind?.describe ? `${scheme} (${kind.describe(paramsOf(kind, record))})` : scheme;
  });
  return list.length > 0 ? list.join(', ') : 'none';
}

/**
 * Refuse to combine two versions of a track indexed differently (spec 0008 §6.5, MUST-refuse): segments
 * built under other parameters (hyperplanes, an analyzer) cannot answer for each other's items.
 */
export function checkIndexLineage(ours: Track, theirs: Track): void {
  if (sameIndexes(ours, theirs)) return;
  throw new EngineError(
    'E_LINEAGE',
    `track ${ours.timeline}/${ours.name} has incompatible indexes (ours: ${describeIndexes(ours)}; theirs: ${describeIndexes(theirs)}): items indexed under one cannot be searched under the other, so the merge is refused; re-index into a new track first`,
  );
}

/** The records of a definition's indexes, each checked by its kind against the track (segments empty). */
function declared(track: Track, indexes: Readonly<Record<string, IndexRecord>>): Record<string, IndexRecord> {
  const out: Record<string, IndexRecord> = {};
  for (const [scheme, record] of Object.entries(indexes)) {
    const kind = indexKind(scheme, `track ${track.timeline}/${track.name}`);
    const path = `track ${track.timeline}/${track.name} indexes.${scheme}`;
    const params = kind.readParams(record.params, `${path}.params`);
    kind.fits?.(track, params, path);
    out[scheme] = { params: kind.writeParams(params), segments: [] };
  }
  return out;
}

/**
 * A definition's indexes from a request's options by scheme (JSON: `{"dreamdb.lsh-cosine": {"tables":
 * 8}}`, `{}` for none): each kind fills in its defaults and checks the rest (E_FIELD naming the field; an
 * unknown scheme is E_UNSUPPORTED).
 */
export function indexesFromOptions(
  track: Track,
  options: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): Record<string, IndexRecord> {
  const out: Record<string, IndexRecord> = {};
  for (const [scheme, given] of Object.entries(options)) {
    const kind = indexKind(scheme, `track ${track.timeline}/${track.name}`);
    const path = `indexes.${scheme}`;
    const params = kind.fromOptions ? kind.fromOptions(given, track, path) : kind.readParams(given, path);
    out[scheme] = { params: kind.writeParams(params), segments: [] };
  }
  return out;
}

/** The indexes every registered kind gives a new track by default. */
function defaults(track: Track): Record<string, IndexRecord> {
  const out: Record<string, IndexRecord> = {};
  for (const kind of indexKinds()) {
    const params = kind.defaultFor?.(track);
    if (params !== undefined) out[kind.scheme] = { params: kind.writeParams(params), segments: [] };
  }
  return out;
}

/**
 * The indexes a track definition gets (spec 0001 §4.1): a track that has items keeps its own, and a
 * definition naming others is refused (E_LINEAGE: the segments would mean something else); a new or
 * empty track gets the indexes its definition names (`{}`: none), or every kind's default.
 */
export function definedIndexes(
  track: Track,
  old: Track | undefined,
): Record<string, IndexRecord> | undefined {
  if (old?.index) {
    if (track.indexes !== undefined) {
      const wanted = { ...track, indexes: declared(track, track.indexes) };
      if (!sameIndexes(wanted, old))
        throw new EngineError(
          'E_LINEAGE',
          `track ${track.timeline}/${track.name} has items indexed by ${describeIndexes(old)}; its indexes cannot change to ${describeIndexes(wanted)} (write a new track)`,
        );
    }
    return old.indexes;
  }
  const indexes = track.indexes !== undefined ? declared(track, track.indexes) : defaults(track);
  return Object.keys(indexes).length > 0 ? indexes : undefined;
}

/** What each index kind of a track with a stage step takes of an item as it is written (the write path). */
export class IndexStager {
  private readonly steps: { scheme: string; stage: (payload: unknown) => unknown }[] = [];

  constructor(track: Track) {
    for (const [scheme, record] of trackIndexes(track)) {
      const kind = findIndexKind(scheme);
      if (!kind?.stage) continue;
      const params = paramsOf(kind, record);
      const stage = kind.stage.bind(kind);
      this.steps.push({ scheme, stage: (payload) => stage(payload, params) });
    }
  }

  /** Whether any kind stages items (else payloads need not be decoded for the indexes). */
  get active(): boolean {
    return this.steps.length > 0;
  }

  /** A function that stages item i of `staged` from its payload (undefined when no kind stages). */
  into(staged: StagedColumns): ((i: number, payload: unknown) => void) | undefined {
    if (this.steps.length === 0) return undefined;
    const columns = this.steps.map((step) => ({ stage: step.stage, column: staged.staging(step.scheme) }));
    if (columns.length === 1) {
      const [{ stage, column }] = columns as [(typeof columns)[number]];
      return (i, payload) => {
        column[i] = stage(payload);
      };
    }
    return (i, payload) => {
      for (const { stage, column } of columns) column[i] = stage(payload);
    };
  }

  /** Stage item i of `staged`, whose payload is `payload`. */
  stage(staged: StagedColumns, i: number, payload: unknown): void {
    this.into(staged)?.(i, payload);
  }
}

/** No tick removed. */
const NONE: ReadonlySet<Tick> = new Set();

/**
 * The indexes of a track after a change of its items (a publish's staged items, a merge's added and
 * removed sets): every index updated by its kind; undefined when the track has none.
 */
export async function updateIndexes(
  context: IndexContext,
  track: Track,
  change: { staged: StagedColumns; append: boolean; removed?: ReadonlySet<Tick> },
): Promise<Record<string, IndexRecord> | undefined> {
  if (!track.indexes) return undefined;
  const out: Record<string, IndexRecord> = {};
  for (const [scheme, record] of trackIndexes(track)) {
    const kind = indexKind(scheme, `a write to track ${track.timeline}/${track.name}`);
    const segments = await kind.update(context, paramsOf(kind, record), record.segments, {
      track,
      staged: change.staged,
      staging: change.staged.stagingOf(scheme),
      append: change.append,
      removed: change.removed ?? NONE,
    });
    out[scheme] = { params: record.params, segments };
  }
  return out;
}

/**
 * Every object a track's indexes reach: each segment and what its kind follows from it. `visit` returns
 * false for an object seen already (its children are then not followed again). An index of an unknown
 * scheme is refused (E_UNSUPPORTED): a collector that cannot see its objects must not sweep them.
 */
export async function visitIndexObjects(
  session: Session,
  track: Track,
  visit: (hash: Multihash) => boolean,
): Promise<void> {
  for (const [scheme] of trackIndexes(track)) {
    const { kind, record, params } = trackIndex(track, scheme)!;
    for (const segment of record.segments) {
      if (segment.dropped) visit(segment.dropped);
      if (!visit(segment.object) || !kind.follow) continue;
      for (const child of await kind.follow(session, segment, params)) visit(child);
    }
  }
}
