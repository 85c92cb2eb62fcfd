// A pod stopping because the StatefulSet shrank asks to be removed before it goes, while it can
// still acknowledge: when several pods stop at once (3 → 1), waiting for the leader to remove dead
// voters could leave too few voters alive to commit the removals.

import type { ReplicaApi } from '../node/types.js';
import type { KubernetesContext } from './context.js';
import { removeMember } from './peers.js';

export async function leaveIfScaledAway(ctx: KubernetesContext, replica: ReplicaApi, timeoutMs: number): Promise<void> {
  const replicas = ctx.statefulSet.replicas();
  if (replicas === undefined || replicas === 0 || ctx.ordinal < replicas) return; // a restart, not a scale-down
  const log = ctx.logger.child({ step: 'leave' });
  const deadlineMs = Date.now() + timeoutMs;
  const status = replica.status();
  if (!status.members.some((m) => m.id === ctx.podName)) return;
  log.info({ ordinal: ctx.ordinal, replicas }, 'scaled away: asking the leader to remove this member before stopping');
  try {
    if (status.role === 'leader') {
      const next = await replica.transferLeadership('', { deadlineMs });
      log.info({ to: next }, 'handed leadership over before leaving');
    }
    while (Date.now() < deadlineMs) {
      const now = replica.status();
      if (!now.members.some((m) => m.id === ctx.podName)) break;
      const leader = now.members.find((m) => m.id === now.leaderId);
      if (leader === undefined || leader.id === ctx.podName) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      await removeMember(leader.clientAddress, ctx.podName, { deadlineMs, adminToken: ctx.adminToken });
      log.info({}, 'removed from the cluster');
      return;
    }
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not leave before stopping; the leader removes this member when it notices');
  }
}
