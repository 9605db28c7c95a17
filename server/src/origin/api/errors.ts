import { EngineError, multihashToHex } from '@dreamdb/engine';
import { RefConflictError } from '@dreamdb/engine/store';
import { MergeConflictError } from '@dreamdb/engine/versions';
import type { Context } from 'hono';
import { HTTP_STATUS } from '../http/status.js';
import { conflictDoc } from './docs.js';
import { detail, respond, UnsupportedType } from './negotiate.js';

/** Errors of the /v0 routes: engine codes by HTTP_STATUS, messages without the code prefix, 409s with the ref's value. */
export function apiError(error: Error, c: Context): Response {
  if (error instanceof UnsupportedType) return c.json({ error: 'E_MEDIA_TYPE', message: error.message }, 415);
  const answer = refusal(error, c.req.param('space') ?? '');
  if (!answer) throw error; // the app's handler logs it and answers 500
  return respond(c, answer.body, refusalHeaders(error, answer.status), answer.status);
}

/** Headers a refusal carries: how to authenticate (401), when to come back (429). */
export function refusalHeaders(error: unknown, status: number): Record<string, string> {
  if (status === 401) return { 'www-authenticate': 'Bearer realm="dreamdb"' };
  const after = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (status === 429 && typeof after === 'number')
    return { 'retry-after': String(Math.max(1, Math.ceil(after))) };
  return {};
}

/**
 * The status and body an engine refusal is answered with (a merge's conflicts, a ref's current value);
 * undefined when the error is not a refusal (it is a 500).
 */
export function refusal(
  error: unknown,
  space: string,
): { status: NonNullable<(typeof HTTP_STATUS)[string]>; body: Record<string, unknown> } | undefined {
  const status = error instanceof EngineError ? HTTP_STATUS[error.code] : undefined;
  if (!status) return undefined;
  const extra =
    error instanceof MergeConflictError
      ? {
          conflicts: error.conflicts.slice(0, CONFLICTS_LISTED).map((x) => conflictDoc(space, x)),
          conflictCount: error.conflicts.length,
        }
      : error instanceof RefConflictError
        ? { current: error.current ? multihashToHex(error.current.manifest) : null }
        : {};
  return { status, body: { error: (error as EngineError).code, message: detail(error as Error), ...extra } };
}

/** Conflicts listed in a 409 answer to a merge (its count covers all). */
const CONFLICTS_LISTED = 100;
