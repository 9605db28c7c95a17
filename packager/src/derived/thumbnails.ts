import type { WriteItem } from '@dreamdb/engine/write';
import { MediaError } from '../errors.js';
import {
  checkOrigin,
  DERIVED_BUCKET,
  type DerivedTrack,
  ffmpegOutput,
  reiterable,
  sampleFrames,
  sampleInterval,
} from './track.js';

export interface ThumbnailOptions {
  /** The tick of the input's zero (IngestReport.origin; see inputZero). */
  readonly origin: bigint;
  /** Seconds between thumbnails (default 2). */
  readonly everySeconds?: number;
  /** Width in pixels (default 160); the height keeps the aspect ratio, rounded to an even number. */
  readonly width?: number;
  /** JPEG quality as ffmpeg's -q:v, 2 (best) to 31 (default 5). */
  readonly quality?: number;
  /** Track name (default "thumbnails"). */
  readonly name?: string;
}

/** The payload of a thumbnail item. */
export interface Thumbnail {
  readonly image: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Thumbnails of the first video stream of `input` as JPEG items of an event track 'thumbnails'
 * (image.jpeg), scaled to `width`: item i is at tick origin + i·every, lasts `every`, and shows the picture
 * on screen i·every after the input's zero (inputZero), i.e. the latest frame at or before that time. They
 * start with the interval in which the video starts, which shows its first frame. ffmpeg decodes the video
 * and writes the JPEGs to a pipe; they are cut apart as they arrive, so memory holds one image at a time.
 */
export function thumbnails(input: string, options: ThumbnailOptions): DerivedTrack {
  const origin = checkOrigin(options.origin, 'thumbnails');
  const everySeconds = options.everySeconds ?? 2;
  const every = sampleInterval(everySeconds, 'thumbnails');
  const width = options.width ?? 160;
  const quality = options.quality ?? 5;
  if (!(Number.isInteger(width) && width >= 16 && width <= 4096))
    throw new RangeError(`thumbnails: width ${width} is not a whole number of pixels in 16–4096`);
  if (!(Number.isInteger(quality) && quality >= 2 && quality <= 31))
    throw new RangeError(`thumbnails: quality ${quality} is outside 2–31`);
  const name = options.name ?? 'thumbnails';

  async function* items(): AsyncGenerator<WriteItem> {
    const { first, args } = await sampleFrames(input, every, [`scale=${width}:-2`], 'make thumbnails of');
    const frames = ffmpegOutput(
      input,
      [...args, '-c:v', 'mjpeg', '-q:v', String(quality), '-f', 'image2pipe', 'pipe:3'],
      'thumbnails',
    );
    let i = first;
    for await (const jpeg of splitJpegs(frames, input)) {
      const payload: Thumbnail = { image: jpeg.bytes, width: jpeg.width, height: jpeg.height };
      yield { tick: origin + i * every, duration: every, payload };
      i++;
    }
  }

  return {
    track: {
      name,
      kind: 'event',
      modality: 'image.jpeg',
      bucketDuration: DERIVED_BUCKET,
      attrs: { width, every_seconds: everySeconds },
    },
    items: reiterable(items),
  };
}

/** One JPEG cut from a stream, with its frame size. */
export interface Jpeg {
  readonly bytes: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Markers without a length field: TEM and RST0–7 (SOI and EOI are handled apart). */
const standalone = (code: number) => code === 0x01 || (code >= 0xd0 && code <= 0xd7);
/** Start-of-frame markers (SOF0–15 less DHT, JPG and DAC), which hold the frame's size. */
const startOfFrame = (code: number) =>
  code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc;

/**
 * Cut back-to-back JPEGs (an mjpeg image2pipe) out of a byte stream as they arrive. The cut follows the
 * JPEG structure (marker segments by their lengths, then the entropy-coded scan up to EOI), so bytes
 * FF D9 inside a header segment do not end an image. Memory holds the image being read and one chunk.
 */
export async function* splitJpegs(
  chunks: AsyncIterable<Uint8Array>,
  file = 'jpeg stream',
): AsyncGenerator<Jpeg> {
  let buf: Buffer = Buffer.alloc(0);
  /** Where parsing of the current image stands. */
  let pos = 0;
  let inScan = false;
  let started = false;
  let width = 0;
  let height = 0;
  let offset = 0; // bytes of the stream before buf, for error messages
  for await (const chunk of chunks) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    buf = buf.length === 0 ? bytes : Buffer.concat([buf, bytes]);
    for (;;) {
      if (!started) {
        if (buf.length < 2) break;
        if (buf[0] !== 0xff || buf[1] !== 0xd8)
          throw new MediaError(file, `byte ${offset}: expected a JPEG start (FF D8) in ffmpeg's output`);
        started = true;
        pos = 2;
      }
      if (inScan) {
        // Entropy-coded data: FF is followed by 00 (a stuffed byte) or RSTn; anything else is a marker.
        let at = buf.indexOf(0xff, pos);
        while (at >= 0 && at + 1 < buf.length && (buf[at + 1] === 0x00 || standalone(buf[at + 1]!)))
          at = buf.indexOf(0xff, at + 2);
        if (at < 0 || at + 1 >= buf.length) {
          pos = at < 0 ? buf.length : at;
          break;
        }
        pos = at;
        inScan = false;
      }
      // A marker at pos (fill bytes FF FF… allowed before it).
      while (pos + 1 < buf.length && buf[pos] === 0xff && buf[pos + 1] === 0xff) pos++;
      if (pos + 2 > buf.length) break;
      if (buf[pos] !== 0xff)
        throw new MediaError(file, `byte ${offset + pos}: expected a JPEG marker in ffmpeg's output`);
      const code = buf[pos + 1]!;
      if (code === 0xd9) {
        const end = pos + 2;
        if (width === 0 || height === 0)
          throw new MediaError(file, `byte ${offset}: a JPEG from ffmpeg has no frame header`);
        yield { bytes: new Uint8Array(buf.subarray(0, end)), width, height };
        buf = buf.subarray(end);
        offset += end;
        started = false;
        width = height = 0;
        continue;
      }
      if (standalone(code)) {
        pos += 2;
        continue;
      }
      if (pos + 4 > buf.length) break;
      const length = buf.readUInt16BE(pos + 2);
      if (pos + 2 + length > buf.length) break;
      if (startOfFrame(code) && length >= 7) {
        height = buf.readUInt16BE(pos + 5);
        width = buf.readUInt16BE(pos + 7);
      }
      pos += 2 + length;
      if (code === 0xda) inScan = true;
    }
  }
  if (started || buf.length > 0) throw new MediaError(file, `ffmpeg's JPEG output ends inside an image`);
}
