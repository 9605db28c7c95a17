import { existsSync, readFileSync } from 'node:fs';
import { fromHex, toHex } from '@dreamdb/engine';
import { type IssuerKey, keyId, publicKeyOf } from '@dreamdb/engine/access';
import { UsageError } from './errors.js';

/** Text forms of issuer keys (spec 0018 §2.1): what `dreamdb token keygen` writes and `serve` reads. */
export const SECRET_PREFIX = 'ddb-issuer-secret:';
export const PUBLIC_PREFIX = 'ddb-issuer:';

export const secretKeyText = (key: IssuerKey) => `${SECRET_PREFIX}${toHex(key.secretKey)}`;
export const publicKeyText = (publicKey: Uint8Array) => `${PUBLIC_PREFIX}${toHex(publicKey)}`;

/** A key given as its text or as the path of a file holding it. */
function keyText(spec: string, what: string): string {
  const text =
    spec.startsWith(SECRET_PREFIX) || spec.startsWith(PUBLIC_PREFIX) ? spec : readKeyFile(spec, what);
  return text.trim();
}

function readKeyFile(path: string, what: string): string {
  if (!existsSync(path))
    throw new UsageError(`${what} ${path}: no such file, and not a key (${PUBLIC_PREFIX}<64 hex>)`);
  return readFileSync(path, 'utf8');
}

const hex32 = (text: string, what: string) => {
  if (!/^[0-9a-f]{64}$/.test(text)) throw new UsageError(`${what}: the key must be 64 hex digits`);
  return fromHex(text);
};

/** An issuer's secret key from its file (or text): it signs tokens. */
export function readSecretKey(spec: string): IssuerKey {
  const text = keyText(spec, '--key');
  if (!text.startsWith(SECRET_PREFIX))
    throw new UsageError(
      `--key ${spec}: not an issuer secret key (${SECRET_PREFIX}<64 hex>; dreamdb token keygen)`,
    );
  const secretKey = hex32(text.slice(SECRET_PREFIX.length), '--key');
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

/**
 * Trusted issuer public keys by key id, from `--issuer-key` values and DREAMDB_ISSUER_KEYS (comma
 * separated); a secret key file is accepted too (its public half is used).
 */
export function readIssuerKeys(
  specs: readonly string[],
  env = process.env.DREAMDB_ISSUER_KEYS,
): Map<string, Uint8Array> {
  const all = [
    ...specs,
    ...(env
      ? env
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : []),
  ];
  const keys = new Map<string, Uint8Array>();
  for (const spec of all) {
    const text = keyText(spec, '--issuer-key');
    const publicKey = text.startsWith(SECRET_PREFIX)
      ? publicKeyOf(hex32(text.slice(SECRET_PREFIX.length), '--issuer-key'))
      : text.startsWith(PUBLIC_PREFIX)
        ? hex32(text.slice(PUBLIC_PREFIX.length), '--issuer-key')
        : undefined;
    if (!publicKey)
      throw new UsageError(`--issuer-key ${spec}: not an issuer key (${PUBLIC_PREFIX}<64 hex>)`);
    keys.set(keyId(publicKey), publicKey);
  }
  return keys;
}
