import type { IngestBatch } from './publish.js';
import type { IngestedTrack } from './stream-tracks.js';

/** The constant track that holds a timeline's RenditionPlaylist (spec 0014 path B). */
export const RENDITIONS_TRACK = 'renditions';

/**
 * The RenditionPlaylist of the stream tracks an ingest cut: grouped into switching sets (every video rung
 * of the source in one, each audio stream in its own), with what a player needs to choose among them
 * (codecs, measured bandwidth, resolution, frame rate, sample rate). It is a constant item at tick 0 of
 * the `renditions` track, so it is versioned with the tracks it describes.
 */
export function renditionsBatch(tracks: readonly IngestedTrack[], input: string): IngestBatch {
  const entry = (t: IngestedTrack) => ({
    track: t.name,
    codecs: t.codec,
    bandwidth: t.peakBandwidth,
    average_bandwidth: t.averageBandwidth,
    ...(t.width !== undefined && { width: t.width, height: t.height }),
    ...(t.frameRate !== undefined && { frame_rate: t.frameRate }),
    ...(t.sampleRate !== undefined && { sample_rate: t.sampleRate, channels: t.channels }),
  });
  const video = tracks.filter((t) => t.modality.startsWith('video.'));
  const audio = tracks.filter((t) => t.modality.startsWith('audio.'));
  const playlist = {
    v: 0,
    source: input.split('/').at(-1)!,
    sets: [
      ...(video.length > 0 ? [{ kind: 'video', tracks: video.map(entry) }] : []),
      ...audio.map((t) => ({ kind: 'audio', tracks: [entry(t)] })),
    ],
  };
  return {
    tracks: [{ track: { name: RENDITIONS_TRACK, kind: 'constant', modality: 'meta.renditions' } }],
    items: [{ track: RENDITIONS_TRACK, items: [{ tick: 0n, layer: 'ingest', payload: playlist }] }],
  };
}
