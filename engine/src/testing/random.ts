/** mulberry32: a tiny seeded PRNG, uniform in [0, 1), for reproducible property tests. */
export { mulberry32 as random } from '../random.js';
