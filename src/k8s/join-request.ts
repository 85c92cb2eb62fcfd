// A pod asks for its own admission: it finds the leader through its peers and sends AddMember with
// its volume's incarnation (a new incarnation under a known name makes the leader replace the old
// member: removed, then re-added as a learner). Retries until the cluster lists it, or it stops.

import type { ReplicaApi } from '../node/types.js';
import { pause, type KubernetesContext } from './context.js';
import { askPeers } from './discovery.js';
import { memberAddresses } from './identity.js';
import { addMember } from './peers.js';

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * `startedEmpty`: this pod started on an empty volume. Such a pod must be listed under its own new
 * incarnation (or it would vote on a memory it lost); a pod that restarted from its volume is
 * already a member when listed with its incarnation or with none recorded (members that joined
 * before a replica learned the table, or the first member, may be listed with '' there).
 */
export async function requestAdmission(ctx: KubernetesContext, replica: ReplicaApi, startedEmpty: boolean, signal: AbortSignal): Promise<void> {
  const log = ctx.logger.child({ step: 'admission' });
  const self = { id: ctx.podName, ...memberAddresses(ctx.identity, ctx.podName) };
  for (let attempt = 1; !signal.aborted; attempt++) {
    const local = replica.status();
    if (local.role === 'leader') return;
    const replicas = ctx.statefulSet.replicas() ?? ctx.ordinal + 1;
    const answer = await askPeers(ctx, local.clusterId, { replicas, timeoutMs: 3_000 });
    const quiet = attempt % 10 !== 1;
    if (answer === undefined) {
      if (!quiet) log.info({ attempt }, 'no peer knows a leader yet; asking again (the cluster may be electing one)');
    } else {
      const listed = answer.status.members.find((m) => m.id === self.id);
      const sameVolume = listed !== undefined && (listed.incarnation === local.incarnation || (!startedEmpty && listed.incarnation === ''));
      if (sameVolume) {
        log.info({ voter: listed.voter, via: answer.pod }, 'this pod is a member of the cluster');
        return;
      }
      const leader = answer.status.members.find((m) => m.id === answer.status.leaderId);
      const target = leader?.clientAddress || answer.address;
      try {
        await addMember(target, { ...self, incarnation: local.incarnation }, { deadlineMs: Date.now() + 15_000, adminToken: ctx.adminToken, ...(ctx.clientCredentials ? { credentials: ctx.clientCredentials } : {}) });
        log.info(
          { leader: answer.status.leaderId, replaced: listed !== undefined },
          listed !== undefined
            ? 'admitted again with a new volume: the old member was removed; this pod is a learner until it catches up'
            : 'admitted as a learner; the leader promotes it to voter once it has caught up',
        );
        return;
      } catch (err) {
        log[quiet ? 'debug' : 'warn'](
          { err: (err as Error).message, leader: answer.status.leaderId, attempt },
          'the leader did not admit this pod yet; retrying (a refusal names the reason; scale the StatefulSet if the ordinal is beyond spec.replicas)',
        );
      }
    }
    await pause(Math.min(MAX_RETRY_DELAY_MS, 250 * attempt), signal);
  }
}
