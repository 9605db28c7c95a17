import { EngineError, type EngineErrorCode } from '../../errors.js';

/** The one place engine error codes meet HTTP: status and S3 error code for each (spec 0005 §7). */
const S3_ERRORS: Partial<Record<EngineErrorCode, [number, string]>> = {
  E_NOT_FOUND: [404, 'NoSuchKey'],
  E_PRECONDITION: [412, 'PreconditionFailed'],
  E_RANGE: [416, 'InvalidRange'],
  E_BAD_REQUEST: [400, 'InvalidArgument'],
  E_NAME: [400, 'InvalidArgument'],
  E_HASH_MISMATCH: [400, 'BadDigest'],
  E_TOO_LARGE: [413, 'EntityTooLarge'],
  E_FORBIDDEN: [403, 'AccessDenied'],
  E_STORE_TIMEOUT: [503, 'SlowDown'],
};

/** HTTP status and S3 error code of an error (unknown errors are 500 InternalError). */
export function s3ErrorOf(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof EngineError) {
    const [status, code] = S3_ERRORS[error.code] ?? [500, 'InternalError'];
    return { status, code, message: error.message.replace(/^E_[A-Z_0-9]+: /, '') };
  }
  return { status: 500, code: 'InternalError', message: (error as Error)?.message ?? String(error) };
}

/** The engine error for an S3 error response (status, S3 code, message), naming the key. */
export function engineErrorOf(status: number, s3Code: string, message: string, what: string): EngineError {
  const detail = `${what}: HTTP ${status}${s3Code ? ` ${s3Code}` : ''}${message ? `: ${message}` : ''}`;
  // A missing bucket is a misconfigured store, not a missing key: it must not read as "no such ref".
  if (status === 404 && s3Code === 'NoSuchBucket') return new EngineError('E_STORE', detail);
  if (status === 404) return new EngineError('E_NOT_FOUND', detail);
  if (status === 412) return new EngineError('E_PRECONDITION', detail);
  if (status === 416) return new EngineError('E_RANGE', detail);
  if (status === 413) return new EngineError('E_TOO_LARGE', detail);
  if (status === 401 || status === 403) return new EngineError('E_FORBIDDEN', detail);
  if (status === 400 && s3Code === 'BadDigest') return new EngineError('E_HASH_MISMATCH', detail);
  if (status >= 400 && status < 500) return new EngineError('E_BAD_REQUEST', detail);
  return new EngineError('E_STORE', detail);
}
