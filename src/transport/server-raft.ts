// The receiving end of a peer's Raft stream: authenticate once per call, then decode and validate
// each RaftBatch and hand its messages to the replica. A bad batch ends the call with a status (the
// sender reconnects); nothing here throws into gRPC.

import { Metadata, status } from '@grpc/grpc-js';
import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RaftAck } from '../gen/raftchat/peer/v1/peer.js';
import type { Message, NodeId } from '../raft/types.js';
import { decodeBatch, toRaftMessages } from './codec.js';
import type { CallGuard, Refusal } from './server-guard.js';

export interface RaftReceiverContext {
  /** When set, messages addressed to anyone else are refused. */
  selfId: NodeId | undefined;
  guard: CallGuard;
  logger: Logger;
  onMessages: (messages: Message[]) => void;
  /** Open streams, for stats and tests: call → authenticated sender. */
  openStreams: Map<object, NodeId>;
}

export function raftHandler(ctx: RaftReceiverContext) {
  return (call: ServerReadableStream<Buffer, RaftAck>, callback: sendUnaryData<RaftAck>): void => {
    const auth = ctx.guard.authenticate(call, 'Raft');
    if ('refusal' in auth) {
      callback(auth.refusal);
      return;
    }
    const from = auth.from;
    let ended = false;
    const end = (refusal: Refusal | null): void => {
      if (ended) return;
      ended = true;
      ctx.openStreams.delete(call);
      if (refusal === null) callback(null, {});
      else callback(refusal);
    };
    ctx.openStreams.set(call, from);
    // Headers now tell the sender it is accepted (it resets its reconnect back-off on them).
    call.sendMetadata(new Metadata());
    call.on('data', (bytes: Buffer) => {
      if (ended) return;
      const refusal = deliver(ctx, from, bytes);
      if (refusal !== undefined) end(refusal);
    });
    call.on('end', () => end(null));
    call.on('error', () => end({ code: status.CANCELLED, details: 'stream failed' }));
    call.on('cancelled', () => end({ code: status.CANCELLED, details: 'cancelled' }));
  };
}

function deliver(ctx: RaftReceiverContext, from: NodeId, bytes: Buffer): Refusal | undefined {
  const batch = decodeBatch(bytes);
  if (!batch.ok) return ctx.guard.refuse(from, 'Raft', batch.kind, batch.reason);
  const wrongCluster = ctx.guard.checkClusterId(batch.value.clusterId, from, 'Raft');
  if (wrongCluster !== undefined) return wrongCluster;
  const messages = toRaftMessages(batch.value.messages, from, ctx.selfId);
  if (!messages.ok) return ctx.guard.refuse(from, 'Raft', messages.kind, messages.reason);
  try {
    ctx.onMessages(messages.value);
    return undefined;
  } catch (err) {
    ctx.logger.error({ peer: from, reason: (err as Error).message }, 'delivering raft messages failed');
    return { code: status.INTERNAL, details: 'delivering raft messages failed' };
  }
}
