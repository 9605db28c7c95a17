/**
 * One clock for the video, the lanes and the URL: ticks (u64 nanoseconds, spec 0003) as bigints. The
 * origin's media timelines are the ticks themselves (a fragment's tfdt is its tick in media units), so a
 * media element's time t (seconds) is tick t·1e9.
 */

/** The tick a media time (seconds) falls on, to the nanosecond. */
export const mediaToTick = (seconds: number): bigint => BigInt(Math.round(seconds * 1e9));

/** The media time (seconds) of a tick: exact to well under a microsecond for any recording length. */
export const tickToMedia = (tick: bigint): number => Number(tick / 1000n) / 1e6;

/** A tick as media time, h:mm:ss.mmm (or m:ss.mmm). */
export function formatMedia(tick: bigint): string {
  const ms = Number(tick / 1_000_000n);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = (ms / 1000) % 60;
  const ss = s.toFixed(3).padStart(6, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The wall-clock time of a tick on a timeline with a genesis (Unix ns), ISO 8601 in UTC to the ms. */
export function formatClock(tick: bigint, genesis: bigint | undefined): string | undefined {
  if (genesis === undefined) return undefined;
  return new Date(Number((genesis + tick) / 1_000_000n)).toISOString().replace('T', ' ').replace('Z', ' UTC');
}
