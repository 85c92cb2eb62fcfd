// Seeded random schedules over the test network: partitions, message loss, crashes and restarts,
// leadership transfers. Every step checks election safety and that replicas apply identical entries
// at each index (Network.checkSafety and its apply check); at the end the healed cluster must converge.
import assert from 'node:assert/strict';
import { ConfChangeType, mulberry32, RaftError } from '../../src/raft/index.js';
import { Network } from './helpers/network.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

function runSchedule(seed: number, withMembership = false): Network {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const net = new Network(ids, { preVote: rand() < 0.7, checkQuorum: rand() < 0.7, seed, maxInflightMessages: 4, maxBytesPerMessage: 200 });
  let lossRate = 0;
  net.dropFilter = () => rand() < lossRate;
  let proposed = 0;
  for (let step = 0; step < 250; step++) {
    const r = rand();
    if (r < 0.45) {
      net.run(1);
    } else if (r < 0.7) {
      const leader = net.leader();
      if (leader !== undefined) {
        try {
          net.propose(leader, `s${seed}-${proposed++}`);
        } catch (err) {
          if (!(err instanceof RaftError)) throw err;
        }
      }
    } else if (r < 0.76) {
      const shuffled = [...ids].sort(() => rand() - 0.5);
      const cut = 1 + Math.floor(rand() * 2);
      net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else if (r < 0.82) {
      net.heal();
    } else if (r < 0.86) {
      lossRate = pick([0, 0, 0.1, 0.3]);
    } else if (r < 0.9) {
      const down = ids.filter((id) => !net.node(id).up);
      if (down.length < 2) net.crash(pick(ids.filter((id) => net.node(id).up)));
    } else if (r < 0.95) {
      const down = ids.filter((id) => !net.node(id).up);
      if (down.length > 0) net.restart(pick(down));
    } else if (withMembership && r < 0.97) {
      // Compaction on a live node, or a membership change of the spare member n6.
      const live = ids.filter((id) => net.node(id).up);
      const id = pick(live);
      const n = net.node(id);
      if (rand() < 0.5 && n.appliedIndex > n.raw.status().firstIndex + 2) {
        net.compact(id, n.appliedIndex - Math.floor(rand() * 3));
      } else {
        const leader = net.leader();
        if (!net.nodes.has('n6')) net.addEmptyNode('n6');
        if (leader !== undefined) {
          try {
            net.proposeConfChange(leader, pick([ConfChangeType.AddLearner, ConfChangeType.AddNode, ConfChangeType.RemoveNode]), 'n6');
          } catch (err) {
            if (!(err instanceof RaftError)) throw err;
          }
        }
      }
    } else {
      const leader = net.leader();
      if (leader !== undefined) {
        try {
          net.raw(leader).transferLeadership(pick(ids));
        } catch (err) {
          if (!(err instanceof RaftError)) throw err;
        }
      }
    }
  }
  // Heal everything: the cluster must elect a leader and every replica must converge.
  lossRate = 0;
  net.heal();
  for (const id of ids) if (!net.node(id).up) net.restart(id);
  net.run(200); // generous: without PreVote, stale candidates can lose several elections in a row
  const leader = net.leader();
  assert.ok(leader !== undefined, `seed ${seed}: no leader after healing`);
  net.propose(leader, 'final');
  net.run(5);
  return net;
}

function assertConverged(net: Network, seed: number): void {
  const reference = net.node('n1');
  const members = [...net.nodes.keys()].filter((id) => reference.raw.status().confState.voters.includes(id)
    || reference.raw.status().confState.learners.includes(id));
  for (const id of members) {
    const n = net.node(id);
    assert.equal(n.appliedIndex, reference.appliedIndex, `seed ${seed}: ${id} applied ${n.appliedIndex}, n1 ${reference.appliedIndex}`);
    assert.deepEqual(n.values, reference.values, `seed ${seed}: ${id} diverged`);
  }
  assert.equal(reference.values[reference.values.length - 1], 'final');
}

describe('randomized schedules (seeded)', () => {
  it('keep election safety and state machine safety, and converge once healed, over 60 seeds', function () {
    this.timeout(60_000);
    for (let seed = 1; seed <= 60; seed++) assertConverged(runSchedule(seed), seed);
  });

  it('stay safe and converge with log compaction, snapshots and membership changes, over 60 seeds', function () {
    this.timeout(60_000);
    for (let seed = 1001; seed <= 1060; seed++) assertConverged(runSchedule(seed, true), seed);
  });
});
