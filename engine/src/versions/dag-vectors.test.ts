import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { multihashToHex } from '../address/multihash.js';
import { fromHex } from '../cbor/json-form.js';
import { EngineError } from '../errors.js';
import { LSH_COSINE } from '../indexes/lsh/lsh.js';
import { spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { range } from '../queries/read.js';
import { encodeVector } from '../queries/search.js';
import { Session } from '../session/session.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { camAndDetections, SECOND } from '../testing/fixtures.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { merge } from './merge.js';
import { MergeConflictError } from './merge-content.js';
import { createRef } from './refs.js';

const FILE = fileURLToPath(new URL('../../../spec/vectors/dag/dag.json', import.meta.url));
const CHECKER = fileURLToPath(new URL('../../../spec/vectors/dag/check_dag.py', import.meta.url));

interface Step {
  op: 'commit' | 'branch' | 'merge';
  ref?: string;
  name?: string;
  at?: string;
  items?: Record<string, string>;
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

const scenarios = (JSON.parse(readFileSync(FILE, 'utf8')) as { scenarios: { name: string; steps: Step[] }[] })
  .scenarios;

async function itemsOf(session: Session, hash: Uint8Array): Promise<Record<string, string>> {
  const resolved = { hash, manifest: await session.manifest(hash) };
  const page = await range(session, resolved, {
    timeline: 's1',
    tracks: ['det'],
    t0: 0n,
    t1: 1_000_000n * SECOND,
  });
  return Object.fromEntries(
    page.items.map((i) => [String(i.tick / SECOND), (i.payload as { label: string }).label]),
  );
}

for (const scenario of scenarios) {
  test(`spec 0008 DAG vector: ${scenario.name}`, async () => {
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
        writer.write(
          's1',
          'det',
          Object.entries(step.items!).map(([t, label]) => ({ tick: BigInt(t) * SECOND, payload: { label } })),
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
          assert.ok(!expect.conflicts && !expect.error, `${where}: expected a refusal`);
          remember(step.name, merged.hash);
          assert.equal(merged.outcome, expect.outcome, where);
          if (expect.head) assert.equal(nameOf.get(multihashToHex(merged.hash)), expect.head, where);
          if (expect.parents)
            assert.deepEqual(
              merged.manifest.parents.map((p) => nameOf.get(multihashToHex(p))),
              expect.parents,
              where,
            );
          if (expect.bases)
            assert.deepEqual(
              merged.bases.map((b) => new Set(b.map((hex) => nameOf.get(hex)))),
              expect.bases.map((b) => new Set(b)),
              where,
            );
          if (expect.items) assert.deepEqual(await itemsOf(session, merged.hash), expect.items, where);
        } catch (error) {
          if (expect.conflicts) {
            assert.ok(error instanceof MergeConflictError, `${where}: ${error}`);
            const label = (side: unknown) =>
              (side as { payload?: { label: string } } | undefined)?.payload?.label ?? null;
            assert.deepEqual(
              error.conflicts.map((c) => ({
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
            assert.ok(error instanceof EngineError && error.code === expect.error, `${where}: ${error}`);
          } else throw error;
          // Nothing moved.
          assert.deepEqual(await session.store.readRef(step.into!), before, where);
          assert.equal(nameOf.get(multihashToHex(before!.manifest)), expect.head, where);
        }
      }
    }
  });
}

test('spec 0008 DAG vectors: the independent Python model agrees with every expectation', () => {
  assert.match(execFileSync('/usr/bin/python3', [CHECKER, FILE], { encoding: 'utf8' }), /^ok 6 scenarios/);
});
