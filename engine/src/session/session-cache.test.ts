import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../store/memory-store.js';
import { SpaceStore } from '../store/space-store.js';
import { Session } from './session.js';
import { sessionCache } from './session-cache.js';

test('a weighed session cache keeps its budget of bytes, least recently used out first, the newest always', async () => {
  const session = new Session(new SpaceStore(new MemoryStore(), 'lab'));
  const made: string[] = [];
  const cache = sessionCache<{ bytes: number }>(8, { bytes: (v) => v.bytes, budget: () => 100 });
  const get = (key: string, bytes: number) =>
    cache(session, key, async () => {
      made.push(key);
      return { bytes };
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
  // A rejected make is forgotten: the next call makes it again.
  await assert.rejects(
    cache(session, 'bad', () => Promise.reject(new Error('no'))),
    /no/,
  );
  await new Promise((r) => setImmediate(r));
  await get('bad', 1);
  assert.deepEqual(made.at(-1), 'bad');
});
