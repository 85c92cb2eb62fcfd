// Five replicas, each on its own host (a network namespace with its own address), under real link
// faults made with iptables: isolation, a 2|3 split, a one-way partition and a lossy link. Every
// scenario runs the verifying workload across the fault and the checker after healing.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ChatServiceClient } from '../../src/gen/chat/v1/chat.js';
import { RaftchatClient } from '../../src/client/index.js';
import { waitFor } from '../support/cluster.js';
import {
  allReplicas,
  assertHostTestsCanRun,
  others,
  startHostCluster,
  startWorkload,
  statusOf,
  stopAndVerify,
  waitForAgreement,
  waitForLeader,
  type HostFixture,
} from './hosts.js';

/** Elections take ~0.5–1 s (10 ticks of 50 ms, randomized); bounds leave room for two busy cores. */
const ELECTION_BOUND_MS = 15_000;
const HEAL_BOUND_MS = 30_000;
/** Five tsx processes compiling at once on two shared cores can take a minute before they serve. */
const STARTUP_BOUND_MS = 120_000;

describe('replicas on separate hosts (network namespaces)', function () {
  this.timeout(90_000);
  let fixture: HostFixture;
  let token = '';

  before(async function () {
    this.timeout(STARTUP_BOUND_MS + 30_000);
    assertHostTestsCanRun();
    fixture = await startHostCluster(STARTUP_BOUND_MS);
    const client = new RaftchatClient({ servers: fixture.cluster.clientAddresses, deadlineMs: 15_000 });
    try {
      await client.register({ username: 'probe', password: 'probe-password' });
      token = (await client.login({ username: 'probe', password: 'probe-password' })).token;
    } finally {
      client.close();
    }
  });

  afterEach(async function () {
    this.timeout(HEAL_BOUND_MS + 5_000);
    if (fixture === undefined) return;
    fixture.cluster.lab.heal();
    // The next scenario starts from a healthy cluster, whatever this one left behind.
    await waitForAgreement(fixture, HEAL_BOUND_MS);
  });

  after(async function () {
    this.timeout(30_000);
    await fixture?.close();
  });

  it('replicates a message written through one host to every other host', async () => {
    const writer = new RaftchatClient({ servers: [fixture.cluster.clientAddresses[1]!], deadlineMs: 10_000, token });
    const body = `across hosts ${Date.now()}`;
    try {
      const sent = await writer.sendMessage({ recipient: 'probe', body });
      const id = sent.message?.id ?? 0;
      assert.ok(id > 0, 'the send returned no message id');
      for (const index of allReplicas()) {
        const reader = fixture.single[index]!;
        reader.setToken(token);
        // A stale read answers from that host's own copy, so it shows what replication put there.
        await waitFor(`n${index} to hold message ${id}`, 10_000, async () => {
          const page = await reader.listMessages({ stale: true, afterId: id - 1, limit: 1 });
          return page.messages.some((m) => m.id === id && m.body === body) ? true : undefined;
        });
      }
    } finally {
      writer.close();
    }
  });

  it('keeps serving on the majority when the leader\'s host is isolated, and the old leader steps down on healing', async () => {
    const before = await waitForLeader(fixture, allReplicas(), ELECTION_BOUND_MS);
    const workload = await startWorkload(fixture);
    await workload.waitForMoreAcknowledged(20, 15_000);

    fixture.cluster.lab.isolate(before.index);
    const majority = others(before.index);
    const elected = await waitForLeader(fixture, majority, ELECTION_BOUND_MS, before.term);
    assert.notEqual(elected.index, before.index);
    // CheckQuorum (thesis §6.2): the isolated leader notices it hears from no majority and steps down.
    await waitForLeaderless(fixture, before.index, ELECTION_BOUND_MS);
    // A client that can reach only the isolated host is refused, within the server's deadline.
    const refusal = writeThrough(fixture, before.index, token);
    await workload.waitForMoreAcknowledged(20, 15_000);
    assertUnavailable(await refusal, before.index);

    fixture.cluster.lab.heal();
    const agreed = await waitForAgreement(fixture, HEAL_BOUND_MS);
    assert.ok(agreed.term >= elected.term, 'the healed cluster went back to an older term');
    await stopAndVerify(fixture, workload);
  });

  it('serves on the 3 side of a 2|3 split, refuses writes on the 2 side, and converges after healing', async () => {
    const leader = await waitForLeader(fixture, allReplicas(), ELECTION_BOUND_MS);
    // Put the leader on the minority side so the majority must elect a new one.
    const minority = [leader.index, others(leader.index)[0]!];
    const majority = allReplicas().filter((i) => !minority.includes(i));
    const workload = await startWorkload(fixture);
    await workload.waitForMoreAcknowledged(20, 15_000);

    fixture.cluster.lab.partition(minority, majority);
    await waitForLeader(fixture, majority, ELECTION_BOUND_MS, leader.term);
    for (const index of minority) await waitForLeaderless(fixture, index, ELECTION_BOUND_MS);
    const refusals = minority.map((index) => writeThrough(fixture, index, token));
    await workload.waitForMoreAcknowledged(20, 15_000);

    for (const [i, refusal] of (await Promise.all(refusals)).entries()) assertUnavailable(refusal, minority[i]!);

    fixture.cluster.lab.heal();
    await waitForAgreement(fixture, HEAL_BOUND_MS);
    await stopAndVerify(fixture, workload);
  });

  it('ends with a working leader when the leader can send to the others but not hear from them', async () => {
    const leader = await waitForLeader(fixture, allReplicas(), ELECTION_BOUND_MS);
    const workload = await startWorkload(fixture);
    await workload.waitForMoreAcknowledged(20, 15_000);

    for (const other of others(leader.index)) fixture.cluster.lab.cut(leader.index, other, 'in');
    // The deaf leader gets no acknowledgements, so it cannot commit; CheckQuorum makes it step down
    // and the others, no longer hearing heartbeats, elect one of themselves.
    const elected = await waitForLeader(fixture, others(leader.index), ELECTION_BOUND_MS, leader.term);
    assert.notEqual(elected.index, leader.index);
    await workload.waitForMoreAcknowledged(30, 20_000);

    fixture.cluster.lab.heal();
    await waitForAgreement(fixture, HEAL_BOUND_MS);
    await stopAndVerify(fixture, workload);
  });

  it('keeps committing while a follower can hear the others but not answer them', async () => {
    const leader = await waitForLeader(fixture, allReplicas(), ELECTION_BOUND_MS);
    const mute = others(leader.index)[0]!;
    const workload = await startWorkload(fixture);
    await workload.waitForMoreAcknowledged(20, 15_000);

    for (const other of others(mute)) fixture.cluster.lab.cut(mute, other, 'out');
    // PreVote (thesis §9.6): the mute follower's campaigns cannot disturb the working leader.
    await workload.waitForMoreAcknowledged(40, 20_000);

    fixture.cluster.lab.heal();
    await waitForAgreement(fixture, HEAL_BOUND_MS);
    await stopAndVerify(fixture, workload);
  });

  it('makes progress and loses nothing while two hosts drop a fifth of their packets', async () => {
    const leader = await waitForLeader(fixture, allReplicas(), ELECTION_BOUND_MS);
    const workload = await startWorkload(fixture);
    await workload.waitForMoreAcknowledged(20, 15_000);

    // The leader's host and one follower's host: both directions of every link they have.
    fixture.cluster.lab.flaky(leader.index, 0.2);
    fixture.cluster.lab.flaky(others(leader.index)[1]!, 0.2);
    await workload.waitForMoreAcknowledged(60, 30_000);

    fixture.cluster.lab.heal();
    await waitForAgreement(fixture, HEAL_BOUND_MS);
    await stopAndVerify(fixture, workload);
  });
});

/**
 * Sends through host `index` alone. The call carries no gRPC deadline, so the server's own default
 * (10 s) bounds it and the server's answer is not raced by a client-side timer.
 */
async function writeThrough(fixture: HostFixture, index: number, token: string): Promise<grpc.ServiceError | 'acknowledged'> {
  const client = new ChatServiceClient(fixture.cluster.clientAddresses[index]!, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const request = { recipient: 'probe', body: `minority write via n${index}`, requestId: `minority-${index}-${Date.now()}` };
  try {
    return await new Promise<grpc.ServiceError | 'acknowledged'>((resolve) => {
      client.sendMessage(request, metadata, { deadline: Infinity }, (err) => resolve(err ?? 'acknowledged'));
    });
  } finally {
    client.close();
  }
}

function assertUnavailable(outcome: grpc.ServiceError | 'acknowledged', index: number): void {
  assert.notEqual(outcome, 'acknowledged', `n${index} acknowledged a write without a quorum`);
  const refusal = outcome as grpc.ServiceError;
  assert.equal(refusal.code, grpc.status.UNAVAILABLE, `n${index}: expected UNAVAILABLE, got ${grpc.status[refusal.code]}: ${refusal.details}`);
}

/**
 * Waits until replica `index` neither leads nor knows a leader (CheckQuorum made the leader step
 * down, thesis §6.2; a follower cut off from the majority campaigns and forgets its leader). From
 * then on a write through it waits for a leader and ends UNAVAILABLE. (A write caught in the
 * transition may end DEADLINE_EXCEEDED instead; the workload's checker covers those.)
 */
async function waitForLeaderless(fixture: HostFixture, index: number, timeoutMs: number): Promise<void> {
  await waitFor(`n${index} to have no leader`, timeoutMs, async () => {
    const status = await statusOf(fixture, index);
    return status !== undefined && status.role !== 'leader' && status.leaderId === '' ? true : undefined;
  });
}
