// The names of the abuse limits the client API enforces (the `limit` label of
// raftchat_api_limit_exceeded_total) and the error a call refused by one of them fails with.
import { status, Metadata } from '@grpc/grpc-js';
import { ApiError } from './errors.js';
import { retryInfoStatus, statusDetailsKey } from './retry-info.js';

/** Every limit, one label value each: a fixed list, so the metric's label set stays bounded. */
export const limitNames = [
  /** A request larger than grpc.max_receive_message_length (refused by grpc-js before parsing). */
  'max_receive_bytes',
  'body_bytes',
  'username_length',
  'password_length',
  'request_id_length',
  'pattern_length',
  'page_size',
  'ids_count',
  'subscriptions_per_user',
  'subscription_backlog',
  'inflight_per_connection',
  'login_throttle_username',
  'login_throttle_peer',
] as const;
export type LimitName = (typeof limitNames)[number];

/** The trailer that tells a refused client how long to wait, in whole seconds (as HTTP's Retry-After). */
export const retryAfterKey = 'retry-after';

/** RESOURCE_EXHAUSTED because of `limit`; with retry-after trailers when waiting is what helps. */
export class LimitExceededError extends ApiError {
  readonly limit: LimitName;
  /** Whole seconds until a retry can succeed; undefined when waiting alone does not help. */
  readonly retryAfterSeconds: number | undefined;

  constructor(limit: LimitName, message: string, retryAfterSeconds?: number) {
    const retry = retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(retryAfterSeconds));
    // The hint in the text mirrors google.rpc.RetryInfo, for clients that read only the message.
    super(status.RESOURCE_EXHAUSTED, retry === undefined ? message : `${message}; retry after ${retry} s (RetryInfo retry_delay: ${retry}s)`);
    this.limit = limit;
    this.retryAfterSeconds = retry;
  }

  /**
   * Trailers for the refusal when there is a time to wait: `retry-after: <seconds>`, and the same
   * as a google.rpc.RetryInfo in `grpc-status-details-bin` for clients that decode status details.
   */
  override trailers(): Metadata | undefined {
    if (this.retryAfterSeconds === undefined) return undefined;
    const metadata = new Metadata();
    metadata.set(retryAfterKey, String(this.retryAfterSeconds));
    metadata.set(statusDetailsKey, retryInfoStatus(this.code, this.message, this.retryAfterSeconds));
    return metadata;
  }
}

/** Told when a request is refused by one of the limits above. Must not throw. */
export type LimitListener = (limit: LimitName) => void;
