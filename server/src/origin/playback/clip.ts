import { MAX_TICK, type Track, ticksToSecondsNumber } from '@dreamdb/engine';
import { type IndexEntry, type ReadItem, range, read, seekEntry, trackEntries } from '@dreamdb/engine/query';
import { erasedEntry, type Resolved, type Session } from '@dreamdb/engine/store';
import { isAnnouncedEvent } from './renditions.js';
import { inClip, type Selection } from './selection.js';

/** A track's entries that play in the clip, with the one covering `from` (it starts before it). */
export async function clipEntries(session: Session, track: Track, select: Selection): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  // An erased fragment (spec 0020 §7) is left out: a playlist shows the stretch as a gap.
  const erased = await session.store.erasures();
  for await (const e of trackEntries(session, track, select.from ?? 0n, select.to))
    if (inClip(select, e.tick, e.duration) && !erasedEntry(erased, e)) entries.push(e);
  if (select.from !== undefined && (entries.length === 0 || entries[0]!.tick > select.from)) {
    const before = await seekEntry(session, track, select.from);
    if (
      before &&
      (entries.length === 0 || before.tick < entries[0]!.tick) &&
      inClip(select, before.tick, before.duration)
    )
      entries.unshift(before);
  }
  return entries;
}

/** A thumbnail track's frame size (from its first item: the packager records only the width) and bit rate. */
export async function thumbnailInfo(
  session: Session,
  resolved: Resolved,
  track: Track,
): Promise<{ width: number; height: number; bandwidth: number }> {
  const first =
    track.index &&
    (await read(session, resolved, { timeline: track.timeline, track: track.name, tick: track.index.first }));
  const size = (first?.payload ?? {}) as { width?: number; height?: number };
  const width = size.width ?? 0;
  const height = size.height ?? 0;
  const every = ticksToSecondsNumber(BigInt(Math.round(Number(track.attrs?.every_seconds ?? 2) * 1e9)));
  // An estimate for players that budget bandwidth: a JPEG of ~0.1 bytes per pixel per interval.
  const bandwidth = Math.max(1, Math.round((width * height * 0.1 * 8) / Math.max(every, 0.001)));
  return { width, height, bandwidth };
}

/** An item's payload as JSON text: bigints as strings, byte strings left out. */
export const payloadJson = (payload: unknown): string =>
  payload === undefined
    ? ''
    : JSON.stringify(payload, (_key, value: unknown) =>
        typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? undefined : value,
      );

/** Most events one playlist or MPD announces; the API's range verb pages through the rest. */
export const MAX_ANNOUNCED = 10_000;

/** The items of the announced event tracks among `tracks` in the clip, in tick order (at most MAX_ANNOUNCED). */
export async function announcedEvents(
  session: Session,
  resolved: Resolved,
  timeline: string,
  tracks: readonly Track[],
  select: Selection,
): Promise<ReadItem[]> {
  const announced = tracks.filter((t) => t.timeline === timeline && isAnnouncedEvent(t) && t.index);
  if (announced.length === 0) return [];
  const page = await range(session, resolved, {
    timeline,
    tracks: announced.map((t) => t.name),
    t0: select.from ?? 0n,
    t1: select.to ?? MAX_TICK,
    limit: MAX_ANNOUNCED,
  });
  return page.items;
}
