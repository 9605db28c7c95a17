/**
 * Clustered vectors for the vector-index tests, from a seeded LCG (so a test's data never changes): `centres`
 * Gaussian centres, each point a centre picked at random plus `noise` times a Gaussian; with `scaled`, each
 * point also gets a random length from 0.5 to 3.5 (an index must not depend on it).
 */
export function clusteredVectors(
  count: number,
  options: { dim: number; seed: number; centres: number; noise: number; scaled?: boolean },
): Float32Array[] {
  let s = options.seed;
  const uniform = () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: options.centres }, () => Array.from({ length: options.dim }, gauss));
  return Array.from({ length: count }, () => {
    const c = centres[Math.floor(uniform() * centres.length)]!;
    const scale = options.scaled ? 0.5 + 3 * uniform() : 1;
    return Float32Array.from(c, (x) => scale * (x + options.noise * gauss()));
  });
}
