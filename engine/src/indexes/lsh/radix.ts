/**
 * Row numbers 0..n-1 ordered by a 32-bit key, ties in row order: two stable 16-bit counting passes (LSD
 * radix), O(n) where a comparison sort is O(n log n) and calls a function per comparison.
 */
export function orderByKey(keys: Uint32Array, offset: number, n: number): Uint32Array {
  let from = new Uint32Array(n);
  for (let i = 0; i < n; i++) from[i] = i;
  let to = new Uint32Array(n);
  const counts = new Uint32Array(65_537);
  for (const shift of [0, 16]) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((keys[offset + i]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    for (let i = 0; i < n; i++) {
      const row = from[i]!;
      to[counts[(keys[offset + row]! >>> shift) & 0xffff]!++] = row;
    }
    [from, to] = [to, from];
  }
  return from;
}
