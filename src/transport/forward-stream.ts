// One peer's ForwardStream: forwarded commands leave in batches (everything forwarded within one
// event-loop turn goes as one ForwardBatch) on a single lazily opened bidi call, and come back as
// outcomes matched by id. Each command fails exactly as it would over unary Forward, and a command
// that may have reached the leader is never reported as one that did not (see PeerTransport.forward).

import { status } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, Metadata, StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { PeerServiceService } from '../gen/raftchat/peer/v1/peer.js';
import type { ForwardBatch, ForwardItem, ForwardOutcome, ForwardOutcomeBatch } from '../gen/raftchat/peer/v1/peer.js';
import type { NodeId } from '../raft/types.js';
import { TransportError, fromStatus } from './errors.js';
import { TurnFlush } from './turn-flush.js';

export interface ForwardResult {
  index: number;
  result: Uint8Array;
}

export interface ForwardStreamOptions {
  peerId: NodeId;
  client: Client;
  clusterId: string;
  /** Fresh call metadata carrying the peer token. */
  metadata: () => Metadata;
  /** Byte cap on one ForwardBatch (a command larger than that is sent alone). */
  maxBatchBytes: number;
  logger: Logger;
  /** Unary Forward, for a peer that does not serve ForwardStream (an older replica mid-upgrade). */
  unary: (command: Uint8Array, deadlineMs: number) => Promise<ForwardResult>;
}

/** How long a peer that answered UNIMPLEMENTED gets unary Forward before the stream is tried again. */
export const UNARY_FALLBACK_MS = 60_000;

/** A command waiting for its outcome. */
interface Waiter {
  id: number;
  command: Uint8Array;
  deadlineMs: number;
  resolve: (result: ForwardResult) => void;
  reject: (err: TransportError) => void;
  timer: NodeJS.Timeout | undefined;
  /** Resolved, rejected or handed to unary Forward: whatever comes later for it is ignored. */
  settled: boolean;
}

type ForwardCall = ClientDuplexStream<ForwardBatch, ForwardOutcomeBatch>;

/** A rough size of an item on the wire, for cutting batches at maxBatchBytes without encoding twice. */
function estimateBytes(waiter: Waiter): number {
  return 24 + waiter.command.length;
}

export class ForwardStream {
  private nextId = 1;
  /** Not yet handed to write(): these certainly never left this replica. */
  private queue: Waiter[] = [];
  /** Written on the current call, by id: these may have reached the leader. */
  private readonly sent = new Map<number, Waiter>();
  private call: ForwardCall | undefined;
  private blocked = false;
  private readonly flushAtTurnEnd = new TurnFlush(() => this.flush());
  private unaryUntilMs = 0;
  private closed = false;

  constructor(private readonly options: ForwardStreamOptions) {}

  forward(command: Uint8Array, deadlineMs: number): Promise<ForwardResult> {
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'forwarding to this peer has stopped'));
    if (Date.now() < this.unaryUntilMs) return this.options.unary(command, deadlineMs);
    return new Promise<ForwardResult>((resolve, reject) => {
      const waiter: Waiter = { id: this.nextId++, command, deadlineMs, resolve, reject, timer: undefined, settled: false };
      waiter.timer = setTimeout(() => this.expire(waiter), Math.max(0, deadlineMs - Date.now()));
      this.queue.push(waiter);
      this.flushAtTurnEnd.schedule();
    });
  }

  /**
   * Stops for good (peer removed, transport closed): queued commands fail CLOSED (never sent); sent
   * ones fail ambiguous, since the leader may still apply them; the call is cancelled.
   */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const call = this.call;
    this.call = undefined;
    this.failSent(new TransportError('UNAVAILABLE', `${reason} while a forwarded command was at the leader; it may still be applied`, { status: status.CANCELLED }));
    this.failQueued(new TransportError('CLOSED', `${reason} before the command was sent`));
    call?.cancel();
  }

  private flush(): void {
    if (this.closed || this.blocked) return;
    while (this.queue.length > 0) {
      const items = this.takeBatch();
      if (items.length === 0) continue;
      const call = this.call ?? this.open();
      if (!call.write({ clusterId: this.options.clusterId, items })) {
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

  /** Moves the next run of live commands, up to maxBatchBytes, from the queue to `sent`. */
  private takeBatch(): ForwardItem[] {
    const items: ForwardItem[] = [];
    let bytes = 0;
    let taken = 0;
    for (const waiter of this.queue) {
      if (waiter.settled) {
        taken++;
        continue;
      }
      const size = estimateBytes(waiter);
      if (items.length > 0 && bytes + size > this.options.maxBatchBytes) break;
      bytes += size;
      taken++;
      this.sent.set(waiter.id, waiter);
      // int64 on the wire.
      items.push({ id: waiter.id, command: waiter.command, deadlineUnixMs: Math.floor(waiter.deadlineMs) });
    }
    this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
    return items;
  }

  private open(): ForwardCall {
    const { client, metadata } = this.options;
    const { forwardStream } = PeerServiceService;
    const call: ForwardCall = client.makeBidiStreamRequest(
      forwardStream.path,
      forwardStream.requestSerialize,
      forwardStream.responseDeserialize,
      metadata(),
      {},
    );
    call.on('data', (batch: ForwardOutcomeBatch) => {
      if (this.call !== call) return;
      for (const outcome of batch.outcomes) this.deliver(outcome);
    });
    // Failures arrive as 'status' too; without a listener an 'error' event would crash us.
    call.on('error', () => {});
    call.on('status', (end: StatusObject) => this.onCallEnded(call, end));
    this.call = call;
    return call;
  }

  private deliver(outcome: ForwardOutcome): void {
    const waiter = this.sent.get(outcome.id);
    // Unknown: its deadline passed first, or it was failed when the peer was removed.
    if (waiter === undefined) return;
    this.sent.delete(outcome.id);
    if (outcome.status === status.OK) this.settle(waiter, { index: outcome.index, result: outcome.result });
    else this.settle(waiter, fromStatus(outcome.status, outcome.details, outcome.remoteCode));
  }

  private onCallEnded(call: ForwardCall, end: StatusObject): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.blocked = false;
    const { peerId, logger } = this.options;
    if (end.code === status.UNIMPLEMENTED) {
      // No handler ran for any of them: the peer predates ForwardStream. Resend all over unary.
      logger.info({ peer: peerId }, 'peer does not serve ForwardStream; forwarding with unary calls');
      this.unaryUntilMs = Date.now() + UNARY_FALLBACK_MS;
      const waiters = [...this.sent.values(), ...this.queue.filter((waiter) => !waiter.settled)];
      this.sent.clear();
      this.queue = [];
      for (const waiter of waiters) this.handToUnary(waiter);
      return;
    }
    if (this.sent.size > 0 || end.code !== status.OK) {
      logger.warn({ peer: peerId, code: end.code, details: end.details, inFlight: this.sent.size }, 'forward stream to peer ended; its commands in flight fail');
    }
    this.failSent(brokenStreamError(end));
    // Never written: certainly not at the leader, so the replica may retry them (possibly elsewhere).
    this.failQueued(new TransportError('UNAVAILABLE', `forward stream to the peer ended before the command was sent: ${end.details}`));
  }

  private handToUnary(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.settled = true;
    this.options.unary(waiter.command, waiter.deadlineMs).then(waiter.resolve, waiter.reject);
  }

  private expire(waiter: Waiter): void {
    if (waiter.settled) return;
    this.sent.delete(waiter.id);
    // Queued ones are skipped by takeBatch once settled.
    this.settle(waiter, new TransportError('DEADLINE_EXCEEDED', 'Deadline exceeded', { status: status.DEADLINE_EXCEEDED }));
  }

  private settle(waiter: Waiter, outcome: ForwardResult | TransportError): void {
    if (waiter.settled) return;
    waiter.settled = true;
    clearTimeout(waiter.timer);
    if (outcome instanceof TransportError) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private failSent(err: TransportError): void {
    const waiters = [...this.sent.values()];
    this.sent.clear();
    for (const waiter of waiters) this.settle(waiter, err);
  }

  private failQueued(err: TransportError): void {
    const waiters = this.queue;
    this.queue = [];
    for (const waiter of waiters) this.settle(waiter, err);
  }
}

/**
 * What a command written to a call that then ended without its outcome fails with. The leader may
 * have proposed it, so it must not look like one that never left (CLOSED, or UNAVAILABLE without a
 * status): the call's own status, kept as it is only when it is a refusal of the whole call.
 */
function brokenStreamError(end: StatusObject): TransportError {
  const details = end.details || 'the forward stream ended';
  const mapped = fromStatus(end.code, details, undefined);
  if (mapped.code === 'REFUSED' || mapped.code === 'INVALID_ARGUMENT') return mapped;
  const code = end.code === status.OK ? status.UNAVAILABLE : end.code;
  return new TransportError('UNAVAILABLE', `forward stream to the leader broke after the command was sent (${details}); it may still be applied`, { status: code });
}
