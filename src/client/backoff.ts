// Exponential back-off with full jitter ("Exponential Backoff and Jitter", AWS Architecture Blog,
// 2015): the wait before retry n is uniform in [0, min(max, base * 2^n)), which spreads out
// clients that all lost the same leader at the same moment.

export interface BackoffPolicy {
  /** The ceiling of the first retry's wait. */
  baseDelayMs: number;
  /** No wait is ever longer than this. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 50, maxDelayMs: 2_000 };

/** The ceiling of the wait before retry `retryIndex` (0 for the first retry). */
export function backoffCeilingMs(retryIndex: number, policy: BackoffPolicy): number {
  // Cap the exponent so 2 ** n never overflows into Infinity on a long-lived watch.
  const exponent = Math.min(retryIndex, 30);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/** A wait drawn uniformly from [0, ceiling); `random` returns values in [0, 1]. */
export function fullJitterDelayMs(retryIndex: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(retryIndex, policy));
}
