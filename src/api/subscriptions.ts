// The live Subscribe streams of this server, by user. One listener per replica event fans out to the
// streams of the one user it concerns, so a message costs O(that user's streams), not O(all streams),
// and the replica's emitter never holds more than three listeners of ours.
import { status } from '@grpc/grpc-js';
import type { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { ReplicaApi } from '../node/types.js';
import { ApiError } from './errors.js';
import { LimitExceededError } from './limits.js';

/** What a stream is told; each call must return quickly and never throw. */
export interface SubscriptionSink {
  /** A message to this user was applied. */
  message(message: StoredMessage): void;
  accountDeleted(): void;
  /** Some session of this user was revoked; maybe this stream's own. */
  sessionsRevoked(): void;
  /** A snapshot replaced the keyspace: re-read what it may have brought, and re-check the session. */
  resync(): void;
  /** The server is shutting down. */
  shutdown(): void;
}

export class SubscriptionHub {
  private readonly sinksByUser = new Map<string, Set<SubscriptionSink>>();
  private total = 0;
  private closed = false;

  constructor(
    private readonly replica: ReplicaApi,
    private readonly maxPerUser: number,
  ) {
    replica.events.on('message', this.onMessage);
    replica.events.on('accountDeleted', this.onAccountDeleted);
    replica.events.on('sessionsRevoked', this.onSessionsRevoked);
    replica.events.on('snapshotInstalled', this.onSnapshotInstalled);
  }

  /** Adds a stream of `username`; the returned remove is idempotent. RESOURCE_EXHAUSTED when full. */
  add(username: string, sink: SubscriptionSink): () => void {
    if (this.closed) throw new ApiError(status.UNAVAILABLE, 'the server is shutting down; subscribe to another replica (safe to retry)');
    let sinks = this.sinksByUser.get(username);
    if (sinks === undefined) {
      sinks = new Set();
      this.sinksByUser.set(username, sinks);
    }
    if (sinks.size >= this.maxPerUser) {
      throw new LimitExceededError('subscriptions_per_user', `at most ${this.maxPerUser} Subscribe streams per user: close one first`);
    }
    sinks.add(sink);
    this.total++;
    return () => {
      if (!sinks.delete(sink)) return;
      this.total--;
      if (sinks.size === 0 && this.sinksByUser.get(username) === sinks) this.sinksByUser.delete(username);
    };
  }

  /** Live streams of `username`, or of everyone (for metrics and tests). */
  streams(username?: string): number {
    return username === undefined ? this.total : (this.sinksByUser.get(username)?.size ?? 0);
  }

  /** Stops listening to the replica and tells every stream to end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.replica.events.off('message', this.onMessage);
    this.replica.events.off('accountDeleted', this.onAccountDeleted);
    this.replica.events.off('sessionsRevoked', this.onSessionsRevoked);
    this.replica.events.off('snapshotInstalled', this.onSnapshotInstalled);
    for (const sink of this.everySink()) sink.shutdown();
  }

  private everySink(username?: string): SubscriptionSink[] {
    if (username !== undefined) return [...(this.sinksByUser.get(username) ?? [])];
    return [...this.sinksByUser.values()].flatMap((sinks) => [...sinks]);
  }

  // Copies first: a sink may remove itself while being told.
  private readonly onMessage = (message: StoredMessage): void => {
    for (const sink of this.everySink(message.recipient)) sink.message(message);
  };

  private readonly onAccountDeleted = (username: string): void => {
    for (const sink of this.everySink(username)) sink.accountDeleted();
  };

  private readonly onSessionsRevoked = (username: string): void => {
    for (const sink of this.everySink(username)) sink.sessionsRevoked();
  };

  private readonly onSnapshotInstalled = (): void => {
    for (const sink of this.everySink()) sink.resync();
  };
}
