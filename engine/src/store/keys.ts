import { type Multihash, multihashToHex } from '../address/multihash.js';
import { EngineError, quote } from '../errors.js';
import { assertName } from '../model/names.js';

/**
 * Where DreamDB keeps things in a bucket (spec 0005 §3):
 *   spaces/<space>/objects/<multihash hex>   immutable content
 *   spaces/<space>/refs/<ref name>           mutable, moved by compare-and-swap
 */

const REF_SEGMENT = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const OBJECT_KEY = /^spaces\/([a-z0-9][a-z0-9._-]{0,63})\/objects\/(1e20[0-9a-f]{64})$/;

/** Ref names: 1-8 "/"-separated segments of [a-z0-9._-] (e.g. main, heads/team-a, tags/v1), no "..". */
export function assertRefName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length > 255 ||
    name.split('/').length > 8 ||
    !name.split('/').every((s) => REF_SEGMENT.test(s) && !s.includes('..'))
  ) {
    throw new EngineError(
      'E_NAME',
      `ref name ${quote(name)} must be 1-8 "/"-separated segments of a-z 0-9 . _ - (like main or heads/team-a), without ".."`,
    );
  }
  return name;
}

/** The key of a content object. */
export function objectKey(space: string, multihash: Multihash): string {
  return `spaces/${assertName(space, 'space')}/objects/${multihashToHex(multihash)}`;
}

/** A ref name as stored: `refs/heads/x` (as git writes it) is `heads/x`; then checked by assertRefName. */
export function normalizeRef(name: string): string {
  return assertRefName(typeof name === 'string' && name.startsWith('refs/') ? name.slice(5) : name);
}

/** The key of a ref. */
export function refKey(space: string, ref: string): string {
  return `spaces/${assertName(space, 'space')}/refs/${normalizeRef(ref)}`;
}

/** The prefix under which a space's objects (or refs) live, for LIST. */
export function spacePrefix(space: string, part: 'objects' | 'refs'): string {
  return `spaces/${assertName(space, 'space')}/${part}/`;
}

/** If `key` names a content object, its space and multihash hex; else undefined. */
export function parseObjectKey(key: string): { space: string; multihash: string } | undefined {
  const match = OBJECT_KEY.exec(key);
  return match ? { space: match[1]!, multihash: match[2]! } : undefined;
}
