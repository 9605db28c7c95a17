import { MediaError } from '../errors.js';
import { topLevelBoxes } from './boxes.js';
import { type FragmentInfo, type InitInfo, parseFragment, parseInit } from './parse.js';

/** The CMAF header, then each fragment, of one track, as ffmpeg's fMP4 muxer writes them. */
export type CmafEvent =
  | { readonly kind: 'init'; readonly bytes: Uint8Array; readonly info: InitInfo }
  | { readonly kind: 'fragment'; readonly bytes: Uint8Array; readonly info: FragmentInfo };

/**
 * Read one fMP4 output as CMAF: its header (ftyp + moov), then fragments (moof + mdat), split box by box
 * as the bytes arrive, so memory holds one fragment at a time whatever the input's length.
 */
export async function* cmafEvents(
  output: AsyncIterable<Uint8Array>,
  file: string,
): AsyncGenerator<CmafEvent> {
  let init: InitInfo | undefined;
  let header: Uint8Array[] = [];
  for await (const box of topLevelBoxes(output, 'moof')) {
    if (box.type === 'ftyp') header = [box.bytes];
    else if (box.type === 'moov') {
      header.push(box.bytes);
      const bytes = Buffer.concat(header);
      init = parseInit(bytes);
      yield { kind: 'init', bytes, info: init };
    } else if (box.type === 'moof') {
      // moof and its mdat, glued into one array: the fragment.
      if (!init) throw new MediaError(file, 'ffmpeg wrote media data before its header');
      const moofSize = new DataView(box.bytes.buffer, box.bytes.byteOffset).getUint32(0);
      yield {
        kind: 'fragment',
        bytes: box.bytes,
        info: parseFragment(box.bytes.subarray(0, moofSize), init),
      };
    }
  }
}

/**
 * Reads an output ahead of its consumer into a short queue. Every output of one ffmpeg run must be read,
 * or ffmpeg stalls on a full pipe; while `bounded` is false (before every track knows its timing) the
 * queue may grow, after that it holds at most `limit` events and pauses the pipe.
 */
export class EventQueue {
  private readonly events: CmafEvent[] = [];
  private error: unknown;
  private ended = false;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;
  bounded = false;

  constructor(
    source: AsyncIterable<CmafEvent>,
    private readonly limit = 4,
  ) {
    void this.pump(source);
  }

  private async pump(source: AsyncIterable<CmafEvent>): Promise<void> {
    try {
      for await (const event of source) {
        this.events.push(event);
        this.wake?.();
        while (this.bounded && this.events.length >= this.limit)
          await new Promise<void>((resolve) => {
            this.room = resolve;
          });
      }
    } catch (error) {
      this.error = error;
    }
    this.ended = true;
    this.wake?.();
  }

  /** Let the pump run ahead again after `bounded` was set. */
  bound(): void {
    this.bounded = true;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CmafEvent> {
    for (;;) {
      const event = this.events.shift();
      if (event) {
        this.room?.();
        yield event;
        continue;
      }
      if (this.error !== undefined) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
