import { multihashToHex } from '../../address/multihash.js';
import { fromHex, toHex } from '../../cbor/json-form.js';
import { EngineError, quote } from '../../errors.js';
import { fieldError } from '../../model/fields.js';
import type { Track } from '../../model/track.js';
import { vectorTrackDimension } from '../../vectors/payload.js';
import type { IndexKind, VectorIndexReader } from '../kind.js';
import { loadSpatial, lowerBound } from './load.js';
import { assertLshParams, LSH_COSINE } from './lsh.js';
import { decodeSpatialSegment } from './segment.js';
import {
  defaultSpatialIndex,
  type SpatialIndex,
  spatialIndexFromCbor,
  spatialIndexHash,
  spatialIndexToCbor,
} from './spatial-index.js';
import { eraseSpatial, updateSpatial } from './write.js';

/**
 * Candidates re-ranked exactly unless the query says otherwise (spec 0004 §6.3): the pre-rank keeps every
 * true top-10 hit within its best 300 on the benchmark sets, so this loses no measured recall.
 */
export const defaultRerank = (k: number): number => Math.max(300, 30 * k);

/**
 * `dreamdb.lsh-cosine` (spec 0004) as an index kind: its parameter record is the SpatialIndex record, whose
 * hash is the lineage its segments and the track's buckets carry; its segments are spatial segments. A
 * track has it when its definition names it: the default index of a vector track is the graph (0013).
 */
export const lshCosine: IndexKind<SpatialIndex, VectorIndexReader> = {
  scheme: LSH_COSINE,
  objects: ['spatialSegment'],
  role: 'vector',
  readParams: (record, path) => spatialIndexFromCbor(record, path),
  writeParams: spatialIndexToCbor,
  fromOptions(options, track, path) {
    const dim = vectorTrackDimension(track);
    if (dim === undefined)
      fieldError(path, `only event tracks of vector.f32;dim=N have a ${LSH_COSINE} index`);
    const index: { -readonly [K in keyof SpatialIndex]: SpatialIndex[K] } = defaultSpatialIndex(dim);
    for (const [field, value] of Object.entries(options)) {
      if (field === 'tables' || field === 'bits' || field === 'probes') {
        if (typeof value !== 'number')
          fieldError(`${path}.${field}`, `expected an integer, got ${quote(value)}`);
        index[field] = value;
      } else if (field === 'seed') {
        if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value))
          fieldError(`${path}.seed`, 'expected 32 bytes as 64 lowercase hex digits');
        index.seed = fromHex(value);
      } else fieldError(`${path}.${field}`, 'unknown option (known: tables, bits, probes, seed)');
    }
    assertLshParams(index, path);
    return index;
  },
  summary: (i) => ({
    lineage: multihashToHex(spatialIndexHash(i)),
    dimension: i.dimension,
    tables: i.tables,
    bits: i.bits,
    probes: i.probes,
    seed: toHex(i.seed),
  }),
  fits(track: Track, index: SpatialIndex, path: string) {
    const dim = vectorTrackDimension(track);
    if (dim === undefined)
      fieldError(path, `only event tracks of vector.f32;dim=N have a ${LSH_COSINE} index`);
    if (dim !== index.dimension)
      fieldError(`${path}.params.dimension`, `${index.dimension} differs from the track's dim=${dim}`);
  },
  lineage: spatialIndexHash,
  update: (context, index, segments, change) => updateSpatial(context, index, segments, change),
  erase: (context, index, segment, erased) => eraseSpatial(context, index, segment, erased),
  async open(session, _track, index, segments) {
    const { tables, ticks } = await loadSpatial(session, index, segments);
    return {
      nearest(query, options) {
        const { probes, rerank, k } = options;
        if (probes !== undefined && !(Number.isInteger(probes) && probes >= 1 && probes <= index.bits + 1))
          throw new EngineError(
            'E_BAD_REQUEST',
            `probes ${quote(probes)} must be an integer from 1 to ${index.bits + 1}`,
          );
        const found = tables.search(query, {
          k,
          from: lowerBound(ticks, options.from),
          ...(options.to !== undefined && { to: lowerBound(ticks, options.to) }),
          ...(probes !== undefined && { probes }),
          rerank: rerank ?? defaultRerank(k),
        });
        return found.map(({ ordinal, score }) => ({ tick: ticks[ordinal]!, score }));
      },
    };
  },
  async check(session, segment, index, replaced) {
    const hex = multihashToHex(segment.object);
    const decoded = decodeSpatialSegment(
      await session.store.getObject(segment.object),
      spatialIndexHash(index),
      `spatial segment ${hex}`,
    );
    if (
      !replaced &&
      (decoded.count !== segment.count || decoded.first !== segment.first || decoded.last !== segment.last)
    )
      throw new EngineError(
        'E_FIELD',
        `spatial segment ${hex} holds ${decoded.count} vectors in [${decoded.first}, ${decoded.last}], not the ${segment.count} in [${segment.first}, ${segment.last}] the track names`,
      );
  },
  describe: (i) => `${i.tables} tables x ${i.bits} bits, seed ${toHex(i.seed.subarray(0, 8))}…`,
};
