import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { Session } from './session.js';
import { sessionCache } from './session-cache.js';

test('a weighed session cache keeps its budget of bytes, least recently used out first, the newest always', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const made: string[] = [];
  const dropped: string[] = [];
  const cache = sessionCache<{ key: string; bytes: number }>(8, {
    bytes: (v) => v.bytes,
    budget: () => 100,
    dropped: (v) => dropped.push(v.key),
  });
  const get = (key: string, bytes: number) =>
    cache(session, key, async () => {
      made.push(key);
      return { key, bytes };
    });
  await get('a', 40);
  await get('b', 40);
  await get('a', 40); // a is now the most recently used
  await get('c', 40); // 120 bytes: b goes, not a
  await new Promise((r) => setImmediate(r));
  await get('a', 40);
  await get('b', 40);
  assert.deepEqual(made, ['a', 'b', 'c', 'b']);
  // One value over the budget stays alone (its searches would otherwise load it every time).
  await get('huge', 500);
  await new Promise((r) => setImmediate(r));
  await get('huge', 500);
  await get('c', 40);
  assert.deepEqual(made, ['a', 'b', 'c', 'b', 'huge', 'c']);
  assert.deepEqual(dropped, ['b', 'c', 'a', 'b', 'huge']);
  // Loads under way weigh nothing and are not dropped for the budget: a large one settling first
  // leaves the others to settle, then the least recently used go.
  const gates: (() => void)[] = [];
  const slow = (key: string, bytes: number) =>
    cache(session, key, () => {
      made.push(key);
      return new Promise((resolve) => gates.push(() => resolve({ key, bytes })));
    });
  const pending = [slow('p1', 30), slow('p2', 30), slow('big', 90)];
  gates[2]!(); // big settles first: 120 bytes with c, c goes; p1 and p2 stay, still loading
  await pending[2];
  await new Promise((r) => setImmediate(r));
  assert.equal(dropped.at(-1), 'c');
  gates[0]!();
  gates[1]!();
  await Promise.all(pending);
  await new Promise((r) => setImmediate(r));
  // p1 settled: 120 bytes, big (least recently used of the settled, not the one settling) goes.
  assert.deepEqual(dropped.slice(-2), ['c', 'big']);
  made.length = 0;
  await Promise.all([slow('p1', 30), slow('p2', 30)]);
  assert.deepEqual(made, [], 'p1 and p2 kept');
  // A rejected make is forgotten: the next call makes it again.
  await assert.rejects(
    cache(session, 'bad', () => Promise.reject(new Error('no'))),
    /no/,
  );
  await new Promise((r) => setImmediate(r));
  await get('bad', 1);
  assert.deepEqual(made.at(-1), 'bad');
});
