import type { VttCue } from '../playback/webvtt.js';
import {
  type HlsDateRange,
  type HlsFile,
  type HlsImageStream,
  type HlsMedia,
  type HlsSegment,
  type HlsVariant,
  imagePlaylist,
  mediaPlaylist,
  multivariantPlaylist,
  webvttSegment,
} from './playlists.js';

/** A serving vector (spec/vectors/serving): a builder's input and the exact text it must make. */
export interface ServingVector {
  readonly name: string;
  readonly op: 'hls-media' | 'hls-multivariant' | 'hls-image' | 'webvtt';
  readonly input: Record<string, unknown>;
  readonly output: { readonly text: string };
}

/** The text a vector's op makes from its input. */
export function generateServing(v: ServingVector): string {
  const i = v.input;
  switch (v.op) {
    case 'hls-media':
      return mediaPlaylist(i.init as string, i.segments as HlsSegment[], i.dateRanges as HlsDateRange[]);
    case 'hls-multivariant':
      return multivariantPlaylist(
        i.variants as HlsVariant[],
        i.media as HlsMedia[],
        i.images as HlsImageStream[],
      );
    case 'hls-image':
      return imagePlaylist(i.images as HlsFile[], i.resolution as { width: number; height: number });
    case 'webvtt':
      return webvttSegment(i.cues as VttCue[]);
    default:
      throw new Error(`unknown op ${(v as { op: string }).op}`);
  }
}

/** Run one serving vector: ok when the builder makes its text byte for byte. */
export function runServingVector(v: ServingVector): { name: string; ok: boolean; detail?: string } {
  try {
    const text = generateServing(v);
    if (text === v.output.text) return { name: v.name, ok: true };
    const at = [...text].findIndex((ch, k) => ch !== v.output.text[k]);
    return { name: v.name, ok: false, detail: `text differs from byte ${at < 0 ? text.length : at}` };
  } catch (error) {
    return { name: v.name, ok: false, detail: `unexpected error: ${(error as Error).message}` };
  }
}
