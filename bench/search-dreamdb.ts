/**
 * The DreamDB runs of `npm run bench -- search`: build DreamDB's vector index over `data.vectors` and return
 * one SearchRun per setting (LSH parameters). The harness (search.ts) prints them beside hnswlib-node with
 * their QPS ratio to hnswlib at the nearest recall.
 *
 * Contract: row ordinals are the row numbers of data.vectors (n rows of data.dim float32, row-major, unit
 * length); the queries are data.queryVectors (data.queries rows). For each setting, use timeQueries(data,
 * search) from ./search-data.ts (one thread, queries one at a time, best of 3) so that QPS is measured as for
 * hnswlib, and recallAt10(results, truth) for the recall.
 */
import type { SearchData, SearchRun, Truth } from './search-data.ts';

export async function dreamdbRuns(_data: SearchData, _truth: Truth): Promise<SearchRun[]> {
  return [];
}
