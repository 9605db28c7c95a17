export { type Box, topLevelBoxes } from './boxes.js';
export { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './cmaf.js';
export { MediaError } from './errors.js';
export { type CmafEvent, cmafTrack } from './fragmenter.js';
export { type IngestOptions, type IngestReport, ingest } from './ingest.js';
export { type MediaStream, type Probe, probe } from './probe.js';
