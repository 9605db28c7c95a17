export { type Box, topLevelBoxes } from './cmaf/boxes.js';
export { type CmafEvent, cmafEvents, EventQueue } from './cmaf/fragmenter.js';
export { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './cmaf/parse.js';
export { type AudioLevel, audioLevels, levelWindows } from './derived/audio-level.js';
export { type CaptionCue, captionItems, captions } from './derived/captions.js';
export { eventItem, userEvents } from './derived/events.js';
export {
  FRAME_BYTES,
  FRAME_DESCRIPTOR,
  FRAME_EMBEDDING_DIM,
  FRAME_FILTERS,
  type FrameEmbedding,
  frameDescriptor,
  frameEmbeddings,
  rawFrames,
} from './derived/frame-embeddings.js';
export { splitJpegs, type Thumbnail, thumbnails } from './derived/thumbnails.js';
export { type DerivedTrack, derivedChunks, inputZero, sampleFrames, writeDerived } from './derived/track.js';
export { MediaError } from './errors.js';
export { type ClipOptions, makeClip } from './ffmpeg/lavfi.js';
export { bitrateFor, type OutputPlan, PLAYABLE, type Plan, planCmaf, remuxes } from './ffmpeg/plan.js';
export { type MediaStream, type Probe, probe } from './ffmpeg/probe.js';
export { type FfmpegRun, runFfmpeg } from './ffmpeg/run.js';
export {
  type IngestOptions,
  type IngestReport,
  ingest,
  type PackagedInput,
  type PackageOptions,
  packageInput,
  reportJson,
} from './ingest/ingest.js';
export {
  type IngestBatch,
  type IngestPublished,
  type IngestTrack,
  type PublishIngestOptions,
  publishIngest,
  SPILL_BYTES,
  type TrackItems,
} from './ingest/publish.js';
export { RENDITIONS_TRACK } from './ingest/renditions.js';
export { type IngestedTrack, modalityOf } from './ingest/stream-tracks.js';
