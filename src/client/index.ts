// The raftchat client library: a failover-aware client for ChatService and ClusterService.
export { RaftchatClient, DEFAULT_DEADLINE_MS, DEFAULT_ATTEMPT_TIMEOUT_MS } from './client.js';
export type { RaftchatClientOptions, CallOptions, ReadOptions } from './client.js';
export type { RetryEvent } from './failover.js';
export type { WatchOptions } from './watch.js';
export { RaftchatCallError, isServiceError, toCallError } from './errors.js';
export { DEFAULT_BACKOFF, backoffCeilingMs, fullJitterDelayMs } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { isRetryableCode, isFatalStreamCode } from './retry-policy.js';
export type { Idempotency } from './retry-policy.js';
export { parseServerList, parseServerAddress, InvalidServerAddressError } from './servers.js';
export type { Message, GetStatusResponse, GetDigestResponse, Member } from '../gen/chat/v1/chat.js';
