// The fault scheduler of the chaos phase: crashes, partitions of every shape and heals, forced
// elections and leadership transfers, each drawn from the seed at the scenario's rates.
import { RaftError, type NodeId } from '../../src/raft/index.js';
import type { SimCluster } from './cluster.js';

export function injectFaults(cluster: SimCluster): void {
  const { rng, scenario } = cluster;
  if (rng.chance(scenario.crashProbability)) crashOne(cluster);
  if (rng.chance(scenario.partitionProbability)) partition(cluster);
  if (cluster.network.cutLinkCount > 0 && rng.chance(scenario.healProbability)) {
    cluster.network.heal();
    cluster.log(() => 'HEAL');
  }
  if (rng.chance(scenario.transferProbability)) transferLeadership(cluster);
  if (rng.chance(scenario.campaignProbability)) forceCampaign(cluster);
}

function serving(cluster: SimCluster): NodeId[] {
  const ids: NodeId[] = [];
  for (const replica of cluster.replicas.values()) if (!replica.retired) ids.push(replica.id);
  return ids;
}

function crashOne(cluster: SimCluster): void {
  if (cluster.crashedCount() >= cluster.scenario.maxCrashedAtOnce) return;
  const live = cluster.liveReplicas().filter((replica) => !replica.retired);
  if (live.length === 0) return;
  // Leaders are crashed more often than their share: that is where the interesting failures are.
  const leader = cluster.leader();
  const victim = leader !== undefined && cluster.rng.chance(0.3) ? leader : cluster.rng.pick(live);
  cluster.crash(victim, 'fault');
}

function partition(cluster: SimCluster): void {
  const { rng, network } = cluster;
  const ids = serving(cluster);
  if (ids.length < 2) return;
  const shape = rng.int(4);
  if (shape === 0) {
    const shuffled = rng.shuffled(ids);
    const cut = rng.range(1, ids.length - 1);
    const sideA = shuffled.slice(0, cut);
    const sideB = shuffled.slice(cut);
    network.partition(sideA, sideB);
    cluster.log(() => `PARTITION [${sideA.join(',')}] | [${sideB.join(',')}]`);
  } else if (shape === 1 || shape === 2) {
    const leader = cluster.leader();
    const alone = shape === 2 && leader !== undefined ? leader.id : rng.pick(ids);
    network.partition([alone], ids.filter((id) => id !== alone));
    cluster.log(() => `ISOLATE ${alone}${shape === 2 ? ' (leader)' : ''}`);
  } else {
    const links = rng.range(1, ids.length);
    for (let i = 0; i < links; i++) {
      const from = rng.pick(ids);
      const to = rng.pick(ids);
      if (from === to) continue;
      network.cutOneWay(from, to);
      cluster.log(() => `CUT ${from} -> ${to} (one way)`);
    }
  }
}

function transferLeadership(cluster: SimCluster): void {
  const leader = cluster.leader();
  const node = leader?.node;
  if (leader === undefined || node === undefined) return;
  const target = cluster.rng.pick(serving(cluster));
  try {
    node.transferLeadership(target);
    cluster.log(() => `${leader.id} transferLeadership(${target})`);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    cluster.log(() => `${leader.id} refused transfer to ${target}: ${error.code}`);
  }
  leader.drain(cluster);
}

function forceCampaign(cluster: SimCluster): void {
  const live = cluster.liveReplicas().filter((replica) => !replica.retired);
  if (live.length === 0) return;
  const replica = cluster.rng.pick(live);
  const node = replica.node;
  if (node === undefined) return;
  try {
    node.campaign();
    cluster.log(() => `${replica.id} campaign()`);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
  }
  replica.drain(cluster);
}
