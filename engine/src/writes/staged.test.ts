import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StagedColumns } from './staged.js';

const text = (s: string) => new TextEncoder().encode(s);
const read = (c: StagedColumns) =>
  Array.from({ length: c.count }, (_, i) => new TextDecoder().decode(c.bytes(i)));

test('the sorted copy is kept until the next push, and pushing onto it leaves the shared arena alone', () => {
  const staged = new StagedColumns();
  staged.push(30n, 0n, text('c'));
  staged.push(10n, 0n, text('a'));
  staged.push(20n, 0n, text('b'));
  const sorted = staged.inOrder();
  assert.equal(staged.inOrder(), sorted, 'sorted once');
  assert.deepEqual(read(sorted), ['a', 'b', 'c']);
  sorted.push(40n, 0n, text('d'));
  assert.deepEqual(read(sorted), ['a', 'b', 'c', 'd']);
  assert.deepEqual(read(staged), ['c', 'a', 'b'], 'the original items are intact');
  staged.push(5n, 0n, text('z'));
  assert.notEqual(staged.inOrder(), sorted, 'a push sorts again');
  assert.deepEqual(read(staged.inOrder()), ['z', 'a', 'b', 'c']);
});

test('a transient large array is copied; a large fragment is kept as given', () => {
  const staged = new StagedColumns();
  const view = new Uint8Array(100_000).fill(1);
  const fragment = new Uint8Array(100_000).fill(2);
  staged.push(1n, 0n, view, undefined, true);
  staged.push(2n, 0n, fragment);
  view.fill(9); // the encoder reuses its buffer
  assert.equal(staged.bytes(0)[0], 1);
  assert.equal(staged.bytes(1).buffer, fragment.buffer);
});
