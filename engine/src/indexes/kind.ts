import type { Multihash } from '../address/multihash.js';
import type { ObjectKind } from '../format/envelope.js';
import type { SegmentRef } from '../model/segments.js';
import type { IndexRecord, Track } from '../model/track.js';
import type { Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';
import type { StagedColumns } from '../writes/staged.js';
import type { Uploader } from '../writes/uploader.js';

/**
 * The seam every index kind plugs into (spec 0001 §4.1): a track declares its indexes as a map keyed by
 * scheme, each entry the kind's parameter record and the segments its items built. Publish, merge, the
 * queries, collect and fsck reach an index only through its kind, found by scheme in the registry, so a
 * new kind is one folder and one registration line.
 */

/** What a publish or a merge changes in a track's items, as an index kind sees it. */
export interface IndexChange {
  /** The track as the base version has it: its time index finds the items the change leaves alone. */
  readonly track: Track;
  /** Items added or replaced, ticks ascending, one per tick (their bytes as stored). */
  readonly staged: StagedColumns;
  /** What the kind's `stage` made of each staged item (same positions), when it has a stage step. */
  readonly staging: readonly unknown[] | undefined;
  /** Every staged tick follows the track's last tick, and nothing is removed: only new data to add. */
  readonly append: boolean;
  /** Ticks whose items are gone (a merge of a removal). */
  readonly removed: ReadonlySet<Tick>;
}

/** Where an index writes what it builds. */
export interface IndexContext {
  readonly session: Session;
  /** Objects go to the store through it (bounded concurrency; the manifest waits for them). */
  readonly uploader: Uploader;
}

/** What kind of question an index answers for the verbs: `search` uses a vector index, `text` and `hybrid` a text index. */
export type IndexRole = 'vector' | 'text';

/** A nearest-neighbour index opened for queries (role `vector`). */
export interface VectorIndexReader {
  /** The k nearest items to `query` (finite f32, the track's dimension) with from <= tick < to, best first. */
  nearest(
    query: Float32Array,
    options: { k: number; from: Tick; to?: Tick; probes?: number; rerank?: number },
  ): { tick: Tick; score: number }[] | Promise<{ tick: Tick; score: number }[]>;
}

/**
 * An index kind: its parameters and their checks, what it builds from a change of the track's items,
 * how it is opened for queries, which objects it writes, and what collect and fsck follow from them.
 * `Params` is the kind's typed reading of its parameter record; `Opened` what `open` gives queries.
 */
export interface IndexKind<Params = unknown, Opened = unknown> {
  /** The scheme: the key of a track's `indexes` map (`dreamdb.` for DreamDB's kinds, reverse-DNS for others). */
  readonly scheme: string;
  /** The envelope kinds (spec 0007 §2) of the objects its segments are made of. */
  readonly objects: readonly ObjectKind[];
  /** What the verbs ask of it; none: only its own queries through `openIndex`. */
  readonly role?: IndexRole;
  /** Read and check a parameter record (E_FIELD naming `path` and the field). */
  readParams(record: IndexRecord['params'], path: string): Params;
  /** The parameter record of typed parameters: what readParams gives back. */
  writeParams(params: Params): IndexRecord['params'];
  /**
   * Parameters from a request's options (JSON, as an API or CLI user writes them): a field left out takes
   * the kind's default for the track; others are refused (E_FIELD naming `path`). Without it, the
   * options are the parameter record itself.
   */
  fromOptions?(options: Readonly<Record<string, unknown>>, track: Track, path: string): Params;
  /** The parameters as listings show them (JSON values): what a client needs to use the index. */
  summary?(params: Params): Readonly<Record<string, string | number | boolean>>;
  /** Refuse parameters that do not fit the track (E_FIELD naming `path`): a dimension other than its own. */
  fits?(track: Track, params: Params, path: string): void;
  /** The parameters a new track gets when its definition names no indexes; undefined: none of this kind. */
  defaultFor?(track: Track): Params | undefined;
  /**
   * The lineage buckets of the track carry (spec 0007 §6.1.1): a vector index's parameters hash, so a
   * reader under other parameters refuses the bucket. At most one index of a track has one.
   */
  lineage?(params: Params): Multihash;
  /**
   * What `update` needs of one item being written, kept beside the staged item (the write path: keep it
   * cheap). Without it, `update` reads the staged items' bytes.
   */
  stage?(payload: unknown, params: Params): unknown;
  /**
   * The index after a change of the track's items (a publish's staged items; a merge's added and removed
   * sets): its segments, new objects written through `context.uploader`, unchanged ones kept by reference.
   */
  update(
    context: IndexContext,
    params: Params,
    segments: readonly SegmentRef[],
    change: IndexChange,
  ): Promise<readonly SegmentRef[]>;
  /** The index ready for queries; what it loads, the kind keeps per session. */
  open(session: Session, track: Track, params: Params, segments: readonly SegmentRef[]): Promise<Opened>;
  /**
   * Erasure (spec 0020 §7): the segment rebuilt without the items `erased` names, its objects written
   * through `context.uploader`; the new object takes the old one's place in every version that names it.
   * Undefined: the segment holds none of them; `{}`: nothing of it is left. A kind without it holds
   * nothing of an item's bytes (erasure then leaves its segments as they are).
   */
  erase?(
    context: IndexContext,
    params: Params,
    segment: SegmentRef,
    erased: (tick: Tick) => boolean,
  ): Promise<{ readonly object?: Multihash } | undefined>;
  /** The objects a segment names besides itself (read and checked): collect keeps them, fsck checks them. */
  follow?(session: Session, segment: SegmentRef, params: Params): Promise<readonly Multihash[]>;
  /**
   * Read a segment and check it under the parameters (fsck): throws naming what is wrong. `replaced`: the
   * object took an erased segment's place (spec 0020 §7), so it holds fewer items than the track names.
   */
  check?(session: Session, segment: SegmentRef, params: Params, replaced?: boolean): Promise<void>;
  /** The parameters in a few words, for messages (an E_LINEAGE refusal shows both sides). */
  describe?(params: Params): string;
}
