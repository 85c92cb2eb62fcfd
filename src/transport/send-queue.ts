// The bounded queue of raft messages waiting for one peer's stream. Raft tolerates lost messages
// (§5.3: the leader retries AppendEntries indefinitely), so on overflow the oldest App or Heartbeat
// is dropped and counted — later ones carry the same or newer information — and the queue never
// grows beyond its limits however long the peer stays away.

import { MessageType } from '../raft/types.js';
import type { Message } from '../raft/types.js';
import { estimateBytes } from './codec.js';

export interface SendQueueLimits {
  maxQueuedMessages: number;
  maxQueuedBytes: number;
}

function isExpendable(message: Message): boolean {
  return message.type === MessageType.App || message.type === MessageType.Heartbeat;
}

export class SendQueue {
  private items: Message[] = [];
  private queuedBytes = 0;
  /** Messages dropped on overflow since the queue was made. */
  droppedMessages = 0;

  constructor(private readonly limits: SendQueueLimits) {}

  get length(): number {
    return this.items.length;
  }

  push(message: Message): void {
    this.items.push(message);
    this.queuedBytes += estimateBytes(message);
    while (
      this.items.length > 1 &&
      (this.items.length > this.limits.maxQueuedMessages || this.queuedBytes > this.limits.maxQueuedBytes)
    ) {
      this.dropOldest();
    }
  }

  /** Removes the oldest messages that fit in maxBatchBytes together (always at least one). */
  takeBatch(maxBatchBytes: number): Message[] {
    let count = 0;
    let bytes = 0;
    while (count < this.items.length) {
      const messageBytes = estimateBytes(this.items[count]!);
      if (count > 0 && bytes + messageBytes > maxBatchBytes) break;
      bytes += messageBytes;
      count++;
    }
    this.queuedBytes -= bytes;
    return count === this.items.length ? this.items.splice(0) : this.items.splice(0, count);
  }

  clear(): void {
    this.items = [];
    this.queuedBytes = 0;
  }

  private dropOldest(): void {
    let victim = this.items.findIndex(isExpendable);
    if (victim < 0) victim = 0;
    const [dropped] = this.items.splice(victim, 1);
    this.queuedBytes -= estimateBytes(dropped!);
    this.droppedMessages++;
  }
}
