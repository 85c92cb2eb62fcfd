// Subscribe: replay the caller's inbox after after_id, then stream new messages as they are applied,
// with no gap and no duplicate between the two. The stream joins the hub (and starts buffering)
// before the replay reads anything; the buffer is flushed after the replay, skipping what it sent.
import { status, type ServerWritableStream, type handleServerStreamingCall } from '@grpc/grpc-js';
import { listMessages } from '../chat/queries.js';
import { MAX_PAGE_SIZE } from '../chat/validation.js';
import type { Message, SubscribeRequest } from '../gen/chat/v1/chat.js';
import type { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { ChatServiceDeps } from './chat-service.js';
import { callDeadlineMs } from './calls.js';
import { toMessage } from './commands.js';
import type { StatusResponse } from './errors.js';
import { LimitExceededError } from './limits.js';
import type { SubscriptionSink } from './subscriptions.js';
import type { TokenClaims } from './tokens.js';
import * as check from './validate.js';
import { requireDecoded } from './malformed.js';

const method = 'chat.v1.ChatService/Subscribe';

export function subscribeHandler(deps: ChatServiceDeps): handleServerStreamingCall<SubscribeRequest, Message> {
  return (call) => {
    void new Subscription(call, deps).run();
  };
}

class Subscription implements SubscriptionSink {
  /** Messages applied while the replay ran; sent after it, in order. */
  private buffer: StoredMessage[] = [];
  private live = false;
  private resyncAgain = false;
  private ended = false;
  private lastSentId = 0;
  private session: TokenClaims | undefined;
  private leaveHub: () => void = () => undefined;
  private wakeWriter: () => void = () => undefined;
  private readonly reportEnd: (code: status) => void;

  constructor(
    private readonly call: ServerWritableStream<SubscribeRequest, Message>,
    private readonly deps: ChatServiceDeps,
  ) {
    this.reportEnd = deps.calls.startTimer('chat.v1.ChatService', 'Subscribe');
  }

  async run(): Promise<void> {
    const { replica, auth, limits } = this.deps;
    this.call.on('cancelled', () => this.finish(undefined));
    this.call.on('close', () => this.finish(undefined));
    try {
      requireDecoded(this.call.request);
      this.lastSentId = check.afterId('after_id', this.call.request.afterId);
      // The stream's deadline bounds its whole life; the setup gets the default one at most.
      const callDeadline = callDeadlineMs(this.call.getDeadline(), limits.defaultDeadlineMs);
      const setupDeadlineMs = Math.min(callDeadline, Date.now() + limits.defaultDeadlineMs);
      const session = await auth.authenticate(this.call.metadata, setupDeadlineMs);
      if (this.ended) return;
      this.session = session;
      // Join first: anything applied from here on is either in the replay or in the buffer.
      this.leaveHub = this.deps.subscriptions.add(session.username, this);
      await replica.readBarrier({ deadlineMs: setupDeadlineMs });
      // A deletion or logout applied between the first check and joining the hub sent no event here.
      await auth.checkSession(session);
      await this.replay(session.username);
      while (!this.ended && this.buffer.length > 0) await this.send(this.buffer.shift()!);
      this.buffer = [];
      this.live = true;
    } catch (err) {
      this.finish(this.deps.calls.toStatus(err, method));
    }
  }

  message(message: StoredMessage): void {
    if (this.ended) return;
    if (!this.live) {
      this.buffer.push(message);
      if (this.buffer.length > this.deps.limits.maxPendingMessagesPerSubscription) this.tooSlow();
      return;
    }
    if (message.id <= this.lastSentId) return;
    this.lastSentId = message.id;
    this.call.write(toMessage(message));
    // grpc-js queues what the client has not taken yet; bound it rather than let it grow.
    if (this.call.writableLength > this.deps.limits.maxPendingMessagesPerSubscription) this.tooSlow();
  }

  accountDeleted(): void {
    this.finish({ code: status.UNAUTHENTICATED, details: 'the account was deleted' });
  }

  sessionsRevoked(): void {
    const session = this.session;
    if (session === undefined || this.ended) return;
    // Another session of the same user may have been the one revoked: re-check this one.
    this.deps.auth.checkSession(session).catch((err: unknown) => this.finish(this.deps.calls.toStatus(err, method)));
  }

  /**
   * Messages that arrived inside a snapshot emitted no events: go back to buffering, replay from the
   * last id sent, then flush — the same no-gap, no-duplicate path as the start of the stream.
   */
  resync(): void {
    const session = this.session;
    if (session === undefined || this.ended) return;
    if (!this.live) {
      this.resyncAgain = true; // a replay is running: run it once more when it ends
      return;
    }
    this.live = false;
    void (async () => {
      try {
        do {
          this.resyncAgain = false;
          await this.deps.auth.checkSession(session);
          await this.replay(session.username);
        } while (this.resyncAgain && !this.ended);
        while (!this.ended && this.buffer.length > 0) await this.send(this.buffer.shift()!);
        this.live = true;
      } catch (err) {
        this.finish(this.deps.calls.toStatus(err, method));
      }
    })();
  }

  shutdown(): void {
    const details = `the server is shutting down; subscribe to another replica with after_id = ${this.lastSentId} (safe to retry)`;
    this.finish({ code: status.UNAVAILABLE, details });
  }

  private async replay(username: string): Promise<void> {
    for (;;) {
      if (this.ended) return;
      const options = { unreadOnly: false, afterId: this.lastSentId, limit: MAX_PAGE_SIZE };
      const page = await listMessages(this.deps.replica.keyspace(), username, options);
      for (const message of page.messages) await this.send(message);
      if (!page.more || page.messages.length === 0) return;
    }
  }

  /** Writes one message unless it was already sent; while the client is slow, waits for it. */
  private async send(message: StoredMessage): Promise<void> {
    if (this.ended || message.id <= this.lastSentId) return;
    this.lastSentId = message.id;
    if (this.call.write(toMessage(message))) return;
    await new Promise<void>((resolve) => {
      this.wakeWriter = resolve;
      this.call.once('drain', resolve);
    });
    this.wakeWriter = () => undefined;
  }

  private tooSlow(): void {
    if (this.ended) return;
    const bound = this.deps.limits.maxPendingMessagesPerSubscription;
    const details = `subscriber too slow: more than ${bound} messages queued; subscribe again with after_id = ${this.lastSentId}`;
    this.finish(this.deps.calls.toStatus(new LimitExceededError('subscription_backlog', details), method));
  }

  /**
   * Ends the stream once: with `result` as its status, or silently when the client went away. A status
   * follows the messages already queued (HTTP/2 keeps order), so a client that never reads again
   * never sees it; the queue is bounded, and keepalive or the client's deadline closes the call.
   */
  private finish(result: StatusResponse | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.leaveHub();
    this.buffer = [];
    this.wakeWriter();
    this.reportEnd(result?.code ?? status.CANCELLED);
    if (result !== undefined && !this.call.cancelled) this.call.emit('error', result);
  }
}
