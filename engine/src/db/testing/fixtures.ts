import { parseRate } from '../../time/rate.js';
import type { Resolved } from '../session.js';
import { Writer } from '../writer.js';

/** One second in ticks. */
export const SECOND = 1_000_000_000n;

/** A writer for the test recording: timeline s1 with a video stream track (cam) and detections (det). */
export function camAndDetections(base?: Resolved): Writer {
  return new Writer(base)
    .timeline({ name: 's1', genesis: 1_764_000_000_000_000_000n })
    .track({
      timeline: 's1',
      name: 'cam',
      kind: 'stream',
      modality: 'video.h264',
      rate: parseRate('90000'),
      codecs: 'avc1.64001f',
    })
    .track({
      timeline: 's1',
      name: 'det',
      kind: 'event',
      modality: 'event.detection',
      bucketDuration: 60n * SECOND,
    });
}
