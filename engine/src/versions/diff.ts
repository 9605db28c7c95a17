import { toHex } from '../cbor/json-form.js';
import type { Manifest } from '../model/manifest.js';
import { type Track, trackDefinition } from '../model/track.js';
import { trackRoot } from '../queries/read.js';
import type { Session } from '../session/session.js';
import type { Tick } from '../time/ticks.js';
import { diffTrees } from '../timeindex/diff.js';

/** How one item differs between two versions. */
export interface ItemChange {
  readonly tick: Tick;
  readonly change: 'added' | 'removed' | 'changed';
}

/** How one track differs between two versions: counts of every change, and the first `limit` of them. */
export interface TrackDiff {
  readonly timeline: string;
  readonly track: string;
  /** added: only in the second version; removed: only in the first; changed: in both. */
  readonly status: 'added' | 'removed' | 'changed';
  /** The definition (kind, modality, codecs, attributes, index parameters) differs. */
  readonly definitionChanged: boolean;
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly items: readonly ItemChange[];
}

/** A definition's bytes as hex, to compare two of them. */
const definition = (t: Track) => toHex(trackDefinition(t));

/**
 * diff: the tracks and items that differ from version `a` to version `b`, in track then tick order. Pages
 * the two share are skipped by hash, so the cost follows the change, not the tracks' size.
 */
export async function diffVersions(
  session: Session,
  a: Manifest,
  b: Manifest,
  options: { limit?: number } = {},
): Promise<TrackDiff[]> {
  const limit = options.limit ?? 1000;
  const key = (t: Track) => `${t.timeline}\u0000${t.name}`;
  const before = new Map(a.tracks.map((t) => [key(t), t]));
  const after = new Map(b.tracks.map((t) => [key(t), t]));
  const out: TrackDiff[] = [];
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(k);
    const y = after.get(k);
    const some = (x ?? y)!;
    const counts = { added: 0, removed: 0, changed: 0 };
    const items: ItemChange[] = [];
    for await (const c of diffTrees(session.pages, x && trackRoot(x), y && trackRoot(y))) {
      const change = !c.before ? 'added' : !c.after ? 'removed' : 'changed';
      counts[change]++;
      if (items.length < limit) items.push({ tick: c.tick, change });
    }
    const definitionChanged = Boolean(x && y && definition(x) !== definition(y));
    if (x && y && !definitionChanged && counts.added + counts.removed + counts.changed === 0) continue;
    out.push({
      timeline: some.timeline,
      track: some.name,
      status: !x ? 'added' : !y ? 'removed' : 'changed',
      definitionChanged,
      ...counts,
      items,
    });
  }
  return out;
}
