import { multihashToHex } from '../address/multihash.js';
import { toHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { buildTextSegment, type TextDoc } from '../indexes/text/build.js';
import { parseQuery } from '../indexes/text/query.js';
import { fetchFromBuilt, TextSegmentReader } from '../indexes/text/reader.js';
import { searchText } from '../indexes/text/search.js';
import { ANALYZER, analyze, tokenizeFields } from '../indexes/text/tokenize.js';
import { fuseMoments } from '../queries/hybrid.js';
import { jsonEqual, type VectorOutcome } from './vectors.js';

/**
 * Runs spec/vectors/text/ (spec 0015): text.json (the analyzer's words, a corpus's segment objects byte
 * for byte, ranked queries with their scores, refused queries) and hybrid.json (reciprocal rank fusion
 * into moments), each checked from the file alone.
 */

/** The JSON form of a value: bigints as decimal strings. */
const plain = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

/** spec/vectors/text/text.json as written by the engine. */
export interface TextVectorFile {
  readonly analyzer: string;
  readonly analyze: readonly { name: string; text: string; words: unknown[] }[];
  readonly corpus: {
    readonly docs: readonly {
      track: string;
      tick: string;
      duration: string;
      fields: { name: string; text: string }[];
      tokens: unknown[];
    }[];
    readonly directory: { hash: string; hex: string };
    readonly pages: readonly { hash: string; hex: string }[];
  };
  readonly queries: readonly {
    query: string;
    k: number;
    k1?: number;
    b?: number;
    parsed: unknown;
    hits: unknown;
  }[];
  readonly invalid: readonly { query: string; error: string }[];
}

/** One outcome per check: a vector passes when what the engine gives equals what the file says. */
async function outcome(
  name: string,
  run: () => unknown | Promise<unknown>,
  expected: unknown,
): Promise<VectorOutcome> {
  try {
    const got = plain(await run());
    return jsonEqual(got, plain(expected))
      ? { name, ok: true }
      : { name, ok: false, detail: `got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}` };
  } catch (error) {
    return { name, ok: false, detail: `unexpected error: ${(error as Error).message}` };
  }
}

/** Check text.json against this engine. */
export async function runTextVectors(file: TextVectorFile): Promise<VectorOutcome[]> {
  const out: VectorOutcome[] = [await outcome('analyzer name', () => ANALYZER, file.analyzer)];
  for (const a of file.analyze)
    out.push(
      await outcome(
        `analyze: ${a.name}`,
        () => analyze(a.text).map((w) => [w.word, w.position, w.term ?? null]),
        a.words,
      ),
    );
  const docs: TextDoc[] = file.corpus.docs.map((d) => ({
    track: d.track,
    tick: BigInt(d.tick),
    duration: BigInt(d.duration),
    fields: d.fields,
  }));
  for (const [i, d] of file.corpus.docs.entries())
    out.push(
      await outcome(
        `corpus document ${i} tokens`,
        () =>
          tokenizeFields(d.fields.map((f) => f.text)).flatMap((tokens, f) =>
            tokens.map((t) => [t.term, t.position, d.fields[f]!.name]),
          ),
        d.tokens,
      ),
    );
  const built = buildTextSegment(docs);
  out.push(
    await outcome(
      'corpus segment: directory and pages byte for byte',
      () => ({
        directory: { hash: multihashToHex(built.directory.hash), hex: toHex(built.directory.bytes) },
        pages: built.pages.map((p) => ({ hash: multihashToHex(p.hash), hex: toHex(p.bytes) })),
      }),
      { directory: file.corpus.directory, pages: file.corpus.pages },
    ),
  );
  const reader = await TextSegmentReader.open(built.directory.hash, fetchFromBuilt([built]));
  for (const q of file.queries) {
    out.push(await outcome(`query ${JSON.stringify(q.query)}: parsed`, () => parseQuery(q.query), q.parsed));
    out.push(
      await outcome(
        `query ${JSON.stringify(q.query)} (k ${q.k}): hits and scores`,
        () =>
          searchText([reader], q.query, {
            k: q.k,
            ...(q.k1 !== undefined && { k1: q.k1 }),
            ...(q.b !== undefined && { b: q.b }),
          }),
        q.hits,
      ),
    );
  }
  for (const { query, error } of file.invalid) {
    let code: string | undefined;
    try {
      parseQuery(query);
    } catch (e) {
      code = e instanceof EngineError ? e.code : String(e);
    }
    out.push(
      code === error
        ? { name: `query ${JSON.stringify(query)} refused`, ok: true }
        : {
            name: `query ${JSON.stringify(query)} refused`,
            ok: false,
            detail: `got ${code ?? 'no error'}, expected ${error}`,
          },
    );
  }
  return out;
}

interface HybridHitVector {
  readonly track: string;
  readonly tick: string;
  readonly duration: string;
}

/** spec/vectors/text/hybrid.json as written by generate_hybrid.py. */
export interface HybridVectorFile {
  readonly vectors: readonly {
    readonly name: string;
    readonly input: {
      rrfK: number;
      weights: { text: number; vector: number };
      text: HybridHitVector[];
      vector: HybridHitVector[];
    };
    readonly output: unknown;
  }[];
}

/** Check hybrid.json: the engine's fusion gives each vector's moments, ranks and scores. */
export async function runHybridVectors(file: HybridVectorFile): Promise<VectorOutcome[]> {
  const hit = (h: HybridHitVector) => ({
    track: h.track,
    tick: BigInt(h.tick),
    duration: BigInt(h.duration),
    score: 0.5,
  });
  const out: VectorOutcome[] = [];
  for (const v of file.vectors)
    out.push(
      await outcome(
        v.name,
        () =>
          fuseMoments(
            's1',
            v.input.text.map((h) => ({ ...hit(h), matches: [] })),
            v.input.vector.map(hit),
            { rrfK: v.input.rrfK, ...v.input.weights },
          ).map((m) => ({
            track: m.track,
            tick: String(m.tick),
            score: m.score,
            text_rank: m.matched.text?.rank ?? null,
            vector_rank: m.matched.vector?.rank ?? null,
            vector_tick: m.matched.vector ? String(m.matched.vector.tick) : null,
          })),
        v.output,
      ),
    );
  return out;
}
