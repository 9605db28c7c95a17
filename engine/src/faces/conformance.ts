/**
 * `@dreamdb/engine/conformance`: the runners of spec/vectors (spec 0009): one vector, one file, or any
 * file by where it lives; `dreamdb check` and the tests share them.
 */

export { type DagVectorFile, runDagScenario, runDagVectors } from '../conformance/dag-vectors.js';
export {
  type HybridVectorFile,
  runHybridVectors,
  runTextVectors,
  type TextVectorFile,
} from '../conformance/text-vectors.js';
export {
  jsonEqual,
  runVector,
  runVectorFile,
  runVectorsAt,
  type Vector,
  type VectorFile,
  type VectorOutcome,
} from '../conformance/vectors.js';
