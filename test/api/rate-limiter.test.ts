// Token buckets by key: the burst, the refill rate, the time to wait, refunds, and the bound on memory.
import assert from 'node:assert/strict';
import { KeyedRateLimiter } from '../../src/api/rate-limiter.js';

describe('KeyedRateLimiter', () => {
  it('allows a burst, then refuses and says how long until the next token', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 6, burst: 3 }, 100);
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('k', 0), { allowed: true });
    assert.deepEqual(limiter.take('k', 0), { allowed: false, retryAfterMs: 10_000 });
    assert.deepEqual(limiter.take('k', 4_000), { allowed: false, retryAfterMs: 6_000 });
  });

  it('earns tokens back at the per-minute rate, never above the burst', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 6, burst: 3 }, 100);
    for (let i = 0; i < 3; i++) limiter.take('k', 0);
    assert.equal(limiter.take('k', 9_999).allowed, false);
    assert.equal(limiter.take('k', 10_000).allowed, true);
    // An hour later the bucket holds the burst, not 360 tokens.
    const later = 3_600_000;
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('k', later).allowed, true);
    assert.equal(limiter.take('k', later).allowed, false);
  });

  it('keeps keys apart', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 1, burst: 1 }, 100);
    assert.equal(limiter.take('a', 0).allowed, true);
    assert.equal(limiter.take('a', 0).allowed, false);
    assert.equal(limiter.take('b', 0).allowed, true);
  });

  it('gives a refunded token back, but never more than the burst', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 1, burst: 2 }, 100);
    limiter.take('k', 0);
    limiter.refund('k', 0);
    limiter.refund('k', 0);
    assert.equal(limiter.take('k', 0).allowed, true);
    assert.equal(limiter.take('k', 0).allowed, true);
    assert.equal(limiter.take('k', 0).allowed, false);
  });

  it('does not drain a bucket when the clock steps back', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 6, burst: 1 }, 100);
    limiter.take('k', 100_000);
    assert.equal(limiter.take('k', 50_000).allowed, false);
    assert.equal(limiter.take('k', 110_000).allowed, true);
  });

  it('remembers at most maxKeys keys, forgetting the least recently used first', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 1, burst: 1 }, 3);
    for (const key of ['a', 'b', 'c']) limiter.take(key, 0);
    limiter.take('a', 0); // refused, and now the most recently used
    limiter.take('d', 0);
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('b', 0).allowed, true, 'b was forgotten: a fresh bucket');
    assert.equal(limiter.take('a', 0).allowed, false, 'a was kept');
    for (let i = 0; i < 10_000; i++) limiter.take(`spray${i}`, 0);
    assert.equal(limiter.size, 3);
  });

  it('forgets a key whose bucket is full again: it is no different from an unknown key', () => {
    const limiter = new KeyedRateLimiter({ perMinute: 60, burst: 2 }, 100);
    limiter.take('k', 0);
    assert.equal(limiter.size, 1);
    limiter.refund('k', 0);
    assert.equal(limiter.size, 0);
  });

  it('refuses nonsensical limits', () => {
    assert.throws(() => new KeyedRateLimiter({ perMinute: 0, burst: 1 }, 1), RangeError);
    assert.throws(() => new KeyedRateLimiter({ perMinute: 1, burst: 0 }, 1), RangeError);
    assert.throws(() => new KeyedRateLimiter({ perMinute: 1, burst: 1 }, 0), RangeError);
  });
});
