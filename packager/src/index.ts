export { type Box, topLevelBoxes } from './boxes.js';
export { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './cmaf.js';
export { MediaError } from './errors.js';
export { type FfmpegRun, runFfmpeg } from './ffmpeg-run.js';
export { type CmafEvent, cmafEvents, EventQueue } from './fragmenter.js';
export { type IngestOptions, type IngestReport, ingest } from './ingest.js';
export { bitrateFor, type OutputPlan, PLAYABLE, type Plan, planCmaf, remuxes } from './plan.js';
export { firstPacketTimes, type MediaStream, type Probe, probe } from './probe.js';
