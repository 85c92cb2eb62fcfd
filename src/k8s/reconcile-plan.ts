// The reconciler's next step as a pure function of what the leader sees: members whose ordinal is
// at or above spec.replicas leave, highest first, one change at a time (thesis §4.1: single-server
// changes keep old and new majorities overlapping). A member below spec.replicas is never removed.

import type { MemberStatus, ReplicaRole } from '../node/types.js';
import { ordinalOf } from './identity.js';

export interface PlanInputs {
  selfId: string;
  role: ReplicaRole;
  statefulSet: string;
  /** spec.replicas; undefined until read (or when the StatefulSet is gone). */
  replicas: number | undefined;
  /** The leader's view: voter, reachable and matchIndex are meaningful only there. */
  members: ReadonlyArray<Pick<MemberStatus, 'id' | 'voter' | 'reachable' | 'matchIndex'>>;
}

export type PlanStep =
  | { kind: 'idle'; reason: string }
  /** Something should change, but not safely now; look again later. */
  | { kind: 'wait'; reason: string }
  | { kind: 'remove'; memberId: string; reason: string }
  /** The leader itself must leave: hand leadership to `to` first; the new leader removes it. */
  | { kind: 'transfer-leadership'; to: string; reason: string };

export function planNextStep(inputs: PlanInputs): PlanStep {
  if (inputs.role !== 'leader') return { kind: 'idle', reason: 'not the leader' };
  const replicas = inputs.replicas;
  if (replicas === undefined) return { kind: 'idle', reason: 'spec.replicas not known (StatefulSet not read yet, or deleted)' };
  // Scaling to zero stops every pod; removing members then would leave nothing to restart from.
  if (replicas === 0) return { kind: 'idle', reason: 'spec.replicas=0: membership kept so scaling up restarts the cluster with its data' };

  const excess = inputs.members
    .map((m) => ({ member: m, ordinal: ordinalOf(m.id, inputs.statefulSet) }))
    .filter((x): x is { member: (typeof inputs.members)[number]; ordinal: number } => x.ordinal !== undefined && x.ordinal >= replicas)
    .sort((a, b) => b.ordinal - a.ordinal);
  const target = excess[0];
  if (target === undefined) return { kind: 'idle', reason: `every member has an ordinal below spec.replicas=${replicas}` };
  const id = target.member.id;

  if (id === inputs.selfId) {
    const successor = inputs.members
      .filter((m) => m.voter && m.reachable && m.id !== inputs.selfId && (ordinalOf(m.id, inputs.statefulSet) ?? Infinity) < replicas)
      .sort((a, b) => b.matchIndex - a.matchIndex)[0];
    if (successor === undefined) {
      return { kind: 'wait', reason: `this leader (${id}) must leave but no reachable voter below ordinal ${replicas} can take over yet` };
    }
    return { kind: 'transfer-leadership', to: successor.id, reason: `this leader (${id}) has ordinal >= spec.replicas=${replicas}` };
  }

  if (target.member.voter) {
    // After the removal, a majority of the remaining voters must still be reachable, or the
    // cluster would stop committing. (Removing an unreachable voter only ever helps.)
    const remaining = inputs.members.filter((m) => m.voter && m.id !== id);
    if (remaining.length === 0) return { kind: 'wait', reason: `${id} is the last voter` };
    const reachable = remaining.filter((m) => m.reachable || m.id === inputs.selfId).length;
    if (reachable * 2 <= remaining.length) {
      return {
        kind: 'wait',
        reason: `removing ${id} would leave ${reachable} of ${remaining.length} voters reachable: no majority; waiting for members to come back`,
      };
    }
  }
  return { kind: 'remove', memberId: id, reason: `${id} has ordinal ${target.ordinal} >= spec.replicas=${replicas}` };
}
