import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Multihash, multihashToHex } from '../address/multihash.js';
import { LSH_COSINE } from '../indexes/lsh/lsh.js';
import { defaultSpatialIndex, spatialIndexToCbor } from '../indexes/lsh/spatial-index.js';
import { decodeTextDirectory } from '../indexes/text/directory.js';
import { TEXT_BM25 } from '../indexes/text/kind.js';
import { sealManifest } from '../model/manifest.js';
import { trackRoot } from '../queries/read.js';
import { encodeVector } from '../queries/search.js';
import { Session } from '../session/session.js';
import { objectKey } from '../store/keys.js';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { detections } from '../testing/fixtures.js';
import { publish } from '../writes/publish.js';
import { Writer } from '../writes/writer.js';
import { fsck } from './fsck.js';

const SECOND = 1_000_000_000n;

/** A space with a detection track (text-indexed) and a vector track (LSH-indexed), published on main. */
async function published(store: MemoryStore, vectorIndexes?: Record<string, never>) {
  const space = new SpaceStore(store, 'lab');
  const writer = new Writer()
    .timeline({ name: 's1' })
    .track(detections(10n * SECOND))
    .track({
      timeline: 's1',
      name: 'emb',
      kind: 'event',
      modality: 'vector.f32;dim=4',
      bucketDuration: 10n * SECOND,
      ...(vectorIndexes && { indexes: vectorIndexes }),
    });
  writer.write(
    's1',
    'det',
    Array.from({ length: 300 }, (_, i) => ({
      tick: BigInt(i) * SECOND,
      payload: { label: `thing ${i % 7}` },
    })),
  );
  writer.write(
    's1',
    'emb',
    Array.from({ length: 300 }, (_, i) => ({
      tick: BigInt(i) * SECOND,
      payload: encodeVector([1, i, i % 3, 1]),
    })),
  );
  return { space, main: await publish(new Session(space), writer, { ref: 'main' }) };
}

const remove = (store: MemoryStore, object: Multihash) => store.delete(objectKey('lab', object));

test('fsck walks from every ref: a sound store has no problem, and a missing bucket or text page is named with what names it', async () => {
  const store = new MemoryStore();
  const { space, main } = await published(store);
  const sound = await fsck(store);
  assert.deepEqual(sound.problems, []);
  assert.equal(sound.manifests, 1);
  assert.equal(sound.refs, 1);

  const det = main.manifest.tracks.find((t) => t.name === 'det')!;
  const directory = decodeTextDirectory(await space.getObject(det.indexes![TEXT_BM25]!.segments[0]!.object));
  await remove(store, directory.pages[0]!.hash);
  const bucket = (await new Session(space).pages.floor(trackRoot(det)!, 50n * SECOND))!.object;
  await remove(store, bucket);
  const { problems } = await fsck(store);
  assert.ok(
    problems.some((p) =>
      p.includes(`${multihashToHex(directory.pages[0]!.hash)}: missing, named by ${TEXT_BM25} segment`),
    ),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.includes(`${multihashToHex(bucket)}: missing, named by track s1/det`)),
    problems.join('\n'),
  );
});

test("fsck reports a bucket that does not carry its track's vector index lineage, and a ref to something that is not a manifest", async () => {
  const store = new MemoryStore();
  // Buckets written while the vector track had no index carry no lineage...
  const { space, main } = await published(store, {});
  assert.deepEqual((await fsck(store)).problems, []);
  // ...then a manifest claims the same buckets are indexed by dreamdb.lsh-cosine: a reader would refuse them.
  const tracks = main.manifest.tracks.map((t) =>
    t.name === 'emb'
      ? {
          ...t,
          indexes: { [LSH_COSINE]: { params: spatialIndexToCbor(defaultSpatialIndex(4)), segments: [] } },
        }
      : t,
  );
  const forged = await space.putObject(sealManifest({ ...main.manifest, parents: [main.hash], tracks }));
  await space.casRef('heads/forged', forged, undefined);
  const notManifest = await space.putObject(new TextEncoder().encode('not a manifest'));
  await space.casRef('heads/text', notManifest, undefined);
  const { problems } = await fsck(store);
  assert.ok(
    problems.some((p) =>
      /bucket of track s1\/emb .* carries lineage none, not 1e20[0-9a-f]{64}: it was written under another vector index/.test(
        p,
      ),
    ),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) =>
      p.includes(`${multihashToHex(notManifest)}: named by spaces/lab/refs/heads/text as a manifest`),
    ),
    problems.join('\n'),
  );
  // One line per emb bucket (300 s in 10 s buckets), one for the ref: nothing else is wrong.
  assert.equal(problems.length, 30 + 1, problems.join('\n'));
});
