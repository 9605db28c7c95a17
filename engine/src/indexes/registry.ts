import { EngineError, quote } from '../errors.js';
import type { IndexKind } from './kind.js';

/**
 * The index kinds this engine knows, by scheme. DreamDB's own register themselves in builtin.ts; another
 * kind is one `registerIndexKind` call. A manifest naming a scheme nobody registered still reads (its
 * items, its other indexes); only that index cannot be queried, updated or followed.
 */
const kinds = new Map<string, IndexKind>();

/** A scheme: 3-64 characters of `a-z 0-9 . -` in dot-separated segments (`dreamdb.lsh-cosine`, `com.acme.counts`). */
export const SCHEME = /^(?=.{3,64}$)[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;

/** Make an index kind known by its scheme; registering the same scheme twice is an error unless it is the same kind. */
export function registerIndexKind<P, O>(kind: IndexKind<P, O>): void {
  if (!SCHEME.test(kind.scheme))
    throw new EngineError('E_BAD_REQUEST', `index scheme ${quote(kind.scheme)} is not a valid scheme name`);
  const known = kinds.get(kind.scheme);
  if (known && known !== kind)
    throw new EngineError('E_CONFLICT', `index scheme ${kind.scheme} is registered already`);
  kinds.set(kind.scheme, kind as IndexKind);
}

/** The kind of a scheme, or undefined when none is registered. */
export function findIndexKind(scheme: string): IndexKind | undefined {
  return kinds.get(scheme);
}

/** The kind of a scheme; E_UNSUPPORTED naming it (and `what` needs it) when this engine does not know it. */
export function indexKind(scheme: string, what = 'this'): IndexKind {
  const kind = kinds.get(scheme);
  if (!kind)
    throw new EngineError(
      'E_UNSUPPORTED',
      `index scheme ${quote(scheme)} is not known to this engine (known: ${[...kinds.keys()].join(', ') || 'none'}); ${what} needs it`,
    );
  return kind;
}

/** Every registered kind, by scheme. */
export function indexKinds(): readonly IndexKind[] {
  return [...kinds.values()];
}
