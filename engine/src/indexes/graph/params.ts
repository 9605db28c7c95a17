import { quote } from '../../errors.js';
import { FieldReader, fieldError } from '../../model/fields.js';
import type { Track } from '../../model/track.js';
import { vectorTrackDimension } from '../../vectors/payload.js';
import { defaultSubspaces } from '../../vectors/pq.js';
import { checkVamanaParams } from './vamana.js';

/** The scheme of the graph index (spec 0013). */
export const VAMANA_COSINE = 'dreamdb.vamana-cosine';

/**
 * A graph index's parameters (spec 0013 §2): the track's dimension, the graph's degree R, build list L,
 * prune factor alpha (in hundredths, so the record holds integers only), the seed of its start graph and
 * order, and the search list a query uses unless it names one.
 */
export interface GraphParams {
  readonly dimension: number;
  readonly degree: number;
  readonly buildList: number;
  readonly alphaPercent: number;
  readonly seed: number;
  readonly searchList: number;
  /** Product-quantization subspaces M of the codes a large segment carries (spec 0010): M bytes a vector. */
  readonly subspaces: number;
}

const FIELDS = [
  'v',
  'dimension',
  'degree',
  'build_list',
  'alpha_percent',
  'seed',
  'search_list',
  'subspaces',
] as const;

/** The defaults: R 32, L 64, alpha 1.2 (DiskANN's in-memory defaults are R 64, L 100; this halves the memory at recall@10 >= 0.99 on the bench sets), search list 64. */
export const defaultGraphParams = (dimension: number): GraphParams => ({
  dimension,
  degree: 32,
  buildList: 64,
  alphaPercent: 120,
  seed: 0,
  searchList: 64,
  subspaces: defaultSubspaces(dimension),
});

/** Check parameters (E_FIELD naming `path` and the field). */
export function checkGraphParams(p: GraphParams, path: string): GraphParams {
  if (!(Number.isInteger(p.dimension) && p.dimension >= 1 && p.dimension <= 65_536))
    fieldError(`${path}.dimension`, `${quote(p.dimension)} must be an integer from 1 to 65536`);
  if (!(Number.isInteger(p.alphaPercent) && p.alphaPercent >= 100 && p.alphaPercent <= 400))
    fieldError(`${path}.alpha_percent`, `${quote(p.alphaPercent)} must be an integer from 100 to 400`);
  if (!(Number.isInteger(p.searchList) && p.searchList >= 1 && p.searchList <= 65_535))
    fieldError(`${path}.search_list`, `${quote(p.searchList)} must be an integer from 1 to 65535`);
  if (!(Number.isInteger(p.subspaces) && p.subspaces >= 1 && p.subspaces <= p.dimension))
    fieldError(
      `${path}.subspaces`,
      `${quote(p.subspaces)} must be an integer from 1 to the dimension ${p.dimension}`,
    );
  try {
    checkVamanaParams(vamanaParams(p));
  } catch (error) {
    fieldError(path, (error as Error).message.replace(/^E_FIELD: /, ''));
  }
  return p;
}

/** The build parameters of the Vamana core. */
export const vamanaParams = (p: GraphParams) => ({
  degree: p.degree,
  buildList: p.buildList,
  alpha: p.alphaPercent / 100,
  seed: p.seed,
});

/** The record of parameters (a track's `indexes` entry). */
export function graphParamsToCbor(p: GraphParams): Record<string, unknown> {
  return {
    v: 0,
    seed: p.seed,
    degree: p.degree,
    dimension: p.dimension,
    build_list: p.buildList,
    search_list: p.searchList,
    alpha_percent: p.alphaPercent,
    subspaces: p.subspaces,
  };
}

/** Read and check a record of parameters. */
export function graphParamsFromCbor(value: unknown, path: string): GraphParams {
  const r = new FieldReader(value, path, FIELDS);
  if (r.uint('v') !== 0) fieldError(r.at('v'), `version ${quote(r.raw('v'))} is not 0`);
  return checkGraphParams(
    {
      dimension: r.uint('dimension'),
      degree: r.uint('degree'),
      buildList: r.uint('build_list'),
      alphaPercent: r.uint('alpha_percent'),
      seed: r.uint('seed'),
      searchList: r.uint('search_list'),
      subspaces: r.uint('subspaces'),
    },
    path,
  );
}

const OPTION_FIELDS: Record<string, keyof GraphParams> = {
  degree: 'degree',
  buildList: 'buildList',
  alpha: 'alphaPercent',
  seed: 'seed',
  searchList: 'searchList',
  subspaces: 'subspaces',
};

/** Parameters from a request's options (`{"degree": 48, "alpha": 1.2}`): what is left out takes the default. */
export function graphParamsFromOptions(
  options: Readonly<Record<string, unknown>>,
  track: Track,
  path: string,
): GraphParams {
  const dim = vectorTrackDimension(track);
  if (dim === undefined)
    fieldError(path, `only event tracks of vector.f32;dim=N have a ${VAMANA_COSINE} index`);
  const out: { -readonly [K in keyof GraphParams]: GraphParams[K] } = defaultGraphParams(dim);
  for (const [field, value] of Object.entries(options)) {
    const key = OPTION_FIELDS[field];
    if (!key)
      fieldError(`${path}.${field}`, `unknown option (known: ${Object.keys(OPTION_FIELDS).join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value))
      fieldError(`${path}.${field}`, `expected a number, got ${quote(value)}`);
    if (key === 'alphaPercent') {
      const percent = Math.round(value * 100);
      if (Math.abs(percent - value * 100) > 1e-9)
        fieldError(`${path}.alpha`, `${value} has more than two decimals`);
      out.alphaPercent = percent;
    } else out[key] = value;
  }
  return checkGraphParams(out, path);
}

/** The parameters in a few words. */
export const describeGraph = (p: GraphParams): string =>
  `R ${p.degree}, L ${p.buildList}, alpha ${p.alphaPercent / 100}, seed ${p.seed}, PQ ${p.subspaces} bytes`;
