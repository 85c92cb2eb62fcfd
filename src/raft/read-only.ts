// The queue of ReadIndex requests waiting for a heartbeat round to confirm leadership (thesis §6.4).
// A request is answered once a majority acknowledged a heartbeat carrying its context, and every
// request queued before it is answered with it.
import type { Message, NodeId } from './types.js';
import { bytesKey } from './util.js';

export interface ReadIndexStatus {
  /** The request: from this node (local) or forwarded by a follower. */
  request: Message;
  /** The commit index when the request arrived: the read is served once applied reaches it. */
  index: number;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private readonly queue: string[] = [];

  addRequest(index: number, request: Message): void {
    const key = bytesKey(request.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Record `id`'s heartbeat acknowledgement of `context`; returns the acks so far (undefined if unknown). */
  recvAck(id: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const status = this.pending.get(bytesKey(context));
    if (status === undefined) return undefined;
    status.acks.add(id);
    return status.acks;
  }

  /** Dequeue every request up to and including the one for `context` (confirmed together). */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.splice(0, at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const status = this.pending.get(k);
      if (status !== undefined) out.push(status);
      this.pending.delete(k);
    }
    return out;
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.request.context;
  }

  get size(): number {
    return this.queue.length;
  }
}
