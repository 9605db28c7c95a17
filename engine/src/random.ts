/**
 * mulberry32: a tiny seeded generator, uniform in [0, 1). Part of what the Vamana graph's build is
 * defined by (spec 0013 §2), and the tests' reproducible source.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
