// Puts the admission policy in front of a replica's addMember. AddMember only succeeds on the leader
// (a follower refuses it: membership changes are proposed there), so wrapping the replica the API
// serves makes the check where it must be made: on the leader, with the leader's spec.replicas.

import { ReplicaError, type ReplicaApi } from '../node/types.js';
import type { AdmissionPolicy } from './admission.js';

export function guardAdmission(replica: ReplicaApi, policy: AdmissionPolicy): ReplicaApi {
  return {
    get nodeId() {
      return replica.nodeId;
    },
    get clusterId() {
      return replica.clusterId;
    },
    events: replica.events,
    keyspace: () => replica.keyspace(),
    propose: (command, options) => replica.propose(command, options),
    readBarrier: (options) => replica.readBarrier(options),
    status: () => replica.status(),
    async addMember(member, options) {
      const decision = policy(member.id);
      if (!decision.admit) throw new ReplicaError('FAILED_PRECONDITION', `not admitted: ${decision.reason}`);
      return replica.addMember(member, options);
    },
    removeMember: (id, options) => replica.removeMember(id, options),
    transferLeadership: (toId, options) => replica.transferLeadership(toId, options),
    digest: () => replica.digest(),
    isCaughtUp: () => replica.isCaughtUp(),
  };
}
