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
  /** Server interceptors, outermost first (the metrics interceptor goes here). */
  interceptors?: grpc.ServerInterceptor[];
}

const defaultMaxBodyBytes = 64 * 1024;

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
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}
