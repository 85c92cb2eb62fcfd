// RaftchatClient: every ChatService and ClusterService call, over a list of replicas. It fails
// over by itself — UNAVAILABLE and dead connections move to the next server after a jittered
// back-off, within one overall deadline per call — and makes SendMessage safe to retry by always
// sending a request_id.
import { randomUUID } from 'node:crypto';
import { Metadata, status, type ChannelCredentials } from '@grpc/grpc-js';
import {
  ReadConsistency,
  type AddMemberResponse,
  type DeleteAccountResponse,
  type DeleteMessagesResponse,
  type GetDigestResponse,
  type GetStatusResponse,
  type ListAccountsResponse,
  type ListMessagesResponse,
  type LoginResponse,
  type LogoutResponse,
  type MarkReadResponse,
  type RegisterResponse,
  type RemoveMemberResponse,
  type SendMessageResponse,
  type TransferLeadershipResponse,
} from '../gen/chat/v1/chat.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { ChannelPool } from './channels.js';
import { RaftchatCallError, toCallError } from './errors.js';
import { callWithFailover, type FailoverSettings, type RetryEvent } from './failover.js';
import type { Idempotency } from './retry-policy.js';
import { ServerRing } from './servers.js';
import { sleepMs } from './sleep.js';
import { invokeUnary, type UnaryMethod } from './unary.js';
import { watchInbox, type WatchOptions } from './watch.js';

export interface RaftchatClientOptions {
  /** `host:port` of every replica the client may use, in preference order. */
  servers: readonly string[];
  /** A session token from Login, sent as `authorization: Bearer <token>`. */
  token?: string;
  /** Sent instead of the session token on AddMember, RemoveMember and TransferLeadership when set. */
  adminToken?: string;
  /** Overall budget of one call, every retry included (default 10 000 ms). */
  deadlineMs?: number;
  /** Longest a single attempt of an idempotent call may take before the next server is tried (default 3 000 ms). */
  attemptTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** Told about every retry before its wait, e.g. to print "retrying on … in 240 ms". */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter in [0, 1]; tests pin it. */
  random?: () => number;
  /** Default: insecure (plaintext) channels. */
  credentials?: ChannelCredentials;
}

export interface CallOptions {
  /** Overrides the client's deadlineMs for this call. */
  deadlineMs?: number;
  /** Cancels the call and any retries (the call then fails with CANCELLED). */
  signal?: AbortSignal;
}

export interface ReadOptions {
  /** Answer from the replica's applied state without a quorum round (may be behind). */
  stale?: boolean;
}

/** Which bearer token a call carries. */
type Credential = 'session' | 'admin';

export const DEFAULT_DEADLINE_MS = 10_000;
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 3_000;

export class RaftchatClient {
  readonly servers: readonly string[];
  private token: string | undefined;
  private readonly adminToken: string | undefined;
  private readonly deadlineMs: number;
  private readonly failover: FailoverSettings;
  private readonly channels: ChannelPool;

  constructor(options: RaftchatClientOptions) {
    const ring = new ServerRing(options.servers);
    this.servers = ring.servers;
    this.token = options.token;
    this.adminToken = options.adminToken;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.channels = new ChannelPool(options.credentials);
    this.failover = {
      ring,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      attemptTimeoutMs: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
      random: options.random ?? Math.random,
      onRetry: options.onRetry,
    };
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  getToken(): string | undefined {
    return this.token;
  }

  /** Closes every channel; the client is unusable afterwards. */
  close(): void {
    this.channels.close();
  }

  // --- ChatService -------------------------------------------------------------------------

  /** Not retried except on UNAVAILABLE: a repeat after a lost reply would say ALREADY_EXISTS. */
  register(request: { username: string; password: string }, options?: CallOptions): Promise<RegisterResponse> {
    return this.chatCall('unsafe', (c) => c.register.bind(c), request, options);
  }

  /** Logs in and keeps the token for the calls that follow. */
  async login(request: { username: string; password: string }, options?: CallOptions): Promise<LoginResponse> {
    const response = await this.chatCall('idempotent', (c) => c.login.bind(c), request, options);
    this.token = response.token;
    return response;
  }

  logout(request: { allSessions?: boolean } = {}, options?: CallOptions): Promise<LogoutResponse> {
    return this.chatCall('idempotent', (c) => c.logout.bind(c), { allSessions: request.allSessions ?? false }, options);
  }

  listAccounts(
    request: { pattern?: string; pageSize?: number; pageToken?: string } & ReadOptions = {},
    options?: CallOptions,
  ): Promise<ListAccountsResponse> {
    const message = {
      pattern: request.pattern ?? '',
      pageSize: request.pageSize ?? 0,
      pageToken: request.pageToken ?? '',
      consistency: consistencyOf(request),
    };
    return this.chatCall('idempotent', (c) => c.listAccounts.bind(c), message, options);
  }

  /**
   * Sends a message. A request_id is generated when none is given and reused by every retry, so
   * a send retried after a lost reply returns the first result (`duplicate: true`), never a copy.
   */
  sendMessage(
    request: { recipient: string; body: string; requestId?: string },
    options?: CallOptions,
  ): Promise<SendMessageResponse> {
    const message = { recipient: request.recipient, body: request.body, requestId: request.requestId || randomUUID() };
    return this.chatCall('idempotent', (c) => c.sendMessage.bind(c), message, options);
  }

  listMessages(
    request: { unreadOnly?: boolean; afterId?: number; limit?: number } & ReadOptions = {},
    options?: CallOptions,
  ): Promise<ListMessagesResponse> {
    const message = {
      unreadOnly: request.unreadOnly ?? false,
      afterId: request.afterId ?? 0,
      limit: request.limit ?? 0,
      consistency: consistencyOf(request),
    };
    return this.chatCall('idempotent', (c) => c.listMessages.bind(c), message, options);
  }

  markRead(request: { ids: readonly number[] }, options?: CallOptions): Promise<MarkReadResponse> {
    return this.chatCall('idempotent', (c) => c.markRead.bind(c), { ids: [...request.ids] }, options);
  }

  deleteMessages(request: { ids: readonly number[] }, options?: CallOptions): Promise<DeleteMessagesResponse> {
    return this.chatCall('idempotent', (c) => c.deleteMessages.bind(c), { ids: [...request.ids] }, options);
  }

  deleteAccount(request: { password: string }, options?: CallOptions): Promise<DeleteAccountResponse> {
    return this.chatCall('unsafe', (c) => c.deleteAccount.bind(c), request, options);
  }

  /**
   * Streams the inbox (id > afterId, then live messages) until `signal` aborts, failing over
   * across servers; resolves with the last id delivered.
   */
  watch(options: WatchOptions): Promise<number> {
    return watchInbox(
      {
        ring: this.failover.ring,
        backoff: this.failover.backoff,
        random: this.failover.random,
        chat: (server) => this.channels.chat(server),
        metadata: () => this.metadata(),
        onRetry: this.failover.onRetry,
      },
      options,
    );
  }

  // --- ClusterService ----------------------------------------------------------------------

  /** The status of whichever server answers first. */
  getStatus(options?: CallOptions): Promise<GetStatusResponse> {
    return this.clusterCall('idempotent', (c) => c.getStatus.bind(c), {}, options);
  }

  /** One server's own status, with no failover (for per-replica views). */
  statusOf(server: string, options?: CallOptions): Promise<GetStatusResponse> {
    return this.singleServerCall(server, (c) => c.getStatus.bind(c), {}, options);
  }

  getDigest(options?: CallOptions): Promise<GetDigestResponse> {
    return this.clusterCall('idempotent', (c) => c.getDigest.bind(c), {}, options);
  }

  /** One server's digest, with no failover. */
  digestOf(server: string, options?: CallOptions): Promise<GetDigestResponse> {
    return this.singleServerCall(server, (c) => c.getDigest.bind(c), {}, options);
  }

  addMember(
    request: { id: string; peerAddress: string; clientAddress: string; asLearner?: boolean; incarnation?: string },
    options?: CallOptions,
  ): Promise<AddMemberResponse> {
    const message = { ...request, asLearner: request.asLearner ?? false, incarnation: request.incarnation ?? '' };
    return this.clusterCall('unsafe', (c) => c.addMember.bind(c), message, options, 'admin');
  }

  removeMember(request: { id: string }, options?: CallOptions): Promise<RemoveMemberResponse> {
    return this.clusterCall('unsafe', (c) => c.removeMember.bind(c), request, options, 'admin');
  }

  transferLeadership(request: { toId?: string } = {}, options?: CallOptions): Promise<TransferLeadershipResponse> {
    const message = { toId: request.toId ?? '' };
    return this.clusterCall('idempotent', (c) => c.transferLeadership.bind(c), message, options, 'admin');
  }

  /**
   * Polls GetStatus across the servers until one reports a leader, and returns that status.
   * DEADLINE_EXCEEDED after `deadlineMs` (default: the client's deadline).
   */
  async waitForLeader(options: CallOptions & { pollIntervalMs?: number } = {}): Promise<GetStatusResponse> {
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const giveUpAtMs = Date.now() + deadlineMs;
    const pollIntervalMs = options.pollIntervalMs ?? 100;
    let lastError: RaftchatCallError | undefined;
    while (Date.now() < giveUpAtMs) {
      for (const server of this.servers) {
        if (options.signal?.aborted === true) {
          throw new RaftchatCallError(status.CANCELLED, 'cancelled by the caller', { server });
        }
        const remainingMs = giveUpAtMs - Date.now();
        if (remainingMs <= 0) break;
        const attemptMs = Math.min(remainingMs, 1_000);
        try {
          const reply = await this.statusOf(server, { deadlineMs: attemptMs, signal: options.signal });
          if (reply.leaderId !== '') return reply;
        } catch (error) {
          const callError = toCallError(error, server, 1);
          // As in callWithFailover: a poll cut off by the overall deadline does not replace the
          // error that explains the wait.
          const cutOff = callError.code === status.DEADLINE_EXCEEDED && attemptMs === remainingMs;
          if (!cutOff || lastError === undefined) lastError = callError;
        }
      }
      await sleepMs(Math.min(pollIntervalMs, giveUpAtMs - Date.now()), options.signal);
    }
    const last = lastError === undefined ? '' : `; last error: ${lastError.message}`;
    throw new RaftchatCallError(status.DEADLINE_EXCEEDED, `no leader elected within ${deadlineMs} ms${last}`, {
      cause: lastError,
    });
  }

  // --- plumbing ----------------------------------------------------------------------------

  private metadata(credential: Credential = 'session'): Metadata {
    const metadata = new Metadata();
    const token = credential === 'admin' && this.adminToken ? this.adminToken : this.token;
    if (token !== undefined && token !== '') metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  private chatCall<Request, Response>(
    idempotency: Idempotency,
    pick: (stub: ReturnType<ChannelPool['chat']>) => UnaryMethod<Request, Response>,
    request: Request,
    options: CallOptions | undefined,
  ): Promise<Response> {
    return this.failoverCall(idempotency, (server) => pick(this.channels.chat(server)), request, options);
  }

  private clusterCall<Request, Response>(
    idempotency: Idempotency,
    pick: (stub: ReturnType<ChannelPool['cluster']>) => UnaryMethod<Request, Response>,
    request: Request,
    options: CallOptions | undefined,
    credential: Credential = 'session',
  ): Promise<Response> {
    return this.failoverCall(idempotency, (server) => pick(this.channels.cluster(server)), request, options, credential);
  }

  private failoverCall<Request, Response>(
    idempotency: Idempotency,
    methodOn: (server: string) => UnaryMethod<Request, Response>,
    request: Request,
    options: CallOptions | undefined,
    credential: Credential = 'session',
  ): Promise<Response> {
    return callWithFailover(this.failover, {
      idempotency,
      deadlineMs: options?.deadlineMs ?? this.deadlineMs,
      signal: options?.signal,
      attempt: (server, deadline, signal) => invokeUnary(methodOn(server), request, this.metadata(credential), deadline, signal),
    });
  }

  private async singleServerCall<Request, Response>(
    server: string,
    pick: (stub: ReturnType<ChannelPool['cluster']>) => UnaryMethod<Request, Response>,
    request: Request,
    options: CallOptions | undefined,
  ): Promise<Response> {
    const deadline = new Date(Date.now() + (options?.deadlineMs ?? this.deadlineMs));
    try {
      return await invokeUnary(pick(this.channels.cluster(server)), request, this.metadata(), deadline, options?.signal);
    } catch (error) {
      throw toCallError(error, server, 1);
    }
  }
}

function consistencyOf(options: ReadOptions): ReadConsistency {
  return options.stale === true ? ReadConsistency.READ_CONSISTENCY_STALE : ReadConsistency.READ_CONSISTENCY_LINEARIZABLE;
}
