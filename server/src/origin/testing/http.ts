import assert from 'node:assert/strict';
import HLS from 'hls-parser';

/** What the origin tests ask of a served origin: text at 200, parsed media playlists, segments' bytes. */
export function httpOf(base: () => string) {
  const text = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${base()}${path}`, init);
    assert.equal(response.status, 200, `${path}: ${response.status}`);
    return response.text();
  };
  return {
    text,
    /** A media playlist, parsed by hls-parser (a strict parser nobody here wrote). */
    mediaOf: async (path: string) => HLS.parse(await text(path)) as HLS.types.MediaPlaylist,
    /** Bytes of a segment (its byte range of an object), as a client fetches them. */
    segmentBytes: async (s: HLS.types.Segment) => {
      const { offset, length } = s.byterange!;
      const response = await fetch(`${base()}${s.uri}`, {
        headers: { range: `bytes=${offset}-${offset + length - 1}` },
      });
      assert.equal(response.status, 206);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}
