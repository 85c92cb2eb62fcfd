// The membership driver: through the current leader it adds empty replicas as learners, promotes a
// learner once it has caught up, and removes voters and learners: one change at a time, as the core
// demands (the single-server change rule, thesis §4.1); the core refuses the rest.
import { ConfChangeType, RaftError, type ConfChange } from '../../src/raft/index.js';
import type { SimCluster } from './cluster.js';

const MIN_VOTERS = 3;
const MAX_VOTERS = 7;
const MAX_LEARNERS = 2;
/** A learner this close to the leader's last index counts as caught up (thesis §4.2.1). */
const CAUGHT_UP_ENTRIES = 2;

export function changeMembership(cluster: SimCluster): void {
  const leader = cluster.leader();
  const node = leader?.node;
  if (leader === undefined || node === undefined) return;
  const { rng } = cluster;
  const status = node.status();
  const { voters, learners } = status.confState;
  const caughtUp = learners.filter((id) => {
    const progress = status.progress.get(id);
    return progress !== undefined && progress.match + CAUGHT_UP_ENTRIES >= status.lastIndex;
  });
  const choices: Array<() => ConfChange | undefined> = [];
  if (learners.length < MAX_LEARNERS && voters.length + learners.length < MAX_VOTERS + MAX_LEARNERS) {
    choices.push(() => ({ type: ConfChangeType.AddLearner, nodeId: cluster.freshId(), context: new Uint8Array() }));
  }
  if (caughtUp.length > 0 && voters.length < MAX_VOTERS) {
    choices.push(() => ({ type: ConfChangeType.AddNode, nodeId: rng.pick(caughtUp), context: new Uint8Array() }));
  }
  if (voters.length > MIN_VOTERS) {
    // Removing the leader itself is allowed but rarer: it must step down once the change applies.
    const candidates = rng.chance(0.2) ? voters : voters.filter((id) => id !== leader.id);
    if (candidates.length > 0) {
      choices.push(() => ({ type: ConfChangeType.RemoveNode, nodeId: rng.pick(candidates), context: new Uint8Array() }));
    }
  }
  if (learners.length > 0) {
    choices.push(() => ({ type: ConfChangeType.RemoveNode, nodeId: rng.pick(learners), context: new Uint8Array() }));
  }
  if (choices.length === 0) return;
  const change = rng.pick(choices)();
  if (change === undefined) return;
  try {
    node.proposeConfChange(change);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    cluster.log(() => `${leader.id} refused conf change ${ConfChangeType[change.type]} ${change.nodeId}: ${error.code}`);
    return;
  }
  cluster.log(() => `${leader.id} proposes ${ConfChangeType[change.type]} ${change.nodeId}`);
  if (change.type === ConfChangeType.AddLearner) cluster.addBlankReplica(change.nodeId);
  leader.drain(cluster);
}
