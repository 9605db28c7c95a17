import { hashBytes, type Multihash, multihashFromHex, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { decodeBucket } from '../format/bucket.js';
import { openDroppedTicks } from '../format/dropped-ticks.js';
import { decodeItemManifest, isItemManifest } from '../format/item-manifest.js';
import '../indexes/builtin.js';
import { decodeRegistry } from '../deletes/registry.js';
import { findIndexKind } from '../indexes/registry.js';
import { bucketLineage, paramsOf, trackIndexes } from '../indexes/track-indexes.js';
import { Session } from '../session/session.js';
import { parseObjectKey } from '../store/keys.js';
import { listAll, type ObjectStore } from '../store/object-store.js';
import { decodeRef, SpaceStore } from '../store/space-store.js';

/** What fsck found. */
export interface FsckReport {
  objects: number;
  refs: number;
  bytes: number;
  /** Manifests reached from the refs (each walked once). */
  manifests: number;
  /** One line per problem: the key and what is wrong. */
  problems: string[];
}

/**
 * A reachable bucket, learned while walking the manifests, checked when its bytes are read: who names it
 * and the lineage each of them expects its header to carry (a vector track's index lineage).
 */
interface ExpectedBucket {
  readonly by: string;
  readonly lineages: Map<string, { lineage: Multihash; by: string }>;
}

/**
 * Verify a store (spec 0006 §2.9): every ref must name a manifest; everything a manifest reaches (its
 * parents, init segments, index pages, buckets and the items' parts, every index's segments and what its
 * kind follows from them) must exist, and each index segment must pass its kind's check; then every
 * object under spaces/ is read once and must hash to its key, and a bucket must carry the lineage of its
 * track's vector index (0007 §6.1.1). LIST is allowed here (fsck is not a hot path).
 */
export async function fsck(
  store: ObjectStore,
  onProgress?: (report: FsckReport) => void,
): Promise<FsckReport> {
  const report: FsckReport = { objects: 0, refs: 0, bytes: 0, manifests: 0, problems: [] };
  const objects = new Map<string, Set<string>>(); // space -> object hexes listed
  const refs: { space: string; key: string }[] = [];
  const keys: string[] = [];
  for await (const info of listAll(store, 'spaces/')) {
    const content = parseObjectKey(info.key);
    if (content) {
      const set = objects.get(content.space) ?? new Set<string>();
      set.add(content.multihash);
      objects.set(content.space, set);
      keys.push(info.key);
    } else if (/^spaces\/[^/]+\/refs\//.test(info.key))
      refs.push({ space: info.key.split('/')[1]!, key: info.key });
    else if (/^spaces\/[^/]+\/tombstones$/.test(info.key)) {
      try {
        decodeRegistry((await store.get(info.key)).body, info.key.split('/')[1]!);
      } catch (error) {
        report.problems.push(`${info.key}: ${(error as Error).message}`);
      }
    } else report.problems.push(`${info.key}: not an object or a ref`);
  }
  const expected = new Map<string, ExpectedBucket>(); // `${space}/${hex}` -> the bucket it must be
  for (const space of new Set(refs.map((r) => r.space))) {
    await walkSpace(
      store,
      space,
      refs.filter((r) => r.space === space),
      objects.get(space) ?? new Set(),
      expected,
      report,
    );
  }
  for (const key of keys) {
    const { space, multihash } = parseObjectKey(key)!;
    try {
      const { body } = await store.get(key);
      report.objects++;
      report.bytes += body.length;
      const actual = multihashToHex(hashBytes(body));
      if (actual !== multihash) report.problems.push(`${key}: bytes hash to ${actual}`);
      else {
        const bucket = expected.get(`${space}/${multihash}`);
        if (bucket) checkBucket(key, body, bucket, objects.get(space)!, report);
      }
    } catch (error) {
      report.problems.push(`${key}: ${error instanceof EngineError ? error.message : String(error)}`);
    }
    onProgress?.(report);
  }
  return report;
}

/** A bucket's header: the lineage its track's vector index gives, and every part of its items present. */
function checkBucket(
  key: string,
  body: Uint8Array,
  expected: ExpectedBucket,
  listed: Set<string>,
  report: FsckReport,
) {
  const contents = decodeBucket(body, key);
  for (const { lineage, by } of expected.lineages.values()) {
    try {
      decodeBucket(body, `${key}: bucket of ${by}`, { lineage });
    } catch (error) {
      report.problems.push((error as Error).message.replace(/^E_LINEAGE: /, ''));
    }
  }
  for (const item of contents.items) {
    const stored = body.subarray(item.start, item.end);
    if (!isItemManifest(stored)) continue;
    for (const part of decodeItemManifest(stored).parts)
      if (!listed.has(multihashToHex(part.object)))
        report.problems.push(
          `${key}: part ${multihashToHex(part.object)} of the item at tick ${item.tick} is missing`,
        );
  }
}

/** Walk a space from its refs, noting what each reachable object must be and every missing one. */
async function walkSpace(
  store: ObjectStore,
  space: string,
  refs: readonly { key: string }[],
  listed: Set<string>,
  expected: Map<string, ExpectedBucket>,
  report: FsckReport,
): Promise<void> {
  const session = new Session(new SpaceStore(store, space));
  const prefix = `spaces/${space}/objects/`;
  // Erased objects are meant to be gone (spec 0020 §7): what took their place must be there instead.
  const erased = await session.store.erasures(0);
  const need = (hash: Multihash, by: string): boolean => {
    const hex = multihashToHex(hash);
    if (listed.has(hex)) return true;
    const e = erased.get(hex);
    if (e) return e.replacement ? need(e.replacement, `${by} (erased ${hex} is read as it)`) : false;
    report.problems.push(`${prefix}${hex}: missing, named by ${by}`);
    return false;
  };
  const pending: { hash: Multihash; by: string }[] = [];
  for (const { key } of refs) {
    report.refs++;
    try {
      const target = decodeRef((await store.get(key)).body, key);
      if (need(target, key)) pending.push({ hash: target, by: key });
    } catch (error) {
      report.problems.push(`${key}: ${(error as Error).message}`);
    }
  }
  const seen = new Set<string>(); // manifests
  const segments = new Set<string>();
  let pageOf = '';
  // Index pages as the tree walks mark them: each must be stored (an inline copy is not enough). A tree
  // is walked once per lineage its tracks give its buckets, so each bucket is checked against each.
  const stored = new Set<string>();
  class Pages extends Set<string> {
    override add(hex: string): this {
      if (!stored.has(hex)) need(multihashFromHex(hex), `the index of ${pageOf}`);
      stored.add(hex);
      return super.add(hex);
    }
  }
  const pagesByLineage = new Map<string, Pages>();
  while (pending.length > 0) {
    const { hash, by } = pending.pop()!;
    const hex = multihashToHex(hash);
    if (seen.has(hex)) continue;
    seen.add(hex);
    let manifest: Awaited<ReturnType<Session['manifest']>>;
    try {
      manifest = await session.manifest(hash);
    } catch (error) {
      report.problems.push(`${prefix}${hex}: named by ${by} as a manifest: ${(error as Error).message}`);
      continue;
    }
    report.manifests++;
    for (const parent of manifest.parents)
      if (need(parent, `manifest ${hex}`)) pending.push({ hash: parent, by: `manifest ${hex}` });
    if (manifest.tombstones) need(manifest.tombstones, `manifest ${hex}`);
    for (const track of manifest.tracks) {
      const name = `track ${track.timeline}/${track.name} of manifest ${hex}`;
      try {
        if (track.init) need(track.init, name);
        if (track.index) {
          const lineage = bucketLineage(track);
          const lineageHex = lineage ? multihashToHex(lineage) : '';
          const pages = pagesByLineage.get(lineageHex) ?? new Pages();
          pagesByLineage.set(lineageHex, pages);
          let last = '';
          pageOf = name;
          await session.pages.visit(track.index.root, pages, (entry) => {
            const object = multihashToHex(entry.object);
            if (object === last) return; // neighbours share a bucket
            last = object;
            if (!need(entry.object, name)) return;
            const key = `${space}/${object}`;
            const bucket = expected.get(key) ?? { by: name, lineages: new Map() };
            expected.set(key, bucket);
            if (lineage) bucket.lineages.set(lineageHex, { lineage, by: name });
          });
        }
        for (const [scheme, record] of trackIndexes(track)) {
          const kind = findIndexKind(scheme);
          if (!kind) {
            report.problems.push(
              `${name}: index ${scheme} is of a scheme this engine does not know; its objects are not checked`,
            );
            continue;
          }
          const params = paramsOf(kind, record);
          for (const named of record.segments) {
            const e = erased.get(multihashToHex(named.object));
            if (e && !e.replacement) continue; // erased whole: nothing of it is left to read
            const segment = e ? { ...named, object: e.replacement! } : named;
            if (segment.dropped && need(segment.dropped, `the ${scheme} index of ${name}`))
              try {
                openDroppedTicks(await session.store.getObject(segment.dropped));
              } catch (error) {
                report.problems.push(
                  `${prefix}${multihashToHex(segment.dropped)}: ${(error as Error).message}`,
                );
              }
            const segmentHex = multihashToHex(segment.object);
            if (segments.has(segmentHex) || !need(segment.object, `the ${scheme} index of ${name}`)) continue;
            segments.add(segmentHex);
            try {
              // Children first: a segment whose objects are missing is reported as such, not as unreadable.
              let whole = true;
              for (const child of (await kind.follow?.(session, segment, params)) ?? [])
                whole = need(child, `${scheme} segment ${segmentHex}`) && whole;
              if (whole) await kind.check?.(session, segment, params, e !== undefined);
            } catch (error) {
              report.problems.push(
                `${prefix}${segmentHex}: ${scheme} segment of ${name}: ${(error as Error).message}`,
              );
            }
          }
        }
      } catch (error) {
        report.problems.push(`${name}: ${(error as Error).message}`);
      }
    }
  }
}
