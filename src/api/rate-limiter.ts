// Token buckets by key (a username, a client address) in a map of bounded size: the state a login
// throttle keeps. Time is passed in, so tests drive it without sleeping.

export interface RateLimit {
  /** Tokens a key earns back per minute. */
  perMinute: number;
  /** Tokens a key starts with and can save up: how many attempts may come at once. */
  burst: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms since epoch). */
  updatedAtMs: number;
}

/** The outcome of take(): allowed, or refused with the time until the next token. */
export type TakeResult = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * One token bucket per key, at most `maxKeys` of them. A key that is not in the map has a full
 * bucket, so forgetting a key only ever errs towards allowing. When the map is full the least
 * recently used key is forgotten: memory stays bounded however many distinct keys an attacker
 * sends, at the price that a key not touched for a while may be forgotten before it refilled.
 */
export class KeyedRateLimiter {
  /** Map iteration order is insertion order: re-inserting on every use keeps it least recent first. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys: number,
  ) {
    if (!(limit.perMinute > 0) || !(limit.burst >= 1) || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`a rate limit needs perMinute > 0, burst >= 1 and maxKeys >= 1 (got ${limit.perMinute}, ${limit.burst}, ${maxKeys})`);
    }
    this.tokensPerMs = limit.perMinute / 60_000;
  }

  /** Takes one token from `key`'s bucket; when it has none, refuses and says when it will have one. */
  take(key: string, nowMs: number): TakeResult {
    const bucket = this.refreshed(key, nowMs);
    if (bucket.tokens < 1) {
      this.store(key, bucket);
      return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.tokensPerMs) };
    }
    bucket.tokens -= 1;
    this.store(key, bucket);
    return { allowed: true };
  }

  /** Gives back a token taken for an attempt that turned out not to count (never above the burst). */
  refund(key: string, nowMs: number): void {
    if (!this.buckets.has(key)) return; // forgotten: already as good as full
    const bucket = this.refreshed(key, nowMs);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + 1);
    this.store(key, bucket);
  }

  /** Keys currently remembered (for tests and memory checks). */
  get size(): number {
    return this.buckets.size;
  }

  private refreshed(key: string, nowMs: number): Bucket {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return { tokens: this.limit.burst, updatedAtMs: nowMs };
    // A clock that steps back (NTP) must not drain a bucket: elapsed time is never negative.
    const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
    return { tokens: Math.min(this.limit.burst, bucket.tokens + elapsedMs * this.tokensPerMs), updatedAtMs: Math.max(nowMs, bucket.updatedAtMs) };
  }

  private store(key: string, bucket: Bucket): void {
    this.buckets.delete(key);
    // A full bucket is the same as no entry: drop it rather than spend memory on it.
    if (bucket.tokens >= this.limit.burst) return;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done !== true) this.buckets.delete(oldest.value);
    }
  }
}
