/**
 * `@dreamdb/engine/query`: the read path (spec 0006 §2.4-2.7, 0015): read, range and stream items by
 * time; search a vector track, text tracks, or both (hybrid); the index entries playback and seeks use.
 */

import '../indexes/builtin.js';

export type { TextHit, TextMatch } from '../indexes/text/search.js';
export {
  fuseMoments,
  type HybridHit,
  type HybridMatches,
  type HybridQuery,
  hybrid,
  RRF_K,
} from '../queries/hybrid.js';
export {
  COALESCE_GAP,
  COALESCE_MAX,
  itemBytes,
  type RangePage,
  type RangeQuery,
  type ReadItem,
  range,
  read,
  seekEntry,
  toItem,
  trackEntries,
  trackRoot,
} from '../queries/read.js';
export { type SearchHit, type SearchQuery, search, vectorDimension } from '../queries/search.js';
export { type ItemStream, type StreamOptions, type StreamStats, stream } from '../queries/stream.js';
export { type TextQuery as TextSearchQuery, textSearch, textTracks } from '../queries/text-search.js';
export type { IndexEntry } from '../timeindex/page.js';
