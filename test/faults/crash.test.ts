// Crash faults on five real replica processes under the chaos workload: the leader SIGKILLed, two
// replicas, three (quorum lost, then regained), and every replica stopped at once (SIGTERM, SIGKILL).
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { TestCluster, call } from '../support/cluster.js';
import { firstAckAfter, longestAckGap } from '../../src/chaos/workload-records.js';
import { ReadConsistency, type ListMessagesResponse, type SendMessageResponse } from '../../src/gen/chat/v1/chat.js';
import { afterScenario, figure, memberIds, restoreAll, sharedCluster, startWorkload, stopAndCheck } from './support/harness.js';

describe('crash faults on a five-replica cluster under load', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async () => {
    cluster = await sharedCluster();
    await restoreAll(cluster);
  });
  afterEach(async () => {
    // Each scenario starts from five running replicas, whatever the previous one left behind.
    await afterScenario(cluster);
  });

  it('elects a new leader that serves writes when the leader is SIGKILLed', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const leader = await cluster.waitForLeader();
    const killedAtMs = Date.now();
    await cluster.kill(leader, 'SIGKILL');
    await workload.waitForMoreAcknowledged(30, 30_000);
    const newLeader = await cluster.waitForLeader(10_000, [leader]);
    assert.notEqual(newLeader, leader);
    const first = firstAckAfter(workload.records(), killedAtMs);
    assert.ok(first !== undefined, 'a write was acknowledged after the kill');
    figure(`leader ${leader} SIGKILLed: first acknowledged write ${first.endedAtMs - killedAtMs} ms later (new leader ${newLeader})`);
    cluster.restart(leader);
    await cluster.waitForConvergence(0, 30_000);
    await stopAndCheck(cluster, workload);
  });

  it('keeps serving on the remaining three when two replicas, one the leader, are SIGKILLed', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const leader = await cluster.waitForLeader();
    const follower = cluster.running().find((n) => n.id !== leader)!.id;
    const killedAtMs = Date.now();
    await Promise.all([cluster.kill(leader, 'SIGKILL'), cluster.kill(follower, 'SIGKILL')]);
    await workload.waitForMoreAcknowledged(50, 30_000);
    const survivors = cluster.running().map((n) => n.id);
    assert.equal(survivors.length, 3);
    const first = firstAckAfter(workload.records(), killedAtMs)!;
    figure(`${leader} (leader) and ${follower} SIGKILLed: first acknowledged write ${first.endedAtMs - killedAtMs} ms later`);
    await restoreAll(cluster);
    await stopAndCheck(cluster, workload);
  });

  it('refuses writes and linearizable reads without a quorum, answers stale reads, and resumes by itself', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const leader = await cluster.waitForLeader();
    const victims = [leader, ...cluster.running().filter((n) => n.id !== leader).slice(0, 2).map((n) => n.id)];
    await Promise.all(victims.map((id) => cluster.kill(id, 'SIGKILL')));
    const outageFromMs = Date.now();
    const survivor = cluster.running()[0]!.id;
    const [user] = workload.users();
    const token = user!.token;

    // Writes and linearizable reads: refused with UNAVAILABLE (the API's "no quorum, safe to
    // retry") within the client's deadline. Contract breaches are collected and asserted at the
    // end, so the rest of the scenario (stale reads, recovery, nothing lost) is still exercised.
    const breaches: string[] = [];
    const expectUnavailable = async (what: string, attempt: () => Promise<unknown>): Promise<void> => {
      const startedMs = Date.now();
      try {
        await attempt();
        breaches.push(`${what} succeeded without a quorum`);
      } catch (err) {
        const { code, details } = err as ServiceError;
        const tookMs = Date.now() - startedMs;
        figure(`${what} without quorum: ${grpcStatus[code]} after ${tookMs} ms (deadline ${deadlineMs} ms)`);
        if (code !== grpcStatus.UNAVAILABLE) breaches.push(`${what}: expected UNAVAILABLE, got ${grpcStatus[code]} after ${tookMs} ms (${details})`);
      }
    };
    const probeIds: string[] = [];
    const deadlineMs = 3_000;
    for (let i = 0; i < 2; i++) {
      const requestId = `${workload.runId}-probe-${i}`;
      probeIds.push(requestId);
      const request = { recipient: user!.username, body: requestId, requestId };
      await expectUnavailable('a write', () => call<unknown, SendMessageResponse>(cluster.chat(survivor), 'sendMessage', request, { token, timeoutMs: deadlineMs }));
    }
    const linearizable = { unreadOnly: false, afterId: 0, limit: 10, consistency: ReadConsistency.READ_CONSISTENCY_LINEARIZABLE };
    await expectUnavailable('a linearizable read', () => call<unknown, ListMessagesResponse>(cluster.chat(survivor), 'listMessages', linearizable, { token, timeoutMs: deadlineMs }));
    const stale = await call<unknown, ListMessagesResponse>(
      cluster.chat(survivor),
      'listMessages',
      { unreadOnly: false, afterId: 0, limit: 10, consistency: ReadConsistency.READ_CONSISTENCY_STALE },
      { token, timeoutMs: deadlineMs },
    );
    assert.ok(stale.messages.length > 0, 'a stale read answers from the survivor\'s own copy');

    // Two come back: service resumes with no one's help.
    cluster.restart(victims[1]!);
    cluster.restart(victims[2]!);
    const resumedFromMs = Date.now();
    await workload.waitForMoreAcknowledged(30, 60_000);
    const first = firstAckAfter(workload.records(), resumedFromMs)!;
    figure(`quorum lost for ${resumedFromMs - outageFromMs} ms; first write acknowledged ${first.endedAtMs - resumedFromMs} ms after two replicas restarted`);
    // Nothing started inside the outage was acknowledged while there was no quorum.
    const settledMs = outageFromMs + 3_000;
    const ackedInOutage = workload.records().filter((s) => s.outcome === 'acknowledged' && s.startedAtMs >= settledMs && s.endedAtMs < resumedFromMs);
    assert.deepEqual(ackedInOutage.map((s) => s.requestId), [], 'no write was acknowledged without a quorum');

    cluster.restart(victims[0]!);
    await cluster.waitForConvergence(0, 60_000);
    const { result } = await stopAndCheck(cluster, workload);
    // The refused probes may have reached a log before the quorum was lost: at most once each.
    const appearances = await countBodies(cluster, survivor, token, probeIds);
    for (const id of probeIds) assert.ok((appearances.get(id) ?? 0) <= 1, `refused probe ${id} stored ${appearances.get(id)} times`);
    const uncertain = result.sends.filter((s) => s.outcome === 'uncertain').length;
    figure(`${uncertain} workload sends ended uncertain during the outage; ${[...appearances.values()].reduce((a, b) => a + b, 0)} of ${probeIds.length} refused probes stored`);
    assert.deepEqual(breaches, [], 'calls without a quorum are refused with UNAVAILABLE within the deadline');
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`brings back everything acknowledged when all five are stopped at once with ${signal} and restarted`, async () => {
      const workload = await startWorkload(cluster);
      await workload.waitForMoreAcknowledged(40, 30_000);
      const stoppedAtMs = Date.now();
      const exits = await Promise.all(
        memberIds(cluster).map(async (id) => {
          await cluster.kill(id, signal);
          return cluster.node(id).exited!;
        }),
      );
      if (signal === 'SIGTERM') {
        assert.deepEqual(exits.map((e) => e.code), exits.map(() => 0), 'every replica stopped cleanly on SIGTERM');
      }
      const downForMs = Date.now() - stoppedAtMs;
      for (const id of memberIds(cluster)) cluster.restart(id);
      const restartedAtMs = Date.now();
      // Five processes starting at once on a shared CI machine: patient, and the time is printed.
      await workload.waitForMoreAcknowledged(30, 120_000);
      const first = firstAckAfter(workload.records(), restartedAtMs)!;
      figure(`all five ${signal}ed (${downForMs} ms to stop); first write acknowledged ${first.endedAtMs - restartedAtMs} ms after the restart`);
      await cluster.waitForConvergence(0, 60_000);
      const { result } = await stopAndCheck(cluster, workload);
      figure(`longest stretch without an acknowledged write: ${longestAckGap(result.sends, stoppedAtMs - 1_000, first.endedAtMs + 1_000).gapMs} ms`);
    });
  }
});

async function countBodies(cluster: TestCluster, via: string, token: string, bodies: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let afterId = 0; ; ) {
    const request = { unreadOnly: false, afterId, limit: 1000, consistency: ReadConsistency.READ_CONSISTENCY_STALE };
    const page = await call<unknown, ListMessagesResponse>(cluster.chat(via), 'listMessages', request, { token });
    for (const m of page.messages) if (bodies.includes(m.body)) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
    if (!page.more || page.messages.length === 0) return counts;
    afterId = page.messages[page.messages.length - 1]!.id;
  }
}
