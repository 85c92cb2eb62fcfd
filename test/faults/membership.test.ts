// Membership changes under the chaos workload on five real replica processes: a new replica joins,
// catches up through a snapshot after log compaction and becomes a voter; then a voter is removed
// and stopped. Writes keep being acknowledged through both changes.
import assert from 'node:assert/strict';
import { TestCluster, call, waitFor } from '../support/cluster.js';
import { firstAckAfter, longestAckGap } from '../../src/chaos/workload-records.js';
import type { RemoveMemberResponse } from '../../src/gen/chat/v1/chat.js';
import { aFollower, figure, logText, startFaultCluster, startWorkload, stopAndCheck, waitCaughtUp } from './support/harness.js';

/** Compacts often, so a joiner cannot be caught up from the log alone. */
const SNAPSHOT_ENTRIES = 100;

describe('membership changes on a five-replica cluster under load', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async () => {
    cluster = await startFaultCluster({ snapshotEntries: SNAPSHOT_ENTRIES });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('adds a replica that catches up through a snapshot and votes, then removes one, serving throughout', async () => {
    const workload = await startWorkload(cluster);
    const fromMs = Date.now();
    await waitFor('the leader to compact its log', 60_000, async () => {
      const s = await cluster.status(await cluster.waitForLeader());
      return s.firstIndex > 1 ? true : undefined;
    });

    const leader = await cluster.waitForLeader();
    const joinedAtMs = Date.now();
    const joiner = await cluster.join('n5', cluster.node(leader).clientAddress);
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
    assert.deepEqual(reply.members.map((m) => m.id).sort(), ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'].filter((id) => id !== removed));
    await cluster.kill(removed, 'SIGKILL');
    await workload.waitForMoreAcknowledged(30, 30_000);
    const first = firstAckAfter(workload.records(), removedAtMs)!;
    figure(`${removed} removed and killed; first write acknowledged ${first.endedAtMs - removedAtMs} ms after the removal was asked`);
    const status = await cluster.status(await cluster.waitForLeader());
    assert.deepEqual(status.members.filter((m) => m.voter).map((m) => m.id).sort(), ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'].filter((id) => id !== removed));

    const gap = longestAckGap(workload.records(), fromMs, Date.now());
    figure(`longest stretch without an acknowledged write through both changes: ${gap.gapMs} ms`);
    await stopAndCheck(cluster, workload);
  });
});
