// A pod stopping because the StatefulSet shrank asks to be removed before it goes, while it can
// still acknowledge: when several pods stop at once (3 → 1), waiting for the leader to remove dead
// voters could leave too few voters alive to commit the removals.

import * as grpc from '@grpc/grpc-js';
import type { ReplicaApi } from '../node/types.js';
import { pause, type KubernetesContext } from './context.js';
import { ordinalOf } from './identity.js';
import { removeMember } from './peers.js';

const RETRY_DELAY_MS = 200;

export async function leaveIfScaledAway(ctx: KubernetesContext, replica: ReplicaApi, timeoutMs: number): Promise<void> {
  const replicas = await ctx.statefulSet.refresh(2_000);
  if (replicas === undefined || replicas === 0 || ctx.ordinal < replicas) return; // a restart, not a scale-down
  if (!replica.status().members.some((m) => m.id === ctx.podName)) return;
  const log = ctx.logger.child({ step: 'leave' });
  const deadlineMs = Date.now() + timeoutMs;
  log.info({ ordinal: ctx.ordinal, replicas }, 'scaled away: asking the leader to remove this member before stopping');
  let lastError = '';
  while (Date.now() < deadlineMs) {
    const now = replica.status();
    if (!now.members.some((m) => m.id === ctx.podName)) {
      log.info({}, 'removed from the cluster');
      return;
    }
    try {
      if (now.role === 'leader') {
        // To a pod that stays: another pod leaving at the same time would only hand it on again.
        const stays = now.members
          .filter((m) => m.voter && m.reachable && (ordinalOf(m.id, ctx.identity.statefulSet) ?? Infinity) < replicas)
          .sort((a, b) => b.matchIndex - a.matchIndex)[0];
        const next = await replica.transferLeadership(stays?.id ?? '', { deadlineMs });
        log.info({ to: next }, 'handed leadership over before leaving');
        continue;
      }
      const leader = now.members.find((m) => m.id === now.leaderId);
      if (leader !== undefined) {
        await removeMember(leader.clientAddress, ctx.podName, { deadlineMs, adminToken: ctx.adminToken, ...(ctx.clientCredentials ? { credentials: ctx.clientCredentials } : {}) });
        log.info({}, 'removed from the cluster');
        return;
      }
    } catch (err) {
      // NOT_FOUND: the leader's reconciler removed it first. Anything else (another change in
      // progress, a leader change) is worth another try until the deadline.
      if ((err as { code?: unknown }).code === grpc.status.NOT_FOUND) {
        log.info({}, 'already removed by the leader');
        return;
      }
      lastError = (err as Error).message;
    }
    await pause(RETRY_DELAY_MS);
  }
  log.warn({ err: lastError }, 'could not leave before stopping; the leader removes this member when it notices');
}
