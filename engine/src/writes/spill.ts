import { EngineError } from '../errors.js';
import type { Session } from '../session/session.js';
import { packBuckets } from './buckets.js';
import { Uploader } from './uploader.js';
import type { Writer } from './writer.js';

/**
 * spill: pack a stream track's staged fragments into buckets and upload them now, keeping only their
 * index entries in the writer; the next publish indexes them with the rest. A long recording is then
 * written with bounded memory. Nothing becomes visible before publish (unpublished buckets are garbage
 * that `collect` removes after its grace period). With `wait: false` the uploads run on in the background
 * (publish waits for them): faster, but a failed upload then fails the publish instead of keeping the
 * items staged.
 */
export async function spill(
  session: Session,
  writer: Writer,
  timeline: string,
  trackName: string,
  options: { concurrency?: number; wait?: boolean } = {},
): Promise<void> {
  const track = writer.allTracks().find((t) => t.timeline === timeline && t.name === trackName);
  if (!track) throw new EngineError('E_NOT_FOUND', `track ${timeline}/${trackName} is not defined`);
  if (track.kind !== 'stream') {
    throw new EngineError(
      'E_BAD_REQUEST',
      `only stream tracks spill; ${timeline}/${trackName} is ${track.kind}`,
    );
  }
  const staged = writer.takeStaged(timeline, trackName);
  if (!staged || staged.count === 0) return;
  if (options.wait === false) {
    // Uploads continue in the background (at most `concurrency` buckets in flight across spills);
    // publish waits for them, and fails if one failed, before it writes the manifest.
    let uploader = background.get(writer);
    if (!uploader) {
      uploader = new Uploader(session.store, options.concurrency ?? 4);
      background.set(writer, uploader);
    }
    writer.addSpilled(timeline, trackName, await packBuckets(track, staged, uploader));
    return;
  }
  const uploader = new Uploader(session.store, options.concurrency ?? 16);
  try {
    const entries = await packBuckets(track, staged, uploader);
    await uploader.drain();
    writer.addSpilled(timeline, trackName, entries);
  } catch (error) {
    await uploader.settle();
    writer.restoreStaged(timeline, trackName, staged); // the items stay staged for a retry
    throw error;
  }
}

/** Uploads that `spill(..., {wait: false})` left running, per writer. */
const background = new WeakMap<Writer, Uploader>();

/** The uploads `spill(..., {wait: false})` left running for a writer, if any (publish waits for them). */
export const backgroundUploads = (writer: Writer): Uploader | undefined => background.get(writer);
