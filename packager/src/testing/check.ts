import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tick } from '@dreamdb/engine';
import type { ReadItem } from '@dreamdb/engine/query';

/** ffprobe's packets of some bytes (written to a temp file): flags and times, in file order. */
export function packets(bytes: Uint8Array): { flags: string; pts: number; dts: number }[] {
  const file = join(tmpdir(), `dreamdb-probe-${process.pid}-${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, bytes);
  try {
    const out = execFileSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'packet=flags,pts,dts',
      '-of',
      'json',
      file,
    ]);
    return (JSON.parse(out.toString()) as { packets: { flags: string; pts: number; dts: number }[] }).packets;
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Checks an ingested stream track with ffprobe, independently of the packager's own parsing: fragments
 * back to back from `first` to `end`, each (after the CMAF header) decoding from a keyframe.
 */
export function checkStreamTrack(
  track: { name: string; first: Tick; end: Tick; fragments: number },
  init: Uint8Array,
  items: readonly ReadItem[],
): void {
  const mine = items.filter((i) => i.track === track.name);
  assert.equal(mine.length, track.fragments, `${track.name}: fragments`);
  let next = track.first;
  for (const item of mine) {
    assert.equal(item.tick, next, `${track.name}: fragment at ${item.tick} follows ${next}`);
    next = item.tick + item.duration;
    const first = packets(Buffer.concat([init, item.bytes]))[0]!;
    assert.match(first.flags, /K/, `${track.name}@${item.tick} starts with a keyframe`);
  }
  assert.equal(next, track.end, `${track.name}: ends where its last fragment ends`);
}
