// A verifying chat workload: several users, concurrent senders that each start on a different
// replica, and a live subscriber per user. It records every send's outcome so a checker can prove
// afterwards that nothing acknowledged was lost or duplicated and every subscriber saw its inbox.
import { randomUUID } from 'node:crypto';
import { status, type ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RaftchatCallError, RaftchatClient, toCallError, type Message } from '../client/index.js';
import {
  type SendOutcome,
  type SendRecord,
  type SubscriberRecord,
  type WorkloadCounters,
  type WorkloadResult,
  type WorkloadUser,
} from './workload-records.js';

export interface WorkloadOptions {
  /** Client-port credentials: TLS when the cluster's client port uses it (default plaintext). */
  credentials?: ChannelCredentials;
  /** Client addresses (`host:port`) of the replicas. Sender w starts on servers[w mod n]. */
  servers: readonly string[];
  /** Accounts created for this run (default 3). */
  users?: number;
  /** Concurrent send loops (default 4); sender w sends as user w mod users. */
  senders?: number;
  /** One live watch() per user (default true). */
  subscribe?: boolean;
  /** Overall budget of one send, retries included (default 5 000 ms). */
  sendDeadlineMs?: number;
  /** One attempt of a send before trying the next replica (default 1 000 ms). */
  attemptTimeoutMs?: number;
  /** Pause of a sender between two sends (default 5 ms) — keeps two cores shared fairly. */
  pauseBetweenSendsMs?: number;
  /** Budget for registering and logging in the users (default 30 000 ms). */
  setupDeadlineMs?: number;
  /** How long stop() waits for subscribers to catch up with the last acknowledged message (default 20 000 ms). */
  drainTimeoutMs?: number;
  /** Prefix of usernames and request ids; unique per run so runs on one cluster do not mix. */
  runId?: string;
  /** Picks recipients; tests may pin it. */
  random?: () => number;
  logger?: Logger;
}

const DEFINITE_REFUSALS: ReadonlySet<status> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
]);

const PASSWORD = 'chaos-workload-password';

export class Workload {
  readonly runId: string;
  private readonly options: Required<Omit<WorkloadOptions, 'logger' | 'runId' | 'credentials'>> & Pick<WorkloadOptions, 'credentials'>;
  private readonly logger: Logger | undefined;
  private readonly accounts: WorkloadUser[] = [];
  private readonly sends: SendRecord[] = [];
  private readonly subscribers: SubscriberRecord[] = [];
  private readonly clients: RaftchatClient[] = [];
  private readonly watches: Promise<void>[] = [];
  private readonly senderLoops: Promise<void>[] = [];
  private readonly stopSubscribers = new AbortController();
  private stopping = false;
  private started = false;
  private startedAtMs = 0;
  private inFlight = 0;
  private lastAcknowledgedAtMs = 0;

  constructor(options: WorkloadOptions) {
    if (options.servers.length === 0) throw new RangeError('a workload needs at least one server');
    this.runId = options.runId ?? `w${randomUUID().slice(0, 8)}`;
    this.logger = options.logger;
    this.options = {
      servers: options.servers,
      users: options.users ?? 3,
      senders: options.senders ?? 4,
      subscribe: options.subscribe ?? true,
      sendDeadlineMs: options.sendDeadlineMs ?? 5_000,
      attemptTimeoutMs: options.attemptTimeoutMs ?? 1_000,
      pauseBetweenSendsMs: options.pauseBetweenSendsMs ?? 5,
      setupDeadlineMs: options.setupDeadlineMs ?? 30_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 20_000,
      random: options.random ?? Math.random,
      credentials: options.credentials,
    };
  }

  /** Registers and logs in the users, opens the subscribers, then starts the senders. */
  async start(): Promise<void> {
    if (this.started) throw new Error('workload already started');
    this.started = true;
    for (let u = 0; u < this.options.users; u++) this.accounts.push(await this.createUser(`${this.runId}-u${u}`, u));
    if (this.options.subscribe) for (const [u, user] of this.accounts.entries()) this.subscribe(user, u);
    this.startedAtMs = Date.now();
    for (let w = 0; w < this.options.senders; w++) this.senderLoops.push(this.sendLoop(w));
  }

  counters(): WorkloadCounters {
    const count = (outcome: SendOutcome): number => this.sends.filter((s) => s.outcome === outcome).length;
    return {
      started: this.sends.length + this.inFlight,
      acknowledged: count('acknowledged'),
      uncertain: count('uncertain'),
      rejected: count('rejected'),
      inFlight: this.inFlight,
      delivered: this.subscribers.reduce((sum, s) => sum + s.delivered.length, 0),
      lastAcknowledgedAtMs: this.lastAcknowledgedAtMs,
    };
  }

  /** The workload's accounts and their session tokens (empty before start()). */
  users(): WorkloadUser[] {
    return this.accounts.map((u) => ({ ...u }));
  }

  /** The sends finished so far (a snapshot; the workload keeps appending while it runs). */
  records(): readonly SendRecord[] {
    return [...this.sends];
  }

  /** Resolves once `count` more sends than now have been acknowledged; rejects after `timeoutMs`. */
  async waitForMoreAcknowledged(count: number, timeoutMs: number): Promise<void> {
    const target = this.counters().acknowledged + count;
    const giveUpAtMs = Date.now() + timeoutMs;
    while (this.counters().acknowledged < target) {
      if (Date.now() >= giveUpAtMs) {
        const c = this.counters();
        throw new Error(
          `workload: ${c.acknowledged}/${target} sends acknowledged after ${timeoutMs} ms (${c.uncertain} uncertain, ${c.rejected} rejected)`,
        );
      }
      await delay(20);
    }
  }

  /**
   * Stops sending (in-flight sends run to their end, so every outcome is known), waits until each
   * subscriber has seen the newest acknowledged message addressed to it (or drainTimeoutMs), then
   * closes every stream and channel.
   */
  async stop(): Promise<WorkloadResult> {
    this.stopping = true;
    await Promise.all(this.senderLoops);
    const stoppedAtMs = Date.now();
    await this.drainSubscribers();
    this.stopSubscribers.abort();
    await Promise.all(this.watches);
    for (const client of this.clients) client.close();
    return {
      users: this.users(),
      sends: [...this.sends],
      subscribers: this.subscribers.map((s) => ({ ...s, delivered: [...s.delivered] })),
      startedAtMs: this.startedAtMs,
      stoppedAtMs,
    };
  }

  private newClient(first: number, token?: string): RaftchatClient {
    const servers = this.options.servers;
    const rotated = servers.map((_, i) => servers[(first + i) % servers.length]!);
    const client = new RaftchatClient({
      servers: rotated,
      token,
      deadlineMs: this.options.sendDeadlineMs,
      attemptTimeoutMs: this.options.attemptTimeoutMs,
      backoff: { baseDelayMs: 25, maxDelayMs: 500 },
      ...(this.options.credentials !== undefined ? { credentials: this.options.credentials } : {}),
      onRetry: (event) =>
        this.logger?.debug({ from: event.failedServer, to: event.server, code: event.error.codeName }, 'workload retry'),
    });
    this.clients.push(client);
    return client;
  }

  private async createUser(username: string, index: number): Promise<WorkloadUser> {
    const client = this.newClient(index);
    const options = { deadlineMs: this.options.setupDeadlineMs };
    try {
      await client.register({ username, password: PASSWORD }, options);
    } catch (error) {
      // A register whose reply was lost and then retried says ALREADY_EXISTS: the name is ours.
      if (!(error instanceof RaftchatCallError && error.code === status.ALREADY_EXISTS)) throw error;
    }
    const login = await client.login({ username, password: PASSWORD }, options);
    return { username, token: login.token };
  }

  private subscribe(user: WorkloadUser, index: number): void {
    const record: SubscriberRecord = { user: user.username, delivered: [] };
    this.subscribers.push(record);
    // Subscribers start on a different replica than the sender of the same index.
    const client = this.newClient(index + 1, user.token);
    const onMessage = (m: Message): void => {
      record.delivered.push({ id: m.id, sender: m.sender, recipient: m.recipient, body: m.body });
    };
    this.watches.push(
      client.watch({ afterId: 0, onMessage, signal: this.stopSubscribers.signal }).then(
        () => undefined,
        (error: unknown) => {
          record.failure = toCallError(error, undefined, 1).message;
          this.logger?.warn({ user: user.username, err: error }, 'workload subscriber ended with an error');
        },
      ),
    );
  }

  private async sendLoop(worker: number): Promise<void> {
    const sender = this.accounts[worker % this.accounts.length]!;
    const client = this.newClient(worker, sender.token);
    const firstServer = client.servers[0]!;
    for (let seq = 0; !this.stopping; seq++) {
      const requestId = `${this.runId}-s${worker}-${seq}`;
      const recipient = this.accounts[Math.floor(this.options.random() * this.accounts.length)]!.username;
      const record = await this.sendOne(client, { requestId, sender: sender.username, recipient, firstServer });
      this.sends.push(record);
      const pauseMs = record.outcome === 'acknowledged' ? this.options.pauseBetweenSendsMs : 50;
      if (pauseMs > 0) await delay(pauseMs);
    }
  }

  private async sendOne(
    client: RaftchatClient,
    send: { requestId: string; sender: string; recipient: string; firstServer: string },
  ): Promise<SendRecord> {
    const startedAtMs = Date.now();
    this.inFlight++;
    try {
      const reply = await client.sendMessage({ recipient: send.recipient, body: send.requestId, requestId: send.requestId });
      const endedAtMs = Date.now();
      this.lastAcknowledgedAtMs = endedAtMs;
      return { ...send, startedAtMs, endedAtMs, outcome: 'acknowledged', id: reply.message?.id ?? 0 };
    } catch (caught) {
      const error = toCallError(caught, undefined, 1);
      // Only a first-attempt refusal that means "not done" is certain; after any retry the send
      // may have been proposed by an earlier attempt.
      const outcome: SendOutcome = DEFINITE_REFUSALS.has(error.code) && error.attempts <= 1 ? 'rejected' : 'uncertain';
      return { ...send, startedAtMs, endedAtMs: Date.now(), outcome, errorCode: error.codeName, errorMessage: error.message };
    } finally {
      this.inFlight--;
    }
  }

  private async drainSubscribers(): Promise<void> {
    const newestFor = new Map<string, number>();
    for (const s of this.sends) {
      if (s.outcome === 'acknowledged' && s.id !== undefined) newestFor.set(s.recipient, Math.max(newestFor.get(s.recipient) ?? 0, s.id));
    }
    const caughtUp = (): boolean =>
      this.subscribers.every((sub) => {
        if (sub.failure !== undefined) return true;
        const newest = newestFor.get(sub.user);
        return newest === undefined || sub.delivered.some((m) => m.id >= newest);
      });
    const giveUpAtMs = Date.now() + this.options.drainTimeoutMs;
    while (!caughtUp() && Date.now() < giveUpAtMs) await delay(20);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
