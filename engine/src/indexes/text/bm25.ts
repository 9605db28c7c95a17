/**
 * BM25 (spec 0015 §6), in float64 with the operations in exactly this order, so that every
 * implementation gives the same scores (up to the last bits of `ln`, which IEEE 754 leaves open).
 */

/** Default term-frequency saturation. */
export const DEFAULT_K1 = 1.2;
/** Default length normalization. */
export const DEFAULT_B = 0.75;

/** Collection statistics: summed over every segment a query runs on. */
export interface CollectionStats {
  /** Documents (N). */
  readonly docs: number;
  /** Indexed tokens over all documents; avgdl = tokens / docs. */
  readonly tokens: number;
}

/** idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)): always positive. */
export function idf(docs: number, df: number): number {
  return Math.log(1 + (docs - df + 0.5) / (df + 0.5));
}

/** A term's weight in a document: idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * (dl / avgdl))). */
export function termWeight(
  idfValue: number,
  tf: number,
  dl: number,
  avgdl: number,
  k1: number,
  b: number,
): number {
  return idfValue * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * (dl / avgdl))));
}
