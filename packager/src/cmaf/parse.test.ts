import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InitInfo, parseFragment, shiftDecodeTime } from './parse.js';

/** shiftDecodeTime: the tfdt is raised in place, checked by mp4box.js reading the fragment back. */

const box = (type: string, ...parts: Uint8Array[]) => {
  const size = 8 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(
    [...type].map((c) => c.charCodeAt(0)),
    4,
  );
  let at = 8;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const u32 = (...values: number[]) => {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setUint32(i * 4, v);
  return out;
};
const tfdt = (version: 0 | 1, value: bigint) => {
  const body = new Uint8Array(version === 1 ? 12 : 8);
  const view = new DataView(body.buffer);
  view.setUint32(0, version << 24);
  if (version === 1) view.setBigUint64(4, value);
  else view.setUint32(4, Number(value));
  return box('tfdt', body);
};
/** moof (mfhd, traf (tfhd, tfdt, trun of one 1024-unit sync sample)) + mdat. */
const fragment = (version: 0 | 1, decode: bigint) =>
  new Uint8Array([
    ...box(
      'moof',
      box('mfhd', u32(0, 1)),
      box(
        'traf',
        box('tfhd', u32(0x020000, 1)), // default-base-is-moof, track 1
        tfdt(version, decode),
        box('trun', u32(0x000301, 1, 0, 1024, 4)), // data offset, sample duration and size
      ),
    ),
    ...box('mdat', new Uint8Array(4)),
  ]);
const init: InitInfo = {
  kind: 'audio',
  codec: 'mp4a.40.2',
  timescale: 48_000,
  presentationStart: 0,
  defaultSampleDuration: 1024,
  defaultSampleFlags: 0,
};

test('a version 1 tfdt is raised by the shift, the rest of the fragment unchanged', () => {
  const bytes = fragment(1, 96_256n);
  const before = parseFragment(bytes, init);
  shiftDecodeTime(bytes, 2_192n);
  const after = parseFragment(bytes, init);
  assert.equal(after.baseMediaDecodeTime, 96_256 + 2_192);
  assert.deepEqual({ ...after, baseMediaDecodeTime: 0 }, { ...before, baseMediaDecodeTime: 0 });
  shiftDecodeTime(bytes, 10n ** 12n); // far past 32 bits
  assert.equal(parseFragment(bytes, init).baseMediaDecodeTime, 96_256 + 2_192 + 1e12);
});

test('a version 0 tfdt is raised while it fits 32 bits, refused past them; a fragment without one is refused', () => {
  const bytes = fragment(0, 1_000n);
  shiftDecodeTime(bytes, 500n);
  assert.equal(parseFragment(bytes, init).baseMediaDecodeTime, 1_500);
  assert.throws(() => shiftDecodeTime(bytes, 0xffffffffn), /a 32-bit tfdt cannot hold 4294968795/);
  assert.throws(() => shiftDecodeTime(box('mdat', new Uint8Array(4)), 1n), /no tfdt in its moof/);
});
