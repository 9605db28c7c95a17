/**
 * The documents the origin's `/v0` API answers with (spec 0006 §4), one declaration for the server that
 * builds them and the clients that read them (the web player). Types only: importing them costs a
 * bundle nothing.
 *
 * 64-bit integers (ticks, durations, `created`, `genesis`) are decimal strings in JSON and integers in
 * CBOR (§4.1), so the documents that carry them take that form as a parameter: `string` (the default) is
 * what a JSON client reads, `bigint` what a CBOR client reads and what the server builds before
 * encoding. Stored values (item payloads, track `attrs`) are `unknown`: their JSON form (0009 §3.4) in
 * JSON, their own CBOR values in CBOR.
 */

import type { ItemChange, TrackDiff } from '../versions/diff.js';

/** How a document writes its 64-bit integers: decimal strings (JSON), or bigints (CBOR, the server's tree). */
export type U64 = string | bigint;

/** A refusal: the error code and a message naming the field or parameter at fault (§4.2). */
export interface ErrorDoc<I extends U64 = string> {
  /** E_BAD_REQUEST, E_NOT_FOUND, E_CONFLICT, ... */
  readonly error: string;
  /** `<field or parameter path>: <problem>`. */
  readonly message: string;
  /** A ref's manifest when a publish found it elsewhere (409 E_CONFLICT); null: the ref does not exist. */
  readonly current?: string | null;
  /** A merge's conflicts (409, nothing merged), at most 100 of them. */
  readonly conflicts?: readonly ConflictDoc<I>[];
  /** How many conflicts the merge had, listed or not. */
  readonly conflictCount?: number;
}

/** A byte range in an object: [start, end) offsets. */
export interface ByteRangeDoc {
  readonly start: number;
  readonly end: number;
}

// Timelines (GET /v0/spaces/:space/timelines[/:timeline][/seek]): JSON only.

/** A timeline as the space's listing names it: its genesis and how many tracks it has. */
export interface TimelineEntryDoc {
  readonly name: string;
  /** Unix ns of tick 0, when the timeline has a genesis. */
  readonly genesis?: string;
  readonly tracks: number;
}

/** The timelines of a space at one version. */
export interface TimelineListDoc {
  readonly space: string;
  /** The version listed (a manifest hash). */
  readonly manifest: string;
  readonly timelines: readonly TimelineEntryDoc[];
}

/**
 * One of a track's indexes (0001 §4.1), as listings show it: its scheme, what the verbs use it for, how
 * much it holds, and the parameters a client needs (a vector index's lineage pins it for `search`).
 */
export interface IndexDoc {
  /** `dreamdb.lsh-cosine`, `dreamdb.text-bm25`, or another kind's scheme. */
  readonly scheme: string;
  /** `vector`: `search` uses it; `text`: `text` and `hybrid` do. Absent for a kind the verbs do not use. */
  readonly role?: 'vector' | 'text';
  /** Segments written so far, and the items they index. */
  readonly segments: number;
  readonly items: number;
  /** The parameters, as the kind shows them (a vector index's `lineage`, dimension, tables...). */
  readonly params?: Readonly<Record<string, string | number | boolean>>;
}

/** A track as a timeline's listing describes it: what it holds, its span, its playlist and indexes. */
export interface TrackDoc {
  readonly name: string;
  readonly kind: 'stream' | 'event' | 'constant';
  /** A modality tag (0002), e.g. `video.h264`, `text.cue`, `vector.f32`. */
  readonly modality: string;
  /** How many items the track holds. */
  readonly items: number;
  /** RFC 6381 codecs of a stream track. */
  readonly codecs?: string;
  /** The first and last item's ticks (absent when the track is empty). */
  readonly first?: string;
  readonly last?: string;
  /** A stream track's own HLS media playlist. */
  readonly hls?: string;
  /** Its indexes by scheme (a vector track's, a text track's), when it has any. */
  readonly indexes?: Readonly<Record<string, IndexDoc>>;
}

/** A timeline at one version: its genesis, its tracks and the URLs that play it. */
export interface TimelineDoc {
  readonly space: string;
  readonly timeline: string;
  /** The version shown (a manifest hash). */
  readonly manifest: string;
  /** Unix ns of tick 0, when the timeline has a genesis. */
  readonly genesis?: string;
  readonly tracks: readonly TrackDoc[];
  /** The master playlist (HLS) and the manifest (DASH) of the timeline, at the ref asked for. */
  readonly playback: { readonly hls: string; readonly dash: string };
}

/** A stream track's fragment covering a tick, from the index alone. */
export interface SeekEntryDoc {
  readonly track: string;
  readonly tick: string;
  readonly duration: string;
  /** How far the tick asked for is into the fragment, in ns. */
  readonly offset: string;
  readonly url: string;
  readonly range: ByteRangeDoc;
}

/** A time-seek: the tick asked for and, per stream track, the fragment holding it. */
export interface SeekDoc {
  readonly t: string;
  readonly tracks: readonly SeekEntryDoc[];
}

// Verbs (resolve, listings, read, range, stream, search, text, hybrid, write, publish, collect).

/** An item: its place on the timeline, where its bytes are and (event and constant items) its payload. */
export interface ItemDoc<I extends U64 = string> {
  readonly timeline: string;
  readonly track: string;
  readonly tick: I;
  /** The tick as 16 hex digits, as keys and URIs write it (0003). */
  readonly hex: string;
  readonly duration: I;
  /** The item's `dreamdb://` address with its byte range. */
  readonly address: string;
  /** The origin URL of the object holding the item. */
  readonly url: string;
  /** The item's bytes in that object. */
  readonly range: ByteRangeDoc;
  /** The item's stored length. */
  readonly bytes: number;
  /** Event and constant items' value. */
  readonly payload?: unknown;
  /** A constant item's layer (the greatest wins). */
  readonly layer?: string;
}

/** One page of a range: items in (tick, track) order; `next` fetches the page after it. */
export interface ItemsPageDoc<I extends U64 = string> extends AtTimelineDoc {
  readonly items: readonly ItemDoc<I>[];
  /** Where the next page starts, when more items follow. */
  readonly cursor?: string;
  /** This URL with `cursor` set, when more items follow. */
  readonly next?: string;
}

/** A track as resolve and the track listings show it: its definition and its index's summary. */
export interface TrackRecordDoc<I extends U64 = string> {
  readonly timeline: string;
  readonly name: string;
  readonly kind: 'stream' | 'event' | 'constant';
  readonly modality: string;
  readonly items: number;
  readonly first?: I;
  readonly last?: I;
  /** A stream track's media rate, `num/den`. */
  readonly rate?: string;
  readonly codecs?: string;
  /** A stream track's init segment (an object hash). */
  readonly init?: string;
  /** How long a bucket object of an event track spans, in ns. */
  readonly bucketDuration?: I;
  /** The track's stored attributes. */
  readonly attrs?: unknown;
  /** Its indexes by scheme. */
  readonly indexes?: Readonly<Record<string, IndexDoc>>;
}

/** Where an answer about one timeline comes from: the space, the timeline and the version (a manifest hash). */
export interface AtTimelineDoc {
  readonly space: string;
  readonly timeline: string;
  readonly manifest: string;
}

/** The tracks of a timeline at one version. */
export interface TracksDoc<I extends U64 = string> extends AtTimelineDoc {
  readonly tracks: readonly TrackRecordDoc<I>[];
}

/** A manifest's place in history: a log entry. */
export interface LogEntryDoc<I extends U64 = string> {
  readonly manifest: string;
  readonly parents: readonly string[];
  /** Unix ns when it was published (monotonic along history, for people only). */
  readonly created: I;
  readonly author?: string;
  readonly message?: string;
}

/** A manifest as resolve shows it: its history, metadata, timelines and tracks. */
export interface ManifestDoc<I extends U64 = string> extends LogEntryDoc<I> {
  readonly space: string;
  /** The ref resolved (absent when a manifest hash was asked for). */
  readonly ref?: string;
  readonly timelines: readonly { readonly name: string; readonly genesis?: I; readonly title?: string }[];
  readonly tracks: readonly TrackRecordDoc<I>[];
}

/** A term a text hit matched, and the payload fields it matched in. */
export interface TermMatchDoc {
  readonly term: string;
  readonly fields: readonly string[];
}

/** Where a moment is seen in the version that found it: the item read at its tick, and the time-seek. */
export interface MomentLinksDoc {
  readonly item: string;
  readonly seek: string;
}

/** Where a hit is on the timeline, and its score in the ranking that found it. */
export interface HitPlaceDoc<I extends U64 = string> {
  readonly timeline: string;
  readonly track: string;
  readonly tick: I;
  /** The tick as 16 hex digits. */
  readonly hex: string;
  readonly duration: I;
  readonly score: number;
}

/** A search (vector) hit: the item, its place, and its cosine similarity to the query. */
export interface SearchHitDoc<I extends U64 = string> extends HitPlaceDoc<I> {
  readonly address: string;
  readonly url: string;
  readonly range: ByteRangeDoc;
  readonly payload: unknown;
}

/** A text hit: the item's place, its BM25 score, the terms it matched, its links. */
export interface TextHitDoc<I extends U64 = string> extends MomentLinksDoc, HitPlaceDoc<I> {
  readonly matches: readonly TermMatchDoc[];
}

/** A fused (hybrid) hit: the moment, its reciprocal-rank score, its rank and score in each query that found it. */
export interface HybridHitDoc<I extends U64 = string> extends MomentLinksDoc, HitPlaceDoc<I> {
  readonly matched: {
    /** Its place in the text query's ranking. */
    readonly text?: {
      readonly rank: number;
      readonly score: number;
      readonly terms: readonly TermMatchDoc[];
    };
    /** Its place in the vector query's ranking, and the vector item that matched. */
    readonly vector?: {
      readonly rank: number;
      readonly score: number;
      readonly track: string;
      readonly tick: I;
      readonly hex: string;
    };
  };
}

/** How a vector query was answered: by the track's vector index (with the knobs used), or a scan. */
export type VectorPlanDoc =
  | { readonly exact: true }
  | { readonly index: IndexDoc & { readonly probes?: number; readonly rerank?: number } };

/** The answer of search: the k nearest items, best first, and how they were found. */
export type SearchDoc<I extends U64 = string> = VectorPlanDoc & {
  readonly space: string;
  readonly manifest: string;
  readonly hits: readonly SearchHitDoc<I>[];
};

/** The answer of text: the best moments by BM25, best first. */
export interface TextDoc<I extends U64 = string> extends AtTimelineDoc {
  readonly hits: readonly TextHitDoc<I>[];
}

/** The answer of hybrid: fused moments, best first, and how the vector half was answered. */
export interface HybridDoc<I extends U64 = string> extends AtTimelineDoc {
  readonly vector?: VectorPlanDoc & { readonly track: string };
  readonly hits: readonly HybridHitDoc<I>[];
}

/** The answer of write: the unpublished manifest a batch was stored as. */
export interface WriteDoc {
  readonly space: string;
  readonly manifest: string;
  /** The version the batch builds on (null: an empty space). */
  readonly base: string | null;
  readonly parents: readonly string[];
  readonly items: number;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
}

/** One thing a delete removed (spec 0020 §3): a timeline, a track, or a track's items in [from, to). */
export interface TombstoneDoc<I extends U64 = string> {
  readonly timeline: string;
  readonly track?: string;
  readonly from?: I;
  /** Exclusive; absent: to the end of time. */
  readonly to?: I;
  readonly count: number;
}

/** The answer of delete: the version published (null when nothing matched) and what it removed. */
export interface DeleteDoc<I extends U64 = string> {
  readonly space: string;
  readonly ref: string;
  readonly manifest: string | null;
  readonly previous: string;
  readonly deleted: number;
  readonly erase: boolean;
  readonly tombstones: readonly TombstoneDoc<I>[];
}

/** The answer of publish: where the ref was and is now. */
export interface PublishDoc {
  readonly space: string;
  readonly ref: string;
  readonly manifest: string;
  /** The ref's manifest before (null: it did not exist). */
  readonly previous: string | null;
  readonly parents: readonly string[];
  /** false: the ref was there already (a retried request). */
  readonly moved: boolean;
  /** With `rebase`: whether the batch had to be merged onto a ref that moved. */
  readonly rebased?: boolean;
  readonly items: number;
  readonly objectsWritten: number;
  readonly bytesWritten: number;
}

/** The answer of collect: what is reachable, and what was (or would be) deleted. */
export interface CollectDoc {
  readonly space: string;
  readonly applied: boolean;
  readonly graceMs: number;
  readonly refs: number;
  readonly manifests: number;
  readonly reachable: number;
  readonly scanned: number;
  readonly unreachable: number;
  readonly bytesFreed: number;
  readonly keptYoung: number;
  /** Unreachable objects' hashes, at most 1000. */
  readonly objects: readonly string[];
  readonly truncated: boolean;
}

// Versioning (GET, POST, DELETE /v0/spaces/:space/refs, /log, /merge, /diff; spec 0008).

/** A ref of the space and the manifest it points at. */
export interface RefDoc {
  readonly name: string;
  readonly kind: 'main' | 'branch' | 'tag' | 'other';
  readonly manifest: string;
}

/** The refs of a space. */
export interface RefsDoc {
  readonly space: string;
  readonly refs: readonly RefDoc[];
}

/** A ref made (201). */
export interface RefCreatedDoc {
  readonly space: string;
  readonly ref: string;
  readonly manifest: string;
  readonly created: true;
}

/** History from a version, newest first. */
export interface LogDoc<I extends U64 = string> {
  readonly space: string;
  readonly ref: string;
  readonly entries: readonly LogEntryDoc<I>[];
}

/** A merge made: how the ref moved. */
export interface MergeDoc {
  readonly space: string;
  readonly ref: string;
  readonly outcome: 'up-to-date' | 'fast-forward' | 'merge';
  readonly manifest: string;
  readonly parents: readonly string[];
  /** The merge bases used (a criss-cross history has several). */
  readonly bases: readonly (readonly string[])[];
  readonly objectsWritten: number;
}

/** One side of a merge conflict: the item as that version has it, or the track for a track-level conflict. */
export type ConflictSideDoc<I extends U64 = string> =
  | { readonly track: TrackRecordDoc<I> }
  | Pick<ItemDoc<I>, 'tick' | 'hex' | 'duration' | 'address' | 'url' | 'range' | 'payload' | 'layer'>;

/** A merge conflict: where, why, and each side's value (a side that lacks the item is absent). */
export interface ConflictDoc<I extends U64 = string> {
  readonly timeline: string;
  readonly track?: string;
  readonly tick?: I;
  readonly hex?: string;
  /** Why the sides cannot be merged, e.g. "changed differently on both sides". */
  readonly reason: string;
  readonly base?: ConflictSideDoc<I>;
  /** The side merged into. */
  readonly ours?: ConflictSideDoc<I>;
  /** The side merged from. */
  readonly theirs?: ConflictSideDoc<I>;
}

/** How one track differs between two versions: counts, and the first changes (the engine's TrackDiff). */
export interface TrackDiffDoc<I extends U64 = string> extends Omit<TrackDiff, 'items'> {
  readonly items: readonly {
    readonly tick: I;
    readonly hex: string;
    readonly change: ItemChange['change'];
  }[];
}

/** What changed from one version to another, per track. */
export interface DiffDoc<I extends U64 = string> {
  readonly space: string;
  readonly from: string;
  readonly to: string;
  readonly tracks: readonly TrackDiffDoc<I>[];
}

// Upload (POST /v0/spaces/:space/timelines/:timeline/ingest): JSON only.

/** A stream track an upload was packaged into. */
export interface IngestTrackDoc {
  readonly name: string;
  readonly modality: string;
  readonly codecs: string;
  /** true: copied as it was; false: transcoded. */
  readonly remuxed: boolean;
  readonly fragments: number;
  /** The first fragment's tick, and the tick past the last one. */
  readonly first: string;
  readonly end: string;
  /** The init segment's object hash. */
  readonly init: string;
}

/** What an upload became (201; 200 when every fragment was stored already). */
export interface IngestDoc extends AtTimelineDoc {
  readonly ref?: string;
  /** The tick of the recording's media time 0. */
  readonly origin: string;
  readonly unchanged: boolean;
  readonly objects: number;
  readonly bytes: number;
  readonly tracks: readonly IngestTrackDoc[];
  readonly derived: readonly { readonly name: string; readonly count: number }[];
}

/** A line of an upload's NDJSON answer: a stage as it is packaged, then the outcome (done or failed). */
export type IngestStage =
  | { readonly stage: 'received'; readonly bytes: number }
  | {
      readonly stage: 'packaging';
      /** The media time reached, and the recording's duration when known (seconds). */
      readonly seconds: number;
      readonly duration?: number;
      readonly fragments: number;
    }
  | { readonly stage: 'deriving'; readonly track: string }
  | { readonly stage: 'publishing' }
  | ({ readonly stage: 'done'; readonly status: 200 | 201 } & IngestDoc)
  | ({ readonly stage: 'failed'; readonly status: number } & ErrorDoc);

/** A right a capability token grants (spec 0018 §2.3). */
export type RightDoc = 'read' | 'write' | 'merge' | 'ingest' | 'admin';

/**
 * GET /v0/access: what the request's token allows (spec 0018 §4), or everything in open mode. The player
 * shows it and hides what it does not allow; patterns are names or prefixes ending in `*` (`*`: any).
 */
export interface AccessDoc {
  /** open: the origin checks no token (loopback, or --insecure-open); token: it checked this one. */
  readonly mode: 'open' | 'token';
  readonly tenant?: string;
  /** The rights every block of the token grants (all five in open mode). */
  readonly rights: RightDoc[];
  /** Space patterns a request's space must match (every block's list must match). */
  readonly spaces: string[];
  /** Ref patterns a request's ref must match. */
  readonly refs: string[];
  /** The one stretch of one timeline the token grants, when it names one: ticks as decimal strings. */
  readonly window?: { readonly timeline: string; readonly from: string; readonly to: string };
  /** RFC 3339 bounds of the token's validity. */
  readonly notBefore?: string;
  readonly expires?: string;
}
