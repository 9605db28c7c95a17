import type { Multihash } from '../address/multihash.js';
import { multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import type { LargeBuildOptions } from '../indexes/large-build.js';
import { type Manifest, openManifest } from '../model/manifest.js';
import type { Track } from '../model/track.js';
import type { RefState, SpaceStore } from '../store/space-store.js';
import { TreeReader } from '../timeindex/tree.js';

/** A manifest as a verb sees it: its hash, its content, and the ref state it was resolved from. */
export interface Resolved {
  readonly hash: Multihash;
  readonly manifest: Manifest;
  /** The ref and its ETag when resolved from a ref (what publish compares-and-swaps against). */
  readonly ref?: { readonly name: string; readonly state: RefState };
}

/** How a session holds what it reads. */
export interface SessionOptions {
  /**
   * A graph index segment whose pages total at most this many bytes is loaded whole for queries; a
   * larger one (with codes, spec 0010) is searched paged: its codes in memory, its pages read by range.
   */
  readonly graphResidentBytes?: number;
  /**
   * The bytes of graph segments a session keeps loaded, resident or paged (default GRAPH_CACHE_BYTES,
   * 4 GiB); past it the least recently used are dropped and loaded again when next searched.
   */
  readonly graphCacheBytes?: number;
  /**
   * Whether a paged segment reads all its pages once in the background to hold its out-edges (4·R bytes
   * a node), after which a query reads pages in one round (default true). False keeps to byte ranges.
   */
  readonly graphHoldLinks?: boolean;
  /**
   * How graph segments too large to build whole are built over partitions (spec 0013 §2.1): where they
   * spill (default: memory) and who builds the shards (default: this thread, one at a time).
   */
  readonly graphBuild?: LargeBuildOptions;
}

/** Decoded manifests a session keeps, least recently used out first. */
const MAX_MANIFESTS = 256;

/**
 * One client's view of a space: the store, a cache of resolved refs (bounded by a freshness limit),
 * decoded manifests and index pages. Everything cached is immutable except ref resolutions.
 */
export class Session {
  readonly pages: TreeReader;
  private readonly refs = new Map<string, { at: number; resolved: Resolved }>();
  private readonly manifests = new Map<string, Manifest>();

  constructor(
    readonly store: SpaceStore,
    readonly options: SessionOptions = {},
  ) {
    this.pages = new TreeReader((mh) => store.getObject(mh));
  }

  /** A manifest by hash (verified and cached). */
  async manifest(hash: Multihash): Promise<Manifest> {
    const hex = multihashToHex(hash);
    let manifest = this.manifests.get(hex);
    if (manifest) {
      this.manifests.delete(hex); // re-insert: Map order is recency order
      this.manifests.set(hex, manifest);
    } else {
      manifest = openManifest(await this.store.getObject(hash), `manifest ${hex}`);
      if (manifest.space !== this.store.space) {
        throw new EngineError(
          'E_FIELD',
          `manifest ${hex} belongs to space ${manifest.space}, not ${this.store.space}`,
        );
      }
      this.manifests.set(hex, manifest);
      // A log or a merge walks whole histories: keep the most recent manifests only (each may carry up
      // to 1 MiB of inline index pages).
      if (this.manifests.size > MAX_MANIFESTS) this.manifests.delete(this.manifests.keys().next().value!);
      for (const track of manifest.tracks) if (track.index?.pages) this.pages.prime(track.index.pages);
    }
    return manifest;
  }

  /**
   * resolve: a ref to its manifest. A resolution younger than `maxStalenessMs` is reused (0 always asks
   * the store); an absent ref resolves to undefined.
   */
  async resolve(ref: string, options: { maxStalenessMs?: number } = {}): Promise<Resolved | undefined> {
    const cached = this.refs.get(ref);
    if (cached && Date.now() - cached.at <= (options.maxStalenessMs ?? 0)) return cached.resolved;
    const state = await this.store.readRef(ref);
    if (!state) {
      this.refs.delete(ref);
      return undefined;
    }
    const resolved: Resolved = {
      hash: state.manifest,
      manifest: await this.manifest(state.manifest),
      ref: { name: ref, state },
    };
    this.refs.set(ref, { at: Date.now(), resolved });
    return resolved;
  }

  /** Forget a ref's cached resolution (after this session moved it). */
  remember(ref: string, resolved: Resolved): void {
    this.refs.set(ref, { at: Date.now(), resolved });
  }
}

/** The track of a manifest, or E_NOT_FOUND naming it and what exists. */
export function findTrack(manifest: Manifest, timeline: string, track: string): Track {
  const found = manifest.tracks.find((t) => t.timeline === timeline && t.name === track);
  if (!found) {
    const known = manifest.tracks.map((t) => `${t.timeline}/${t.name}`).join(', ') || 'none';
    throw new EngineError(
      'E_NOT_FOUND',
      `track ${timeline}/${track} is not in this manifest (tracks: ${known})`,
    );
  }
  return found;
}
