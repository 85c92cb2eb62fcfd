// Exponential back-off with jitter for reconnecting to a peer: the delay doubles from minMs up to
// maxMs, and each wait is drawn from [delay/2, delay) so replicas that lost a peer together do not
// all knock on its door at the same instant.

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempts = 0;

  constructor(options: BackoffOptions) {
    this.minMs = options.minMs;
    this.maxMs = options.maxMs;
    this.random = options.random ?? Math.random;
  }

  /** The wait before the next attempt; each call doubles the base delay up to maxMs. */
  nextDelayMs(): number {
    const delayMs = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return delayMs / 2 + (this.random() * delayMs) / 2;
  }

  /** Called once a connection proved healthy. */
  reset(): void {
    this.attempts = 0;
  }
}
