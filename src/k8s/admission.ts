// Which pods the leader admits: only pods of this StatefulSet whose ordinal is below spec.replicas.
// A pod being scaled away (or one that outlived a scale-down) must not rejoin the voters.

import { ordinalOf } from './identity.js';

export type AdmissionDecision = { admit: true } | { admit: false; reason: string };

/** Checked by the leader before it adds a member (see the hook in Replica.addMember). */
export type AdmissionPolicy = (memberId: string) => AdmissionDecision;

export function decideAdmission(memberId: string, statefulSet: string, replicas: number | undefined): AdmissionDecision {
  const ordinal = ordinalOf(memberId, statefulSet);
  if (ordinal === undefined) {
    return { admit: false, reason: `${memberId} is not a pod of StatefulSet ${statefulSet}; in Kubernetes mode members are its pods` };
  }
  if (replicas === undefined) {
    return { admit: false, reason: `the leader has not read StatefulSet ${statefulSet} yet; retry shortly` };
  }
  if (ordinal >= replicas) {
    return { admit: false, reason: `${memberId} has ordinal ${ordinal} but StatefulSet ${statefulSet} has spec.replicas=${replicas}; scale it up first` };
  }
  return { admit: true };
}

/** A policy reading spec.replicas live (from the StatefulSet watch). */
export function admissionPolicy(statefulSet: string, replicas: () => number | undefined): AdmissionPolicy {
  return (memberId) => decideAdmission(memberId, statefulSet, replicas());
}
