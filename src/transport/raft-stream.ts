// One peer's long-lived client-streaming Raft call. Messages wait in a bounded SendQueue; everything
// queued while the stream was busy (or within one turn of the event loop) leaves together in one
// RaftBatch. write() returning false pauses the pump until 'drain'. A failed call is reported as
// unreachable (raft then probes the follower instead of pipelining to it) and reopened after a
// jittered exponential back-off, once there is something to send.

import type { Client, ClientWritableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { PeerServiceService } from '../gen/raftchat/peer/v1/peer.js';
import type { RaftAck } from '../gen/raftchat/peer/v1/peer.js';
import type { Message, NodeId } from '../raft/types.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { encodeBatch } from './codec.js';
import type { OutgoingBatch } from './codec.js';
import { SendQueue } from './send-queue.js';
import type { SendQueueLimits } from './send-queue.js';
import { TurnFlush } from './turn-flush.js';

export interface RaftStreamOptions {
  peerId: NodeId;
  client: Client;
  clusterId: string;
  /** Fresh call metadata carrying the peer token. */
  metadata: () => Metadata;
  maxBatchBytes: number;
  limits: SendQueueLimits;
  backoff: BackoffOptions;
  logger: Logger;
  onUnreachable: (peerId: NodeId) => void;
}

export interface RaftStreamStats {
  /** The peer accepted the current stream (its headers arrived). */
  connected: boolean;
  queuedMessages: number;
  droppedMessages: number;
  batchesSent: number;
  messagesSent: number;
  /** Calls that ended in an error since the stream was made. */
  failures: number;
}

/** How long close() lets a half-closed call finish before cancelling it. */
const CLOSE_GRACE_MS = 1_000;

export class RaftStream {
  private readonly queue: SendQueue;
  private readonly backoff: Backoff;
  private call: ClientWritableStream<OutgoingBatch> | undefined;
  private callEnded: Promise<void> = Promise.resolve();
  private blocked = false;
  /** Every send() of this event-loop turn goes out in one flush: one batch instead of many. */
  private readonly flushAtTurnEnd = new TurnFlush(() => this.flush());
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private connected = false;
  private batchesSent = 0;
  private messagesSent = 0;
  private failures = 0;
  /** The status of the last failure that was logged at warn, so a peer that stays away warns once. */
  private lastWarnedStatus: number | undefined;

  constructor(private readonly options: RaftStreamOptions) {
    this.queue = new SendQueue(options.limits);
    this.backoff = new Backoff(options.backoff);
  }

  send(message: Message): void {
    if (this.closed) return;
    this.queue.push(message);
    this.flushAtTurnEnd.schedule();
  }

  stats(): RaftStreamStats {
    return {
      connected: this.connected,
      queuedMessages: this.queue.length,
      droppedMessages: this.queue.droppedMessages,
      batchesSent: this.batchesSent,
      messagesSent: this.messagesSent,
      failures: this.failures,
    };
  }

  /** Half-closes the stream (the peer sees it end) and drops whatever is still queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.queue.clear();
    const call = this.call;
    if (call === undefined) return;
    call.end();
    const grace = setTimeout(() => call.cancel(), CLOSE_GRACE_MS);
    await this.callEnded;
    clearTimeout(grace);
  }

  private flush(): void {
    if (this.closed || this.blocked || this.reconnectTimer !== undefined || this.queue.length === 0) return;
    const call = this.call ?? this.open();
    while (this.queue.length > 0) {
      const messages = this.queue.takeBatch(this.options.maxBatchBytes);
      this.batchesSent++;
      this.messagesSent += messages.length;
      if (!call.write({ clusterId: this.options.clusterId, messages })) {
        this.blocked = true;
        call.once('drain', () => {
          if (this.call !== call) return;
          this.blocked = false;
          this.flush();
        });
        return;
      }
    }
  }

  private open(): ClientWritableStream<OutgoingBatch> {
    const { client, metadata } = this.options;
    let resolveEnded: () => void = () => {};
    this.callEnded = new Promise((resolve) => (resolveEnded = resolve));
    const call: ClientWritableStream<OutgoingBatch> = client.makeClientStreamRequest<OutgoingBatch, RaftAck>(
      PeerServiceService.raft.path,
      encodeBatch,
      PeerServiceService.raft.responseDeserialize,
      metadata(),
      {},
      (err: ServiceError | null) => {
        resolveEnded();
        this.onCallEnded(call, err);
      },
    );
    // The server sends its headers once it has authenticated us: the connection is healthy.
    call.on('metadata', () => {
      if (this.call !== call) return;
      this.connected = true;
      this.lastWarnedStatus = undefined;
      this.backoff.reset();
    });
    // Failures arrive through the callback; without a listener an 'error' event would crash us.
    call.on('error', () => {});
    this.call = call;
    return call;
  }

  private onCallEnded(call: ClientWritableStream<OutgoingBatch>, err: ServiceError | null): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.blocked = false;
    const wasConnected = this.connected;
    this.connected = false;
    if (this.closed) return;
    const { peerId, logger } = this.options;
    const delayMs = this.backoff.nextDelayMs();
    if (err !== null) {
      this.failures++;
      const log = { peer: peerId, code: err.code, details: err.details, retryInMs: Math.round(delayMs) };
      if (wasConnected || err.code !== this.lastWarnedStatus) {
        this.lastWarnedStatus = err.code;
        logger.warn(log, wasConnected ? 'raft stream to peer failed; reconnecting' : 'cannot open a raft stream to peer; retrying');
      } else {
        logger.debug(log, 'raft stream to peer still failing; retrying');
      }
      this.options.onUnreachable(peerId);
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.flush();
    }, delayMs);
  }
}
