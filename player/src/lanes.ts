import type { ItemDoc, TimelineDoc, TrackDoc } from '@dreamdb/engine/api';
import type { HitDoc } from './api.js';
import type { Lane, Span } from './timeline.js';

/** How a track shows on the timeline, from its kind and modality; undefined: not shown (vectors, constants). */
export function laneKind(track: TrackDoc): Lane['kind'] | undefined {
  if (track.kind === 'stream') return 'media';
  if (track.kind !== 'event') return undefined;
  const m = track.modality;
  if (m === 'sensor.audio-level') return 'wave';
  if (m.startsWith('image.')) return 'thumbs';
  if (m === 'text.cue' || m.startsWith('text.')) return 'captions';
  if (m.startsWith('vector.')) return undefined;
  return 'marks';
}

const field = (payload: unknown, key: string): unknown =>
  payload && typeof payload === 'object' ? (payload as Record<string, unknown>)[key] : undefined;
const text = (payload: unknown, ...keys: string[]): string | undefined => {
  for (const key of keys) {
    const v = field(payload, key);
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
};

/** A JPEG (or other image) in a payload's JSON form ({$bytes: hex}) as an object URL. */
function imageUrl(payload: unknown, type: string): string | undefined {
  const hex = field(field(payload, 'image'), '$bytes');
  if (typeof hex !== 'string') return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return URL.createObjectURL(new Blob([bytes], { type }));
}

/** The span an item draws as on a lane of `kind`. */
function spanOf(item: ItemDoc, kind: Lane['kind'], modality: string): Span {
  const base = { tick: BigInt(item.tick), duration: BigInt(item.duration) };
  const p = item.payload;
  switch (kind) {
    case 'wave': {
      const v = field(p, 'peak') ?? field(p, 'rms');
      return { ...base, value: typeof v === 'number' ? v : 0 };
    }
    case 'thumbs': {
      const image = imageUrl(p, modality.replace('.', '/'));
      return image ? { ...base, image } : base;
    }
    case 'captions': {
      const t = text(p, 'text', 'label');
      return t ? { ...base, text: t } : base;
    }
    case 'marks': {
      const label = text(p, 'label', 'object', 'kind', 'name');
      const note = text(p, 'note', 'text', 'description');
      return { ...base, ...(label && { label }), ...(note && { text: note }) };
    }
    default:
      return base;
  }
}

/** The lanes of a timeline: media first, then waveform, thumbnails, captions and marks, as listed. */
export function buildLanes(doc: TimelineDoc, items: readonly ItemDoc[]): Lane[] {
  const byTrack = new Map<string, ItemDoc[]>();
  for (const item of items) {
    const list = byTrack.get(item.track);
    if (list) list.push(item);
    else byTrack.set(item.track, [item]);
  }
  const order: Lane['kind'][] = ['media', 'wave', 'thumbs', 'captions', 'marks'];
  const lanes: Lane[] = [];
  for (const track of doc.tracks) {
    const kind = laneKind(track);
    if (!kind) continue;
    const spans = (byTrack.get(track.name) ?? []).map((item) => spanOf(item, kind, track.modality));
    spans.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
    lanes.push({ id: track.name, label: track.name, kind, spans });
  }
  return lanes.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** The tracks whose items the lanes need. */
export const laneTracks = (doc: TimelineDoc): string[] =>
  doc.tracks.filter((t) => laneKind(t)).map((t) => t.name);

/** The lane of search hits, ranked 1 (best) on. */
export function hitsLane(hits: readonly HitDoc[]): Lane {
  return {
    id: 'hits',
    label: 'search hits',
    kind: 'hits',
    // In tick order, as every lane (the timeline finds spans by binary search); the rank is kept.
    spans: hits
      .map((h, i) => ({ tick: BigInt(h.tick), duration: BigInt(h.duration), label: h.track, rank: i + 1 }))
      .sort((x, y) => (x.tick < y.tick ? -1 : x.tick > y.tick ? 1 : 0)),
  };
}
