import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedError, RateLimiter } from './rate.js';

test('a token bucket lets a burst of twice the rate through, then refuses with a whole-second Retry-After', () => {
  const limiter = new RateLimiter();
  let t = 1_000_000;
  // 5/s: a burst of 10 at once, the 11th refused.
  for (let i = 0; i < 10; i++) assert.deepEqual(limiter.take('acme', 5, t), { ok: true }, `take ${i}`);
  const refused = limiter.take('acme', 5, t);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.retryAfterSeconds, 1);
  // 200 ms later one token has come back (5/s), and only one.
  t += 200;
  assert.equal(limiter.take('acme', 5, t).ok, true);
  assert.equal(limiter.take('acme', 5, t).ok, false);
  // Other keys have their own buckets.
  assert.equal(limiter.take('acme/lab', 5, t).ok, true);
  // A slow rate: one request per 10 s (a burst is never under one request); the next waits whole seconds.
  assert.equal(limiter.take('slow', 0.1, t).ok, true);
  const slow = limiter.take('slow', 0.1, t);
  assert.equal(!slow.ok && slow.retryAfterSeconds, 10);
  assert.equal(limiter.take('slow', 0.1, t + 9_000).ok, false);
  assert.equal(limiter.take('slow', 0.1, t + 10_000).ok, true);
  // A rate of 0 admits nothing.
  const none = limiter.take('blocked', 0, t);
  assert.ok(!none.ok && none.retryAfterSeconds >= 1);
});

test('the Retry-After is honest: a request made when it says is admitted', () => {
  const limiter = new RateLimiter();
  let t = 0;
  for (let round = 0; round < 20; round++) {
    let decision = limiter.take('k', 3, t);
    while (decision.ok) decision = limiter.take('k', 3, t);
    assert.ok(Number.isInteger(decision.retryAfterSeconds) && decision.retryAfterSeconds >= 1);
    t += decision.retryAfterSeconds * 1000;
    assert.equal(limiter.take('k', 3, t).ok, true);
  }
});

test('memory is bounded: idle keys are dropped once full again, and at most maxKeys are kept', () => {
  const limiter = new RateLimiter({ maxKeys: 1000 });
  for (let i = 0; i < 500; i++) limiter.take(`tenant-${i}`, 10, 0);
  assert.equal(limiter.size, 500);
  // 2 s later every bucket (burst 20 at 10/s) has refilled: the next take sweeps them away.
  limiter.take('busy', 10, 2_000);
  assert.equal(limiter.size, 1);
  for (let i = 0; i < 5000; i++) limiter.take(`k-${i}`, 10, 2_500);
  assert.equal(limiter.size, 1000);
});

test('RateLimitedError is E_RATE_LIMITED and carries its Retry-After', () => {
  const error = new RateLimitedError('tenant acme is over its rate of 5 requests/s', 3);
  assert.equal(error.code, 'E_RATE_LIMITED');
  assert.equal(error.retryAfterSeconds, 3);
  assert.match(error.message, /tenant acme .* retry after 3 s/);
});
