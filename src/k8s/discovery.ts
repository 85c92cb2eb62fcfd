// Finding the running cluster through the headless Service: ask the pods of ordinals 0..n-1 (their
// DNS names exist even before they are ready: publishNotReadyAddresses) and take the first answer.

import type { GetStatusResponse } from '../gen/chat/v1/chat.js';
import type { KubernetesContext } from './context.js';
import { memberAddresses, podName } from './identity.js';
import { getStatus } from './peers.js';

export interface PeerAnswer {
  pod: string;
  address: string;
  status: GetStatusResponse;
}

/** The other pods this one may ask: ordinals below spec.replicas (and below its own ordinal). */
export function peerPods(ctx: KubernetesContext, replicas: number): string[] {
  const pods: string[] = [];
  for (let ordinal = 0; ordinal < Math.max(replicas, ctx.ordinal + 1); ordinal++) {
    if (ordinal !== ctx.ordinal) pods.push(podName(ctx.identity.statefulSet, ordinal));
  }
  return pods;
}

/**
 * Asks every peer at once for its status; resolves with the first that belongs to `clusterId`,
 * knows a leader and lists members, or undefined when none does within `timeoutMs`. A peer that
 * has not been admitted yet answers with no members: learning from it would leave a joining pod
 * without the leader's address, unable to answer the leader.
 */
export async function askPeers(
  ctx: KubernetesContext,
  clusterId: string,
  options: { replicas: number; timeoutMs: number },
): Promise<PeerAnswer | undefined> {
  const deadlineMs = Date.now() + options.timeoutMs;
  const asks = peerPods(ctx, options.replicas).map(async (pod): Promise<PeerAnswer> => {
    const address = memberAddresses(ctx.identity, pod).clientAddress;
    const status = await getStatus(address, { deadlineMs, ...(ctx.clientCredentials ? { credentials: ctx.clientCredentials } : {}) });
    if (status.clusterId !== clusterId) {
      ctx.logger.warn(
        { pod, theirClusterId: status.clusterId, clusterId },
        'a peer belongs to another cluster; ignoring it (was a volume reused from another installation?)',
      );
      throw new Error('other cluster');
    }
    if (status.leaderId === '' || !status.members.some((m) => m.id === status.leaderId)) throw new Error('no leader known');
    return { pod, address, status };
  });
  if (asks.length === 0) return undefined;
  try {
    return await Promise.any(asks);
  } catch {
    return undefined;
  }
}
