import { hashBytes, multihashToHex } from '../address/multihash.js';
import { EngineError } from '../errors.js';
import { parseObjectKey } from '../store/keys.js';
import { listAll, type ObjectStore } from '../store/object-store.js';
import { decodeRef } from '../store/space-store.js';

/** What fsck found. */
export interface FsckReport {
  objects: number;
  refs: number;
  bytes: number;
  /** One line per problem: the key and what is wrong. */
  problems: string[];
}

/**
 * Verify a store: every object under spaces/ must hash to its key, every ref must hold a multihash of an
 * object that exists. Reads everything once; LIST is allowed here (fsck is not a hot path).
 */
export async function fsck(
  store: ObjectStore,
  onProgress?: (report: FsckReport) => void,
): Promise<FsckReport> {
  const report: FsckReport = { objects: 0, refs: 0, bytes: 0, problems: [] };
  const objects = new Set<string>();
  const refs: { key: string; body: Uint8Array }[] = [];
  for await (const info of listAll(store, 'spaces/')) {
    const content = parseObjectKey(info.key);
    try {
      const { body } = await store.get(info.key);
      if (content) {
        report.objects++;
        report.bytes += body.length;
        const actual = multihashToHex(hashBytes(body));
        if (actual !== content.multihash) report.problems.push(`${info.key}: bytes hash to ${actual}`);
        else objects.add(`${content.space}/${content.multihash}`);
      } else if (/^spaces\/[^/]+\/refs\//.test(info.key)) {
        report.refs++;
        refs.push({ key: info.key, body });
      } else {
        report.problems.push(`${info.key}: not an object or a ref`);
      }
    } catch (error) {
      report.problems.push(`${info.key}: ${error instanceof EngineError ? error.message : String(error)}`);
    }
    onProgress?.(report);
  }
  for (const { key, body } of refs) {
    const space = key.split('/')[1]!;
    try {
      const target = multihashToHex(decodeRef(body, key));
      if (!objects.has(`${space}/${target}`))
        report.problems.push(`${key}: points at ${target}, which is not a sound object`);
    } catch (error) {
      report.problems.push(`${key}: ${(error as Error).message}`);
    }
  }
  return report;
}
