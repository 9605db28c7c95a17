import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { FairScheduler } from './fair.js';
import { RateLimitedError } from './rate.js';

/** A task that takes a few turns of the event loop, logging when it starts. */
const task =
  (log: string[], name: string, turns = 3) =>
  async () => {
    log.push(name);
    for (let i = 0; i < turns; i++) await tick();
    return name;
  };

test("one tenant's 200 queued tasks do not hold back another tenant's task", async () => {
  const scheduler = new FairScheduler({ concurrency: 4 });
  const started: string[] = [];
  const a = Array.from({ length: 200 }, (_, i) => scheduler.run('a', task(started, `a${i}`)));
  await tick();
  assert.equal(scheduler.running, 4);
  assert.equal(scheduler.queued('a'), 196);
  const b = scheduler.run('b', task(started, 'b0'));
  assert.equal(await b, 'b0');
  // b0 starts at the first slot that frees: after the 4 first tasks of a, within one more of a's.
  const at = started.indexOf('b0');
  assert.ok(at >= 4 && at <= 5, `b0 started ${at}th`);
  assert.deepEqual(
    await Promise.all(a),
    Array.from({ length: 200 }, (_, i) => `a${i}`),
  );
  // A tenant's own tasks start in the order it gave them.
  const aOrder = started.filter((s) => s.startsWith('a'));
  assert.deepEqual(
    aOrder,
    Array.from({ length: 200 }, (_, i) => `a${i}`),
  );
});

test('waiting tasks start round-robin across tenants, never over the concurrency', async () => {
  const scheduler = new FairScheduler({ concurrency: 2 });
  const started: string[] = [];
  let running = 0;
  let most = 0;
  const counted = (name: string) => async () => {
    running++;
    most = Math.max(most, running);
    started.push(name);
    await tick();
    await tick();
    running--;
  };
  const all = [];
  for (let i = 0; i < 30; i++) all.push(scheduler.run('a', counted(`a${i}`)));
  for (let i = 0; i < 3; i++) all.push(scheduler.run('b', counted(`b${i}`)));
  for (let i = 0; i < 3; i++) all.push(scheduler.run('c', counted(`c${i}`)));
  await Promise.all(all);
  assert.equal(most, 2);
  // After a's first two, the turns go a, b, c, a, b, c...: b and c are done within the first 11 starts.
  const lastOfOthers = Math.max(started.indexOf('b2'), started.indexOf('c2'));
  assert.ok(
    lastOfOthers <= 11,
    `b and c finished starting at ${lastOfOthers}: ${started.slice(0, 12).join(' ')}`,
  );
});

test('a full queue refuses with E_RATE_LIMITED and a Retry-After; failures reach the caller', async () => {
  const scheduler = new FairScheduler({ concurrency: 1, maxQueuedPerTenant: 3 });
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const running = scheduler.run('a', () => gate);
  const queued = [1, 2, 3].map((i) => scheduler.run('a', () => i));
  await assert.rejects(
    scheduler.run('a', () => 4),
    (error: unknown) => {
      assert.ok(error instanceof RateLimitedError);
      assert.equal(error.code, 'E_RATE_LIMITED');
      assert.ok(Number.isInteger(error.retryAfterSeconds) && error.retryAfterSeconds >= 1);
      assert.match(error.message, /tenant a has 3 heavy tasks waiting/);
      return true;
    },
  );
  // Another tenant still queues.
  const other = scheduler.run('b', () => 'b');
  release();
  await running;
  assert.deepEqual(await Promise.all(queued), [1, 2, 3]);
  assert.equal(await other, 'b');
  await assert.rejects(
    scheduler.run('a', () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await scheduler.run('a', async () => 'after'), 'after');
  assert.equal(scheduler.running, 0);
});
