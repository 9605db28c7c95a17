/**
 * Deterministic CBOR: encode and strict decode of 1M small event items through the engine, beside cbor-x's
 * plain (non-deterministic) encode/decode and JSON on the same items.
 * Run: npm run bench -- cbor   (DREAMDB_BENCH_ITEMS=200000 for a quicker run)
 */
import { decodeCanonical, encodeCanonical, encodeCanonicalView, tagTick } from '@dreamdb/engine';
import { Decoder, Encoder } from 'cbor-x';
import { best, printTable, type Row } from './lib.ts';

const N = Number(process.env.DREAMDB_BENCH_ITEMS ?? 1_000_000);
const LABELS = ['person', 'car', 'dog', 'bicycle', 'cup'];

/** Small event items as a detector writes them; keys in a non-canonical order on purpose. */
const items = Array.from({ length: N }, (_, i) => ({
  track: 'detections',
  tick: tagTick(BigInt(i) * 33_366_667n),
  payload: { score: (i % 1000) / 1000 + 0.0005, label: LABELS[i % 5]!, box: [i % 640, i % 480, 64, 48] },
}));
const jsonItems = items.map((it, i) => ({ ...it, tick: (BigInt(i) * 33_366_667n).toString() }));

const plainEncoder = new Encoder({ useRecords: false });
const plainDecoder = new Decoder({ useRecords: false });
const rows: Row[] = [];
const perSecond = (s: number) => N / s;

let encoded: Uint8Array[] = [];
const enc = await best(3, () => {
  encoded = items.map((it) => encodeCanonical(it));
});
rows.push({ name: 'engine encodeCanonical (keys in any order)', value: perSecond(enc), unit: 'items/s' });
// The same items built with their keys in canonical order: the encoder's copy-free path.
const sortedItems = items.map((it) => ({
  tick: it.tick,
  track: it.track,
  payload: { box: it.payload.box, label: it.payload.label, score: it.payload.score },
}));
const sortedEnc = await best(3, () => {
  for (const it of sortedItems) encodeCanonical(it);
});
rows.push({
  name: 'engine encodeCanonical (keys in canonical order)',
  value: perSecond(sortedEnc),
  unit: 'items/s',
});
// The bytes as a view of the encoder's buffer, copied nowhere: the encoder alone, without one
// ArrayBuffer per item (which V8 allocates off-heap for more than 64 bytes, and which dominates above).
const viewEnc = await best(3, () => {
  for (const it of items) encodeCanonicalView(it);
});
rows.push({ name: 'engine encodeCanonicalView (no copy)', value: perSecond(viewEnc), unit: 'items/s' });
const dec = await best(3, () => {
  for (const b of encoded) decodeCanonical(b);
});
rows.push({ name: 'engine decodeCanonical (strict)', value: perSecond(dec), unit: 'items/s' });

let plain: Uint8Array[] = [];
const penc = await best(3, () => {
  plain = items.map((it) => plainEncoder.encode(it));
});
rows.push({ name: 'cbor-x encode (not deterministic)', value: perSecond(penc), unit: 'items/s' });
const pdec = await best(3, () => {
  for (const b of plain) plainDecoder.decode(b);
});
rows.push({ name: 'cbor-x decode (no checks)', value: perSecond(pdec), unit: 'items/s' });

let texts: string[] = [];
const jenc = await best(3, () => {
  texts = jsonItems.map((it) => JSON.stringify(it));
});
rows.push({ name: 'JSON.stringify', value: perSecond(jenc), unit: 'items/s' });
const jdec = await best(3, () => {
  for (const t of texts) JSON.parse(t);
});
rows.push({ name: 'JSON.parse', value: perSecond(jdec), unit: 'items/s' });

const bytesPerItem = encoded.reduce((s, b) => s + b.length, 0) / N;
printTable(
  `CBOR, ${N} small event items (${bytesPerItem.toFixed(1)} bytes each, canonical)`,
  rows,
  'cbor-x encode (not deterministic)',
);
