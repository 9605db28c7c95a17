import { EngineError, quote } from '../errors.js';

/** Names of spaces, timelines and tracks: 1-64 of [a-z0-9._-], starting with a letter or digit, no "..". */
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Return `text` if it is a valid name, else throw E_NAME naming `what`. */
export function assertName(text: unknown, what = 'name'): string {
  if (typeof text !== 'string' || !NAME.test(text) || text.includes('..')) {
    throw new EngineError(
      'E_NAME',
      `${what} ${quote(text)} must be 1-64 characters of a-z 0-9 . _ -, start with a letter or digit, and not contain ".."`,
    );
  }
  return text;
}

/** True when `text` is a valid name. */
export function isName(text: unknown): text is string {
  return typeof text === 'string' && NAME.test(text) && !text.includes('..');
}
