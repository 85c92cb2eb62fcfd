// The receiving end of ForwardStream: one long-lived call per follower carrying batches of forwarded
// commands. Each goes to the same onForward handler as unary Forward; outcomes go back batched, one
// write per event-loop turn, in the order they settle. Nothing here throws into gRPC.

import { status } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ForwardBatch } from '../gen/raftchat/peer/v1/peer.js';
import type { ForwardItem, ForwardOutcome, ForwardOutcomeBatch } from '../gen/raftchat/peer/v1/peer.js';
import type { NodeId } from '../raft/types.js';
import type { ForwardReceiverContext } from './server-forward.js';
import type { Refusal } from './server-guard.js';
import { handlerFailure } from './server-status.js';
import { TurnFlush } from './turn-flush.js';

export interface ForwardStreamReceiverContext extends ForwardReceiverContext {
  /**
   * Commands per stream whose outcome has not been written yet. Beyond it a command is answered
   * RESOURCE_EXHAUSTED at once, as the replica answers when too many proposals wait.
   */
  maxInFlight: number;
  /** Byte cap on one ForwardOutcomeBatch (an outcome larger than that is written alone). */
  maxBatchBytes: number;
}

export const DEFAULT_MAX_FORWARDS_IN_FLIGHT = 8_192;

const METHOD = 'ForwardStream';

export function forwardStreamHandler(ctx: ForwardStreamReceiverContext) {
  return (call: ServerDuplexStream<Buffer, ForwardOutcomeBatch>): void => {
    const auth = ctx.guard.authenticate(call, METHOD);
    if ('refusal' in auth) {
      // grpc-js ends a server stream with the status of an 'error' it emits.
      call.emit('error', auth.refusal);
      return;
    }
    new ForwardStreamReceiver(ctx, call, auth.from).start();
  };
}

/** A rough size of an outcome on the wire, for cutting batches without encoding twice. */
function estimateBytes(outcome: ForwardOutcome): number {
  return 32 + outcome.result.length + outcome.details.length + outcome.remoteCode.length;
}

function refusalOutcome(id: number, refusal: Refusal): ForwardOutcome {
  return { id, index: 0, result: new Uint8Array(0), status: refusal.code, remoteCode: '', details: refusal.details };
}

class ForwardStreamReceiver {
  private readonly outbox: ForwardOutcome[] = [];
  /** Commands received whose outcome has not been handed to write() yet (refused ones included). */
  private unanswered = 0;
  private readonly flushAtTurnEnd = new TurnFlush(() => this.flush());
  /** write() returned false: outcomes wait for 'drain', and reading pauses so the follower slows down. */
  private blocked = false;
  /** Cancelled, failed or ended: nothing more is written. Commands still running complete in the replica. */
  private finished = false;
  /** The follower half-closed: end the call once every outcome is written. */
  private senderDone = false;

  constructor(
    private readonly ctx: ForwardStreamReceiverContext,
    private readonly call: ServerDuplexStream<Buffer, ForwardOutcomeBatch>,
    private readonly from: NodeId,
  ) {}

  start(): void {
    this.call.on('data', (bytes: Buffer) => this.receive(bytes));
    this.call.on('end', () => {
      this.senderDone = true;
      this.endIfDone();
    });
    this.call.on('cancelled', () => this.stop());
    this.call.on('error', () => this.stop());
  }

  private receive(bytes: Buffer): void {
    if (this.finished) return;
    let batch: ForwardBatch;
    try {
      batch = ForwardBatch.decode(bytes);
    } catch (err) {
      this.fail(this.ctx.guard.refuse(this.from, METHOD, 'invalid', `undecodable batch: ${(err as Error).message}`));
      return;
    }
    // Per command, as unary Forward checks per call: every command of the batch gets the refusal.
    const wrongCluster = this.ctx.guard.checkClusterId(batch.clusterId, this.from, METHOD);
    for (const item of batch.items) {
      this.unanswered++;
      if (wrongCluster !== undefined) this.settle(refusalOutcome(item.id, wrongCluster));
      else this.admit(item);
    }
  }

  private admit(item: ForwardItem): void {
    const { maxInFlight } = this.ctx;
    if (this.unanswered > maxInFlight) {
      const details = `${maxInFlight} forwarded commands already in flight on this stream; retry later`;
      this.settle({ id: item.id, index: 0, result: new Uint8Array(0), status: status.RESOURCE_EXHAUSTED, remoteCode: 'RESOURCE_EXHAUSTED', details });
      return;
    }
    if (item.deadlineUnixMs <= 0) {
      this.settle(refusalOutcome(item.id, this.ctx.guard.refuse(this.from, METHOD, 'invalid', 'forwarded command without a deadline')));
      return;
    }
    let answer: Promise<{ index: number; result: Uint8Array }>;
    try {
      answer = this.ctx.onForward(item.command, item.deadlineUnixMs, this.from);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      ({ index, result }) => this.settle({ id: item.id, index, result, status: status.OK, remoteCode: '', details: '' }),
      (err: unknown) => {
        const failure = handlerFailure(err);
        this.settle({
          id: item.id,
          index: 0,
          result: new Uint8Array(0),
          status: failure.code,
          remoteCode: failure.remoteCode ?? '',
          details: failure.details,
        });
      },
    );
  }

  private settle(outcome: ForwardOutcome): void {
    if (this.finished) return;
    this.outbox.push(outcome);
    this.flushAtTurnEnd.schedule();
  }

  private flush(): void {
    if (this.finished || this.blocked) return;
    while (this.outbox.length > 0) {
      const outcomes = this.takeBatch();
      this.unanswered -= outcomes.length;
      if (!this.call.write({ outcomes })) {
        this.blocked = true;
        this.call.pause();
        this.call.once('drain', () => {
          this.blocked = false;
          if (this.finished) return;
          this.call.resume();
          this.flush();
        });
        return;
      }
    }
    this.endIfDone();
  }

  private takeBatch(): ForwardOutcome[] {
    let bytes = estimateBytes(this.outbox[0]!);
    let count = 1;
    while (count < this.outbox.length) {
      const next = estimateBytes(this.outbox[count]!);
      if (bytes + next > this.ctx.maxBatchBytes) break;
      bytes += next;
      count++;
    }
    return this.outbox.splice(0, count);
  }

  private endIfDone(): void {
    if (this.finished || !this.senderDone || this.unanswered > 0) return;
    this.finished = true;
    this.call.end();
  }

  /** Ends the call with `refusal`; commands already handed to the replica still run to completion. */
  private fail(refusal: Refusal): void {
    this.stop();
    this.call.emit('error', refusal);
  }

  private stop(): void {
    this.finished = true;
    this.outbox.length = 0;
  }
}
