// Login throttling: failed password checks are rate-limited per username (against guessing one
// account's password) and per client address (against spraying one password over many accounts).
import { KeyedRateLimiter, type RateLimit } from './rate-limiter.js';
import { LimitExceededError } from './limits.js';
import { peerKey } from './peer.js';

export interface LoginThrottleOptions {
  perUsername: RateLimit;
  perPeer: RateLimit;
  /** Keys remembered per limiter; the least recently used is forgotten beyond it. */
  maxKeys: number;
  /** The clock (ms since epoch); injectable so tests move time without sleeping. */
  nowMs: () => number;
}

/** A login attempt that passed the throttle. */
export interface LoginAttempt {
  /** The attempt did not check a password and find it wrong: it does not count. Idempotent. */
  refund(): void;
}

/**
 * The throttle's state is per replica and is not replicated: putting it through Raft would turn
 * every failed login into a consensus write, amplifying the very traffic it is meant to slow down.
 * A client that spreads its attempts over N replicas gets N times the rate; the limits are set with
 * that in mind, and the refusals are counted (raftchat_api_limit_exceeded_total) on each replica.
 *
 * A token is taken before the password is checked, so a thousand concurrent attempts cannot all
 * pass a check made before any of them failed; it is given back unless a password was checked and
 * was wrong. Unknown usernames are throttled exactly like existing ones (same buckets, same error,
 * decided before the account is looked up), so the throttle does not reveal which accounts exist.
 *
 * A successful login gives back its own token but does not reset the username's bucket: a reset
 * would hand a guesser a fresh burst every time the real user logs in, while without it the number
 * of guesses per account stays bounded by burst + perMinute × minutes, whatever the user does.
 */
export class LoginThrottle {
  private readonly byUsername: KeyedRateLimiter;
  private readonly byPeer: KeyedRateLimiter;

  constructor(private readonly options: LoginThrottleOptions) {
    this.byUsername = new KeyedRateLimiter(options.perUsername, options.maxKeys);
    this.byPeer = new KeyedRateLimiter(options.perPeer, options.maxKeys);
  }

  /** Admits an attempt for `username` from `peer` (grpc-js getPeer()), or throws LimitExceededError. */
  begin(username: string, peer: string): LoginAttempt {
    const nowMs = this.options.nowMs();
    const address = peerKey(peer);
    const byPeer = this.byPeer.take(address, nowMs);
    if (!byPeer.allowed) {
      throw new LimitExceededError('login_throttle_peer', 'too many failed logins from this address', byPeer.retryAfterMs / 1000);
    }
    const byUsername = this.byUsername.take(username, nowMs);
    if (!byUsername.allowed) {
      // Refused before any password check: it does not count against the address.
      this.byPeer.refund(address, nowMs);
      throw new LimitExceededError('login_throttle_username', 'too many failed logins for this username', byUsername.retryAfterMs / 1000);
    }
    let refunded = false;
    return {
      refund: () => {
        if (refunded) return;
        refunded = true;
        const refundMs = this.options.nowMs();
        this.byPeer.refund(address, refundMs);
        this.byUsername.refund(username, refundMs);
      },
    };
  }

  /** Keys remembered, per limiter (for memory checks). */
  keys(): { usernames: number; peers: number } {
    return { usernames: this.byUsername.size, peers: this.byPeer.size };
  }
}
