import { equalBytes, type Multihash, multihashToHex } from '@dreamdb/engine';

/**
 * The URL of an object's bytes. HLS clients want a media extension on segment URLs (ffmpeg refuses
 * others), so media get one; the origin serves an object under its hash with or without it.
 */
export const objectUri = (space: string, mh: Multihash, extension = '') =>
  `/objects/${encodeURIComponent(space)}/${multihashToHex(mh)}${extension}`;

/**
 * objectUri for a run of entries: back-to-back fragments share a bucket, so the URL of the previous
 * entry's object is reused when the object is the same (a 24-hour playlist names ~3k buckets, 43k times).
 */
export function objectUris(space: string, extension: string): (mh: Multihash) => string {
  let last: Multihash | undefined;
  let uri = '';
  return (mh) => {
    if (!last || !equalBytes(last, mh)) {
      last = mh;
      uri = objectUri(space, mh, extension);
    }
    return uri;
  };
}

/** The path of a timeline's playback under a prefix (/hls or /dash). */
export const playbackBase = (prefix: string, space: string, ref: string, timeline: string) =>
  `${prefix}/${encodeURIComponent(space)}/${encodeURIComponent(ref)}/${encodeURIComponent(timeline)}`;
