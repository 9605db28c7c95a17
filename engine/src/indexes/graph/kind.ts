import { multihashToHex } from '../../address/multihash.js';
import { EngineError } from '../../errors.js';
import { fieldError } from '../../model/fields.js';
import type { Track } from '../../model/track.js';
import { scaleToUnit } from '../../vectors/cosine.js';
import { vectorTrackDimension } from '../../vectors/payload.js';
import type { IndexKind, VectorIndexReader } from '../kind.js';
import { type GraphHit, loadGraph, searchSegment, segmentCodebooks } from './load.js';
import {
  defaultGraphParams,
  describeGraph,
  type GraphParams,
  graphParamsFromCbor,
  graphParamsFromOptions,
  graphParamsToCbor,
  VAMANA_COSINE,
} from './params.js';
import { checkPage, forEachPage, graphIndexChildren, readGraphIndex, readPage } from './segment.js';
import { eraseGraph, updateGraph } from './write.js';

/** Vector tracks wider than this get no index by default (exact search only). */
const MAX_DEFAULT_DIMENSION = 4096;

/**
 * `dreamdb.vamana-cosine` (spec 0013) as an index kind: a Vamana graph per segment over the track's
 * vectors, stored as a GraphIndex and its GraphPage objects; the default index of a new vector track.
 */
export const vamanaCosine: IndexKind<GraphParams, VectorIndexReader> = {
  scheme: VAMANA_COSINE,
  objects: ['graphIndex', 'graphBody', 'graphPage', 'vectorCompressor'],
  role: 'vector',
  readParams: (record, path) => graphParamsFromCbor(record, path),
  writeParams: graphParamsToCbor,
  fromOptions: graphParamsFromOptions,
  summary: (p) => ({
    dimension: p.dimension,
    degree: p.degree,
    buildList: p.buildList,
    alpha: p.alphaPercent / 100,
    seed: p.seed,
    searchList: p.searchList,
    subspaces: p.subspaces,
  }),
  fits(track: Track, p: GraphParams, path: string) {
    const dim = vectorTrackDimension(track);
    if (dim === undefined)
      fieldError(path, `only event tracks of vector.f32;dim=N have a ${VAMANA_COSINE} index`);
    if (dim !== p.dimension)
      fieldError(`${path}.params.dimension`, `${p.dimension} differs from the track's dim=${dim}`);
  },
  defaultFor(track) {
    const dim = vectorTrackDimension(track);
    return dim !== undefined && dim <= MAX_DEFAULT_DIMENSION ? defaultGraphParams(dim) : undefined;
  },
  update: updateGraph,
  erase: eraseGraph,
  async open(session, _track, params, segments) {
    const opened = await Promise.all(
      segments.map(async (s) => ({ ref: s, graph: await loadGraph(session, params, s) })),
    );
    return {
      async nearest(query, options) {
        const { k, from, to, probes, rerank } = options;
        if (probes !== undefined)
          throw new EngineError(
            'E_BAD_REQUEST',
            `probes apply to dreamdb.lsh-cosine indexes; this track's index is ${VAMANA_COSINE} (its search list is rerank)`,
          );
        const list = Math.max(k, rerank ?? params.searchList);
        const unit = new Float32Array(query.length);
        scaleToUnit(query, 0, unit);
        const hits: GraphHit[] = [];
        for (const { ref, graph } of opened) {
          if (ref.last < from || (to !== undefined && ref.first >= to)) continue;
          hits.push(...(await searchSegment(graph, unit, k, list, from, to)));
        }
        hits.sort((a, b) => a.distance - b.distance || (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
        return hits.slice(0, k).map((h) => ({ tick: h.tick, score: 1 - h.distance }));
      },
    };
  },
  async follow(session, segment) {
    return graphIndexChildren(await session.store.getObject(segment.object));
  },
  async check(session, segment, params, replaced) {
    const hex = multihashToHex(segment.object);
    const index = await readGraphIndex(
      (o) => session.store.getObject(o),
      segment.object,
      params,
      `graph index ${hex}`,
    );
    if (
      !replaced &&
      (index.count !== segment.count || index.first !== segment.first || index.last !== segment.last)
    )
      throw new EngineError(
        'E_FIELD',
        `graph index ${hex} holds ${index.count} nodes in [${index.first}, ${index.last}], not the ${segment.count} in [${segment.first}, ${segment.last}] the track names`,
      );
    if (index.compressed) await segmentCodebooks(session, index);
    const { degree } = params;
    const scratch = {
      neighbors: new Int32Array(index.count * degree),
      counts: new Uint16Array(index.count),
      setRow: () => {},
    };
    await forEachPage(
      index,
      (object) => session.store.getObject(object),
      (page, bytes, what) => {
        checkPage(index, page, bytes, what);
        readPage(index, page, bytes, scratch, what);
      },
    );
  },
  describe: describeGraph,
};
