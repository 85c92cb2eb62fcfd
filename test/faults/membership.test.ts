// Membership changes under the chaos workload on five real replica processes: a new replica joins,
// catches up through a snapshot after log compaction and becomes a voter; then a voter is removed
// and stopped. Writes keep being acknowledged through both changes.
import assert from 'node:assert/strict';
import { TestCluster, call, waitFor } from '../support/cluster.js';
import { firstAckAfter, longestAckGap } from '../../src/chaos/workload-records.js';
import type { RemoveMemberResponse } from '../../src/gen/chat/v1/chat.js';
import { afterScenario, aFollower, figure, logText, markRemoved, memberIds, restoreAll, sharedCluster, startWorkload, stopAndCheck, waitCaughtUp } from './support/harness.js';

describe('membership changes on a five-replica cluster under load', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  // The shared cluster compacts its log every SNAPSHOT_ENTRIES entries, so a joiner cannot be
  // caught up from the log alone.
  before(async () => {
    cluster = await sharedCluster();
    await restoreAll(cluster);
  });
  afterEach(async () => {
    await afterScenario(cluster);
  });

  it('adds a replica that catches up through a snapshot and votes, then removes one, serving throughout', async () => {
    const workload = await startWorkload(cluster);
    const fromMs = Date.now();
    await waitFor('the leader to compact its log', 60_000, async () => {
      const s = await cluster.status(await cluster.waitForLeader());
      return s.firstIndex > 1 ? true : undefined;
    });

    const membersBefore = memberIds(cluster);
    const leader = await cluster.waitForLeader();
    const joinedAtMs = Date.now();
    const joiner = await cluster.join(`n${cluster.nodes.length}`, cluster.node(leader).clientAddress);
    await waitFor(`${joiner.id} to become a voter`, 60_000, async () => {
      const s = await cluster.status(await cluster.waitForLeader());
      return s.members.find((m) => m.id === joiner.id)?.voter === true ? true : undefined;
    });
    const voterAfterMs = Date.now() - joinedAtMs;
    await waitCaughtUp(cluster, joiner.id);
    assert.match(logText(cluster, joiner.id), /snapshot installed/, `${joiner.id} caught up through a snapshot`);
    await workload.waitForMoreAcknowledged(20, 30_000);
    figure(`${joiner.id} joined and became a voter ${voterAfterMs} ms after starting (through a snapshot)`);

    const removed = await aFollower(cluster, [joiner.id]);
    const currentLeader = await cluster.waitForLeader();
    const removedAtMs = Date.now();
    const reply = await call<unknown, RemoveMemberResponse>(cluster.clusterClient(currentLeader), 'removeMember', { id: removed }, { timeoutMs: 10_000 });
    const membersAfter = [...membersBefore, joiner.id].filter((id) => id !== removed).sort();
    assert.deepEqual(reply.members.map((m) => m.id).sort(), membersAfter);
    await cluster.kill(removed, 'SIGKILL');
    markRemoved(cluster, removed);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const first = firstAckAfter(workload.records(), removedAtMs)!;
    figure(`${removed} removed and killed; first write acknowledged ${first.endedAtMs - removedAtMs} ms after the removal was asked`);
    const status = await cluster.status(await cluster.waitForLeader());
    assert.deepEqual(status.members.filter((m) => m.voter).map((m) => m.id).sort(), membersAfter);

    const gap = longestAckGap(workload.records(), fromMs, Date.now());
    figure(`longest stretch without an acknowledged write through both changes: ${gap.gapMs} ms`);
    await stopAndCheck(cluster, workload);
  });
});
