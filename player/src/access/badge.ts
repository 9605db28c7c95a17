import type { AccessDoc } from '@dreamdb/engine/api';
import { formatMedia } from '../clock.js';
import { RIGHTS, windowOn } from './rights.js';

/**
 * The one line that says what a link allows, e.g. "read-only · until 2026-12-08 14:00 UTC · cam
 * 1:00.000–1:30.000". Empty in open mode: nothing is restricted, so there is nothing to say.
 */
export function describeAccess(access: AccessDoc, now: Date = new Date()): string {
  if (access.mode === 'open') return '';
  const parts: string[] = [rightsText(access)];
  const unrestricted = (list: readonly string[]) => list.includes('*');
  if (!unrestricted(access.spaces))
    parts.push(`${plural('space', access.spaces)} ${access.spaces.join(', ')}`);
  if (!unrestricted(access.refs)) parts.push(`${plural('ref', access.refs)} ${access.refs.join(', ')}`);
  const notBefore = access.notBefore && new Date(access.notBefore);
  if (notBefore && notBefore > now) parts.push(`from ${when(access.notBefore!)}`);
  if (access.expires) {
    const expired = new Date(access.expires) <= now;
    parts.push(`${expired ? 'expired' : 'until'} ${when(access.expires)}`);
  }
  const w = access.window && windowOn(access, access.window.timeline);
  if (w) parts.push(`${access.window!.timeline} ${formatMedia(w.from)}–${formatMedia(w.to)}`);
  return parts.join(' · ');
}

/** "read-only" for the common shared link; otherwise the rights, in a fixed order. */
function rightsText(access: AccessDoc): string {
  const rights = RIGHTS.filter((r) => access.rights.includes(r));
  if (rights.length === 0) return 'no rights';
  return rights.length === 1 && rights[0] === 'read' ? 'read-only' : rights.join(', ');
}

const plural = (word: string, list: readonly string[]) => (list.length === 1 ? word : `${word}s`);

/** An RFC 3339 instant to the minute, in UTC (said so: the reader's own zone would be a guess). */
function when(rfc3339: string): string {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
