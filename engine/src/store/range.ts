import { EngineError } from '../errors.js';
import type { ByteRange } from './object-store.js';

/**
 * Clip a requested range to an object of `size` bytes, as S3 does: an end past the object is cut to
 * the object's end; a start at or past the end (of a non-empty object) is unsatisfiable (E_RANGE, 416).
 */
export function clipRange(range: ByteRange, size: number, key: string): ByteRange {
  if (
    !Number.isSafeInteger(range.start) ||
    !Number.isSafeInteger(range.end) ||
    range.start < 0 ||
    range.end <= range.start
  ) {
    throw new EngineError('E_RANGE', `range [${range.start}, ${range.end}) of ${key} is empty or malformed`);
  }
  if (range.start >= size) {
    throw new EngineError('E_RANGE', `range starts at byte ${range.start} but ${key} has ${size} bytes`);
  }
  return { start: range.start, end: Math.min(range.end, size) };
}

/** The HTTP Range header for a half-open range: bytes=start-(end-1). */
export function rangeHeader(range: ByteRange): string {
  return `bytes=${range.start}-${range.end - 1}`;
}

/**
 * Parse a single-range HTTP Range header (RFC 9110 §14.1.2) against an object of `size` bytes:
 * "bytes=a-b", "bytes=a-" or "bytes=-n". Multiple ranges and other units are refused (E_BAD_REQUEST);
 * an unsatisfiable range is E_RANGE.
 */
export function parseRangeHeader(header: string, size: number, key: string): ByteRange {
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) {
    throw new EngineError(
      'E_BAD_REQUEST',
      `Range header ${JSON.stringify(header)} is not a single range like bytes=0-1023`,
    );
  }
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw new EngineError('E_RANGE', `Range ${header} asks for the last 0 bytes of ${key}`);
    if (size === 0) throw new EngineError('E_RANGE', `Range ${header} of ${key}, which is empty`);
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(match[1]);
  if (match[2] === '') return clipRange({ start, end: Math.max(size, start + 1) }, size, key);
  const last = Number(match[2]);
  if (last < start) throw new EngineError('E_BAD_REQUEST', `Range ${header} ends before it starts`);
  return clipRange({ start, end: last + 1 }, size, key);
}
