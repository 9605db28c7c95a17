import { multihashToHex } from '../address/multihash.js';
import { fromHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { LSH_COSINE } from '../indexes/lsh/lsh.js';
import { spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { camAndDetections, detectionLabels, SECOND } from '../testing/fixtures.js';
import { encodeVector } from '../vectors/payload.js';
import { merge } from '../versions/merge.js';
import { MergeConflictError } from '../versions/merge-content.js';
import { createRef } from '../versions/refs.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { jsonEqual, type VectorOutcome } from './vectors.js';

/**
 * Runs spec/vectors/dag/dag.json (spec 0008): each scenario's commits, branches and merges in a fresh
 * in-memory space, every expectation (outcome, head, parents, bases, items, conflicts, refusals) checked.
 */

/** The vectors of dag.json. */
export interface DagVectorFile {
  readonly scenarios: readonly { readonly name: string; readonly steps: readonly Step[] }[];
}

export interface Step {
  op: 'commit' | 'branch' | 'merge';
  ref?: string;
  name?: string;
  at?: string;
  items?: Record<string, string>;
  /** Ticks (seconds) the commit deletes from det before writing its items (spec 0020). */
  delete?: string[];
  vectors?: Record<string, number[]>;
  spatial?: { tables: number; bits: number; probes: number; seed: string };
  into?: string;
  from?: string[];
  expect?: {
    outcome?: string;
    head?: string;
    parents?: string[];
    bases?: string[][];
    items?: Record<string, string>;
    conflicts?: {
      tick: number;
      reason: string;
      base: string | null;
      ours: string | null;
      theirs: string | null;
    }[];
    error?: string;
  };
}

class Mismatch extends Error {}
function ensure(condition: boolean, where: string): asserts condition {
  if (!condition) throw new Mismatch(where);
}
function same(actual: unknown, expected: unknown, where: string): void {
  const plain = (v: unknown) =>
    JSON.parse(
      JSON.stringify(v ?? null, (_k, x) =>
        typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? multihashToHex(x) : x,
      ),
    );
  if (!jsonEqual(plain(actual), plain(expected)))
    throw new Mismatch(
      `${where}: got ${JSON.stringify(plain(actual))}, expected ${JSON.stringify(plain(expected))}`,
    );
}

/** Run one scenario; throws naming the step and what differs. */
export async function runDagScenario(scenario: DagVectorFile['scenarios'][number]): Promise<void> {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const named = new Map<string, Uint8Array>();
  const nameOf = new Map<string, string>();
  const remember = (name: string | undefined, hash: Uint8Array) => {
    if (!name) return;
    named.set(name, hash);
    if (!nameOf.has(multihashToHex(hash))) nameOf.set(multihashToHex(hash), name); // a fast-forward keeps its name
  };
  const version = (v: string) => named.get(v) ?? v;
  let clock = 1n;
  for (const step of scenario.steps) {
    const where = `${scenario.name}: ${JSON.stringify(step)}`;
    if (step.op === 'commit') {
      const base = await session.resolve(step.ref!);
      const writer = base ? new Writer(base) : camAndDetections();
      if (step.vectors && !base?.manifest.tracks.some((t) => t.name === 'emb')) {
        const p = step.spatial;
        writer.track({
          timeline: 's1',
          name: 'emb',
          kind: 'event',
          modality: 'vector.f32;dim=4',
          bucketDuration: 60n * SECOND,
          ...(p && {
            indexes: {
              [LSH_COSINE]: {
                params: spatialIndexToCbor({
                  scheme: LSH_COSINE,
                  dimension: 4,
                  ...p,
                  seed: fromHex(p.seed),
                }),
                segments: [],
              },
            },
          }),
        });
      }
      for (const t of step.delete ?? [])
        writer.delete({
          timeline: 's1',
          track: 'det',
          from: BigInt(t) * SECOND,
          to: BigInt(t) * SECOND + 1n,
        });
      writer.write(
        's1',
        'det',
        Object.entries(step.items ?? {}).map(([t, label]) => ({
          tick: BigInt(t) * SECOND,
          payload: { label },
        })),
      );
      if (step.vectors)
        writer.write(
          's1',
          'emb',
          Object.entries(step.vectors).map(([t, v]) => ({
            tick: BigInt(t) * SECOND,
            payload: { vector: encodeVector(v) },
          })),
        );
      remember(step.name, (await publish(session, writer, { ref: step.ref!, created: clock++ })).hash);
    } else if (step.op === 'branch') {
      await createRef(session, step.ref!, version(step.at!));
    } else {
      const expect = step.expect!;
      const before = await session.store.readRef(step.into!);
      try {
        const merged = await merge(session, {
          into: step.into!,
          from: step.from!.map(version),
          created: clock++,
        });
        ensure(!expect.conflicts && !expect.error, `${where}: expected a refusal`);
        remember(step.name, merged.hash);
        same(merged.outcome, expect.outcome, where);
        if (expect.head) same(nameOf.get(multihashToHex(merged.hash)), expect.head, where);
        if (expect.parents)
          same(
            merged.manifest.parents.map((p) => nameOf.get(multihashToHex(p))),
            expect.parents,
            where,
          );
        if (expect.bases)
          same(
            merged.bases.map((b) => b.map((hex) => nameOf.get(hex)).sort()),
            expect.bases.map((b) => [...b].sort()),
            where,
          );
        if (expect.items) same(await detectionLabels(session, merged), expect.items, where);
      } catch (error) {
        if (expect.conflicts) {
          ensure(error instanceof MergeConflictError, `${where}: ${error}`);
          const label = (side: unknown) =>
            (side as { payload?: { label: string } } | undefined)?.payload?.label ?? null;
          same(
            (error as MergeConflictError).conflicts.map((c) => ({
              tick: Number(c.tick! / SECOND),
              reason: c.reason,
              base: label(c.base),
              ours: label(c.ours),
              theirs: label(c.theirs),
            })),
            expect.conflicts,
            where,
          );
        } else if (expect.error) {
          ensure(error instanceof EngineError && error.code === expect.error, `${where}: ${error}`);
        } else throw error;
        // Nothing moved.
        same(await session.store.readRef(step.into!), before, where);
        same(nameOf.get(multihashToHex(before!.manifest)), expect.head, where);
      }
    }
  }
}

/** Run every scenario of dag.json: one outcome each. */
export async function runDagVectors(file: DagVectorFile): Promise<VectorOutcome[]> {
  const outcomes: VectorOutcome[] = [];
  for (const scenario of file.scenarios) {
    try {
      await runDagScenario(scenario);
      outcomes.push({ name: scenario.name, ok: true });
    } catch (error) {
      outcomes.push({ name: scenario.name, ok: false, detail: (error as Error).message });
    }
  }
  return outcomes;
}
