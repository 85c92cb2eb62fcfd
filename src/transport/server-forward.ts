// The receiving end of Forward: a follower hands the leader a fully decided command to propose and
// waits for its result. The replica's handler decides; its errors keep their code on the wire.

import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { ForwardRequest } from '../gen/raftchat/peer/v1/peer.js';
import type { ForwardResponse } from '../gen/raftchat/peer/v1/peer.js';
import type { NodeId } from '../raft/types.js';
import type { CallGuard } from './server-guard.js';
import { handlerErrorStatus } from './server-status.js';

export interface ForwardReceiverContext {
  guard: CallGuard;
  /** `deadlineMs` is absolute (ms since the epoch), as the forwarding replica set it. */
  onForward: (command: Uint8Array, deadlineMs: number, from: NodeId) => Promise<{ index: number; result: Uint8Array }>;
}

export function forwardHandler(ctx: ForwardReceiverContext) {
  return (call: ServerUnaryCall<Buffer, ForwardResponse>, callback: sendUnaryData<ForwardResponse>): void => {
    const auth = ctx.guard.authenticate(call, 'Forward');
    if ('refusal' in auth) {
      callback(auth.refusal);
      return;
    }
    let request: ForwardRequest;
    try {
      request = ForwardRequest.decode(call.request);
    } catch (err) {
      callback(ctx.guard.refuse(auth.from, 'Forward', 'invalid', `undecodable request: ${(err as Error).message}`));
      return;
    }
    const wrongCluster = ctx.guard.checkClusterId(request.clusterId, auth.from, 'Forward');
    if (wrongCluster !== undefined) {
      callback(wrongCluster);
      return;
    }
    if (request.deadlineUnixMs <= 0) {
      callback(ctx.guard.refuse(auth.from, 'Forward', 'invalid', 'forwarded command without a deadline'));
      return;
    }
    let answer: Promise<{ index: number; result: Uint8Array }>;
    try {
      answer = ctx.onForward(request.command, request.deadlineUnixMs, auth.from);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (response) => callback(null, response),
      (err: unknown) => callback(handlerErrorStatus(err)),
    );
  };
}
