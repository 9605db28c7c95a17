import assert from 'node:assert/strict';
import { EngineError } from '../../../errors.js';
import type { HttpStore } from '../http-store.js';

/**
 * A store reached with h2c that speaks only HTTP/1.1 (Ceph RGW's beast, s3rver): `get` fails at once,
 * without retries, with an error that says to reach it over http://.
 */
export async function assertH2cRefused(h2c: HttpStore, key: string): Promise<void> {
  await assert.rejects(h2c.get(key), (e: unknown) => {
    assert.ok(e instanceof EngineError && e.code === 'E_STORE', String(e));
    assert.match(
      e.message,
      /the store does not speak HTTP\/2 with prior knowledge \(h2c: .+\); reach it over http:\/\//,
    );
    return true;
  });
  assert.equal(h2c.retried, 0);
}
