/**
 * Cosine similarity in float32 with every step rounded and sums folded left to right (spec 0004 §6.4):
 * any implementation doing the same IEEE float32 operations in this order gets the same bits, so an
 * exact scan and an index re-rank give a hit the same score.
 */

/** Sum of squares of row `offset..offset+dimension` of `values`, float32 left fold. */
export function foldSquares(values: Float32Array, offset = 0, dimension = values.length): number {
  let sum = 0;
  for (let i = offset, end = offset + dimension; i < end; i++)
    sum = Math.fround(sum + Math.fround(values[i]! * values[i]!));
  return sum;
}

/** The f32 norm a cosine divides by: sqrt of the folded squares, rounded to f32. */
export const foldNorm = (squares: number): number => Math.fround(Math.sqrt(squares));

/**
 * cos(query, row) = f32(dot / f32(queryNorm · rowNorm)), dot an f32 left fold of f32 products, clamped
 * to [−1, 1] (f32 rounding can put a vector's cosine with itself a unit in the last place above 1).
 * Both norms come from foldNorm; the row starts at `offset` of `rows`.
 */
export function cosineAt(
  query: Float32Array,
  queryNorm: number,
  rows: Float32Array,
  offset: number,
  rowNorm: number,
): number {
  let dot = 0;
  for (let i = 0; i < query.length; i++) dot = Math.fround(dot + Math.fround(query[i]! * rows[offset + i]!));
  const cos = Math.fround(dot / Math.fround(queryNorm * rowNorm));
  return Math.min(1, Math.max(-1, cos));
}

/**
 * Row `offset..offset+out.length` of `values` scaled to unit length in f32 into `out`: each component
 * divided by foldNorm(foldSquares(row)) (spec 0013 §1: the graph index's rows and queries).
 */
export function scaleToUnit(values: Float32Array, offset: number, out: Float32Array): void {
  const norm = foldNorm(foldSquares(values, offset, out.length));
  for (let i = 0; i < out.length; i++) out[i] = values[offset + i]! / norm;
}
