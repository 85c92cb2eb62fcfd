// The pure decisions of Kubernetes mode: how a volume starts, whom the leader admits, and the
// reconciler's next step.

import assert from 'node:assert/strict';
import { decideBootstrap } from '../../src/k8s/bootstrap-decision.js';
import { decideAdmission } from '../../src/k8s/admission.js';
import { planNextStep, type PlanInputs } from '../../src/k8s/reconcile-plan.js';
import { memberAddresses, ordinalOf, parseAddressOverrides, type StatefulSetIdentity } from '../../src/k8s/identity.js';

describe('k8s identity', () => {
  it('reads the ordinal from a StatefulSet pod name and rejects other names', () => {
    assert.equal(ordinalOf('raftchat-0', 'raftchat'), 0);
    assert.equal(ordinalOf('raftchat-12', 'raftchat'), 12);
    assert.equal(ordinalOf('raftchat-01', 'raftchat'), undefined);
    assert.equal(ordinalOf('raftchat-x', 'raftchat'), undefined);
    assert.equal(ordinalOf('other-1', 'raftchat'), undefined);
    assert.equal(ordinalOf('raftchat-headless-1', 'raftchat'), undefined);
  });

  it('derives addresses from the headless Service, and honours test-only overrides', () => {
    const identity: StatefulSetIdentity = {
      namespace: 'chat', statefulSet: 'raftchat', headlessService: 'raftchat-headless', clusterDomain: 'cluster.local',
      clientPort: 50051, peerPort: 50052, addressOverrides: new Map(),
    };
    assert.deepEqual(memberAddresses(identity, 'raftchat-3'), {
      clientAddress: 'raftchat-3.raftchat-headless.chat.svc.cluster.local:50051',
      peerAddress: 'raftchat-3.raftchat-headless.chat.svc.cluster.local:50052',
    });
    const overrides = parseAddressOverrides('raftchat-3.raftchat-headless.chat.svc.cluster.local/peer=127.0.0.1:9');
    assert.equal(memberAddresses({ ...identity, addressOverrides: overrides }, 'raftchat-3').peerAddress, '127.0.0.1:9');
    assert.throws(() => parseAddressOverrides('nonsense'), { code: 'INVALID_IDENTITY' });
  });
});

describe('k8s bootstrap decision', () => {
  it('starts a new cluster only on ordinal 0 with an empty volume and no ConfigMap', () => {
    assert.deepEqual(decideBootstrap({ ordinal: 0, volumeClusterId: '', configMapClusterId: undefined }), { kind: 'create-cluster' });
  });

  it('makes every other empty pod wait for the cluster id instead of starting a cluster', () => {
    assert.deepEqual(decideBootstrap({ ordinal: 1, volumeClusterId: '', configMapClusterId: undefined }), { kind: 'wait-for-cluster-id' });
    assert.deepEqual(decideBootstrap({ ordinal: 4, volumeClusterId: '', configMapClusterId: '' }), { kind: 'wait-for-cluster-id' });
  });

  it('makes an empty ordinal 0 join when the ConfigMap says a cluster exists (its volume was lost)', () => {
    assert.deepEqual(decideBootstrap({ ordinal: 0, volumeClusterId: '', configMapClusterId: 'c1' }), { kind: 'join', clusterId: 'c1' });
    assert.deepEqual(decideBootstrap({ ordinal: 2, volumeClusterId: '', configMapClusterId: 'c1' }), { kind: 'join', clusterId: 'c1' });
  });

  it('restarts a non-empty volume from its own state whatever the ConfigMap says', () => {
    for (const configMapClusterId of [undefined, '', 'c1', 'other']) {
      assert.deepEqual(decideBootstrap({ ordinal: 0, volumeClusterId: 'c1', configMapClusterId }), { kind: 'restart', clusterId: 'c1' });
      assert.deepEqual(decideBootstrap({ ordinal: 3, volumeClusterId: 'c1', configMapClusterId }), { kind: 'restart', clusterId: 'c1' });
    }
  });
});

describe('k8s admission policy', () => {
  it('admits pods below spec.replicas and refuses the rest with a reason', () => {
    assert.deepEqual(decideAdmission('raftchat-2', 'raftchat', 3), { admit: true });
    const beyond = decideAdmission('raftchat-3', 'raftchat', 3);
    assert.equal(beyond.admit, false);
    assert.match(beyond.admit ? '' : beyond.reason, /ordinal 3 .*spec\.replicas=3/);
  });

  it('refuses while spec.replicas is unknown and refuses ids that are not pods of the StatefulSet', () => {
    assert.equal(decideAdmission('raftchat-0', 'raftchat', undefined).admit, false);
    assert.equal(decideAdmission('n0', 'raftchat', 3).admit, false);
  });
});

describe('k8s reconciler plan', () => {
  const member = (id: string, voter = true, reachable = true, matchIndex = 10) => ({ id, voter, reachable, matchIndex });
  const base = (over: Partial<PlanInputs>): PlanInputs => ({
    selfId: 'raftchat-0',
    role: 'leader',
    statefulSet: 'raftchat',
    replicas: 3,
    members: [0, 1, 2].map((i) => member(`raftchat-${i}`)),
    ...over,
  });

  it('does nothing when not the leader, even with members beyond spec.replicas', () => {
    for (const role of ['follower', 'candidate', 'pre-candidate', 'learner'] as const) {
      const step = planNextStep(base({ role, replicas: 1 }));
      assert.equal(step.kind, 'idle');
    }
  });

  it('does nothing while spec.replicas is unknown or zero', () => {
    assert.equal(planNextStep(base({ replicas: undefined })).kind, 'idle');
    assert.equal(planNextStep(base({ replicas: 0 })).kind, 'idle');
  });

  it('removes the highest ordinal beyond spec.replicas first', () => {
    const members = [0, 1, 2, 3, 4].map((i) => member(`raftchat-${i}`));
    assert.deepEqual(planNextStep(base({ members })), { kind: 'remove', memberId: 'raftchat-4', reason: 'raftchat-4 has ordinal 4 >= spec.replicas=3' });
    assert.equal((planNextStep(base({ members: members.slice(0, 4) })) as { memberId: string }).memberId, 'raftchat-3');
  });

  it('never removes a member whose ordinal is below spec.replicas', () => {
    for (let replicas = 1; replicas <= 5; replicas++) {
      const members = [0, 1, 2, 3, 4].map((i) => member(`raftchat-${i}`, i % 2 === 0, i !== 1));
      const step = planNextStep(base({ replicas, members, selfId: 'raftchat-0' }));
      if (step.kind === 'remove') assert.ok(ordinalOf(step.memberId, 'raftchat')! >= replicas, `${step.memberId} at replicas=${replicas}`);
    }
    assert.equal(planNextStep(base({})).kind, 'idle');
  });

  it('ignores members that are not pods of the StatefulSet', () => {
    assert.equal(planNextStep(base({ members: [...base({}).members, member('operator-added')] })).kind, 'idle');
  });

  it('hands leadership to a caught-up reachable voter below spec.replicas when the leader itself must go', () => {
    const members = [member('raftchat-0', true, true, 5), member('raftchat-1', true, true, 9), member('raftchat-2', true, false, 10), member('raftchat-3')];
    assert.deepEqual(planNextStep(base({ selfId: 'raftchat-3', members })), {
      kind: 'transfer-leadership',
      to: 'raftchat-1',
      reason: 'this leader (raftchat-3) has ordinal >= spec.replicas=3',
    });
  });

  it('removes learners beyond spec.replicas without any quorum concern', () => {
    const members = [...base({}).members.map((m) => ({ ...m, reachable: false })), member('raftchat-3', false, false)];
    assert.equal(planNextStep(base({ members })).kind, 'remove');
  });

  it('waits instead of removing a voter when the remaining voters would have no reachable majority', () => {
    const members = [member('raftchat-0'), member('raftchat-1', true, false), member('raftchat-2', true, false), member('raftchat-3')];
    const step = planNextStep(base({ members }));
    assert.equal(step.kind, 'wait');
    // Removing an unreachable voter beyond spec.replicas shrinks the majority: allowed.
    const deadExcess = [member('raftchat-0'), member('raftchat-1'), member('raftchat-2'), member('raftchat-3', true, false), member('raftchat-4', true, false)];
    assert.equal((planNextStep(base({ members: deadExcess })) as { memberId: string }).memberId, 'raftchat-4');
  });
});
