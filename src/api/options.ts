// What startApiServer() is given, and the defaults for every limit a caller leaves out.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ReplicaApi } from '../node/types.js';
import type { ApiObserver } from './calls.js';

export interface ApiAuthOptions {
  /** HMAC key for session tokens; every replica of a cluster must use the same one (≥ 16 bytes). */
  tokenKey: Uint8Array;
  tokenTtlMs: number;
  /** When set, AddMember/RemoveMember/TransferLeadership need `authorization: Bearer <adminToken>`. */
  adminToken?: string;
}

export interface ApiLimits {
  /** Largest message body accepted by SendMessage, in UTF-8 bytes. */
  maxBodyBytes: number;
  /** Largest request grpc-js accepts at all (larger ones fail with RESOURCE_EXHAUSTED before parsing). */
  maxReceiveBytes: number;
  /** Concurrent Subscribe streams per user on this replica. */
  maxSubscriptionsPerUser: number;
  /** Messages a subscriber may have queued, unsent, before its stream is ended as too slow. */
  maxPendingMessagesPerSubscription: number;
  /** Deadline for proposals and read barriers of calls that carry none. */
  defaultDeadlineMs: number;
  /** How often the health service re-reads replica.isCaughtUp(). */
  healthPollIntervalMs: number;
  /**
   * Calls (unary or Subscribe) open at once on one client connection; one more is refused with
   * RESOURCE_EXHAUSTED before any work is done. Must stay above what one client process keeps in
   * flight on purpose (the benchmark: 256 calls over 5 replicas, so about 52 per connection).
   */
  maxInFlightPerConnection: number;
  /** Failed logins one username earns back per minute, on this replica (the throttle is per replica). */
  loginFailuresPerUsernamePerMinute: number;
  /** Failed logins one username may have at once before the per-minute rate applies. */
  loginFailureBurstPerUsername: number;
  /** Failed logins one client address (an IPv6 /64) earns back per minute, on this replica. */
  loginFailuresPerPeerPerMinute: number;
  /** Failed logins one client address may have at once before the per-minute rate applies. */
  loginFailureBurstPerPeer: number;
  /** Usernames, and separately addresses, the login throttle remembers; beyond it the least recently used is forgotten. */
  loginThrottleMaxKeys: number;
}

export interface ApiServerOptions {
  replica: ReplicaApi;
  /** host:port to listen on; port 0 picks a free one (see the returned `port`). */
  address: string;
  auth: ApiAuthOptions;
  limits?: Partial<ApiLimits>;
  /** Defaults to insecure (plaintext); pass grpc.ServerCredentials.createSsl(...) for TLS. */
  credentials?: grpc.ServerCredentials;
  logger: Logger;
  /** Told of every finished call (for grpc_server_handled_total and friends). */
  observer?: ApiObserver;
  /**
   * Server interceptors (the metrics interceptor goes here). grpc-js wraps them around the call in
   * order, so the first is the innermost, nearest the transport; the API's own in-flight limit runs
   * after all of them, so they see its refusals.
   */
  interceptors?: grpc.ServerInterceptor[];
  /** The clock the login throttle reads, ms since epoch; Date.now by default (tests inject one). */
  nowMs?: () => number;
}

const defaultMaxBodyBytes = 64 * 1024;

/** Every limit's default (for flags and docs that show them). */
export function defaultLimits(): ApiLimits {
  return resolveLimits();
}

export function resolveLimits(limits: Partial<ApiLimits> = {}): ApiLimits {
  const maxBodyBytes = limits.maxBodyBytes ?? defaultMaxBodyBytes;
  const resolved: ApiLimits = {
    maxBodyBytes,
    // Headroom over the body for the other fields, so an oversize body reaches our own check and
    // the caller is told which field is too large.
    maxReceiveBytes: limits.maxReceiveBytes ?? 2 * maxBodyBytes + 64 * 1024,
    maxSubscriptionsPerUser: limits.maxSubscriptionsPerUser ?? 16,
    maxPendingMessagesPerSubscription: limits.maxPendingMessagesPerSubscription ?? 1024,
    defaultDeadlineMs: limits.defaultDeadlineMs ?? 10_000,
    healthPollIntervalMs: limits.healthPollIntervalMs ?? 250,
    maxInFlightPerConnection: limits.maxInFlightPerConnection ?? 256,
    // Guessing one account's password: 10 tries at once, then one every 12 s (7,200 a day at most,
    // per replica — hopeless against any password the registration policy accepts).
    loginFailuresPerUsernamePerMinute: limits.loginFailuresPerUsernamePerMinute ?? 5,
    loginFailureBurstPerUsername: limits.loginFailureBurstPerUsername ?? 10,
    // Spraying one password over many accounts from one address. Successful logins never count, so
    // a gateway or NAT in front of many honest users is not throttled by their traffic.
    loginFailuresPerPeerPerMinute: limits.loginFailuresPerPeerPerMinute ?? 20,
    loginFailureBurstPerPeer: limits.loginFailureBurstPerPeer ?? 40,
    // Two maps of at most this many small entries (~100 bytes each): a few MB however many names are sprayed.
    loginThrottleMaxKeys: limits.loginThrottleMaxKeys ?? 10_000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}
