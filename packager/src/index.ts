export { type AudioLevel, audioLevels, levelWindows } from './audio-level.js';
export { type Box, topLevelBoxes } from './boxes.js';
export { type CaptionCue, captionItems, captions } from './captions.js';
export { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './cmaf.js';
export { type DerivedTrack, inputZero, sampleFrames, writeDerived } from './derived.js';
export { MediaError } from './errors.js';
export { eventItem, userEvents } from './events.js';
export { type FfmpegRun, runFfmpeg } from './ffmpeg-run.js';
export { type CmafEvent, cmafEvents, EventQueue } from './fragmenter.js';
export {
  FRAME_BYTES,
  FRAME_DESCRIPTOR,
  FRAME_EMBEDDING_DIM,
  FRAME_FILTERS,
  type FrameEmbedding,
  frameDescriptor,
  frameEmbeddings,
  rawFrames,
} from './frame-embeddings.js';
export { type IngestOptions, type IngestReport, ingest, reportJson } from './ingest.js';
export { type ClipOptions, makeClip } from './lavfi.js';
export { bitrateFor, type OutputPlan, PLAYABLE, type Plan, planCmaf, remuxes } from './plan.js';
export { type MediaStream, type Probe, probe } from './probe.js';
export { splitJpegs, type Thumbnail, thumbnails } from './thumbnails.js';
