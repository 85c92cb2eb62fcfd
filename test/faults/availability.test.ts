// Faults that must not interrupt service for long, on five real replica processes under the chaos
// workload: a replica frozen past an election timeout, leadership handed over, a rolling restart.
import assert from 'node:assert/strict';
import { TestCluster, call, waitFor } from '../support/cluster.js';
import { longestAckGap } from '../../src/chaos/workload-records.js';
import type { GetStatusResponse, TransferLeadershipResponse } from '../../src/gen/chat/v1/chat.js';
import { afterScenario, aFollower, ELECTION_TIMEOUT_MS, figure, memberIds, restoreAll, sharedCluster, startWorkload, stopAndCheck, waitCaughtUp } from './support/harness.js';

describe('availability faults on a five-replica cluster under load', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async () => {
    cluster = await sharedCluster();
    await restoreAll(cluster);
  });
  afterEach(async () => {
    await afterScenario(cluster);
  });

  it('lets a replica frozen longer than an election timeout rejoin without disturbing the leader (PreVote, CheckQuorum)', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const paused = await aFollower(cluster);
    const others = cluster.running().map((n) => n.id).filter((id) => id !== paused);
    const before = await Promise.all(others.map((id) => cluster.status(id)));
    const pauseMs = 4 * ELECTION_TIMEOUT_MS;
    await cluster.kill(paused, 'SIGSTOP');
    const pausedAtMs = Date.now();
    await workload.waitForMoreAcknowledged(20, 30_000);
    // Stay frozen for several election timeouts however fast the writes went.
    await waitFor(`${pauseMs} ms to pass`, pauseMs + 1_000, async () => (Date.now() - pausedAtMs >= pauseMs ? true : undefined));
    await cluster.kill(paused, 'SIGCONT');
    await waitCaughtUp(cluster, paused);
    // Give a disruptive campaign every chance to happen before looking (it would within a timeout or two).
    await workload.waitForMoreAcknowledged(30, 30_000);
    const after = await Promise.all(others.map((id) => cluster.status(id)));
    const view = (s: GetStatusResponse): string => `${s.nodeId}: term ${s.term}, leader ${s.leaderId}`;
    assert.deepEqual(after.map(view), before.map(view), `the others kept their term and leader while ${paused} was frozen and thawed`);
    const rejoined = await cluster.status(paused);
    assert.equal(rejoined.leaderId, before[0]!.leaderId, `${paused} follows the same leader`);
    assert.equal(rejoined.term, before[0]!.term, `${paused} did not move to a new term`);
    figure(`${paused} frozen for ${Date.now() - pausedAtMs} ms overall; leader ${before[0]!.leaderId} kept term ${before[0]!.term}`);
    await stopAndCheck(cluster, workload);
  });

  it('loses no acknowledged write when leadership is transferred under load, and reports the longest gap', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const transfers: string[] = [];
    const fromMs = Date.now();
    for (let i = 0; i < 3; i++) {
      const leader = await cluster.waitForLeader();
      const target = await aFollower(cluster);
      const startedMs = Date.now();
      const reply = await call<unknown, TransferLeadershipResponse>(cluster.clusterClient(leader), 'transferLeadership', { toId: target }, { timeoutMs: 10_000 });
      assert.equal(reply.leaderId, target, `leadership went to ${target}`);
      await waitFor(`${target} to lead`, 10_000, async () => ((await cluster.status(target, 500)).role === 'leader' ? true : undefined));
      transfers.push(`${leader}→${target} in ${Date.now() - startedMs} ms`);
      await workload.waitForMoreAcknowledged(20, 30_000);
    }
    const gap = longestAckGap(workload.records(), fromMs, Date.now());
    figure(`transfers ${transfers.join(', ')}; longest gap between acknowledged writes ${gap.gapMs} ms`);
    await stopAndCheck(cluster, workload);
  });

  it('keeps refusing writes for less than 3 s at a time during a rolling restart of all five', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const fromMs = Date.now();
    const steps: string[] = [];
    for (const n of memberIds(cluster).map((id) => cluster.node(id))) {
      const leaderBefore = await cluster.waitForLeader();
      const stepStartMs = Date.now();
      await cluster.kill(n.id, 'SIGTERM');
      const exit = await n.exited!;
      assert.equal(exit.code, 0, `${n.id} stopped cleanly on SIGTERM`);
      cluster.restart(n.id);
      await waitCaughtUp(cluster, n.id);
      steps.push(`${n.id}${n.id === leaderBefore ? ' (leader)' : ''} ${Date.now() - stepStartMs} ms`);
      await workload.waitForMoreAcknowledged(10, 30_000);
    }
    const gap = longestAckGap(workload.records(), fromMs, Date.now());
    figure(`rolling restart: ${steps.join(', ')}`);
    figure(`longest stretch without an acknowledged write: ${gap.gapMs} ms (election timeout ${ELECTION_TIMEOUT_MS} ms)`);
    await stopAndCheck(cluster, workload);
    assert.ok(gap.gapMs < 3_000, `writes were refused for ${gap.gapMs} ms at a stretch (from ${new Date(gap.fromMs).toISOString()})`);
  });
});
