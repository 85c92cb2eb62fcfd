// ReplicaMetrics: what one replica exposes, read back through the text format Prometheus scrapes.
import assert from 'node:assert/strict';
import { createMetrics, type MemberSnapshot, type StatusSnapshot } from '../../../src/metrics/index.js';
import type { ReplicaStatus } from '../../../src/node/types.js';
import { parseExposition, sampleValue, type Family } from '../support/exposition.js';

const member = (id: string, lag = 0, reachable = true, voter = true): MemberSnapshot => ({ id, voter, reachable, lag });

function leaderStatus(overrides: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    role: 'leader',
    term: 4,
    leaderId: 'n0',
    commitIndex: 120,
    appliedIndex: 118,
    lastIndex: 125,
    snapshotIndex: 100,
    members: [member('n0'), member('n1', 3), member('n2', 0, false), member('n3', 7, true, false)],
    ...overrides,
  };
}

async function scrape(metrics: { text(): Promise<string> }): Promise<Map<string, Family>> {
  return parseExposition(await metrics.text());
}

describe('ReplicaMetrics', () => {
  it('names every metric of ours raftchat_* with help text and the suffix its type and unit call for', async () => {
    const families = await scrape(createMetrics({ nodeId: 'n0', defaultMetrics: false }));
    const ours = [...families.values()].filter((f) => !f.name.startsWith('grpc_server_'));
    assert.ok(ours.length >= 30, `expected at least 30 raftchat metrics, found ${ours.length}`);
    for (const f of ours) {
      assert.match(f.name, /^raftchat_[a-z_]+$/, f.name);
      assert.ok(f.help.length > 10, `${f.name} needs help text`);
      if (f.type === 'counter') assert.match(f.name, /_total$/, `counter ${f.name} must end in _total`);
      else assert.doesNotMatch(f.name, /_total$/, `${f.type} ${f.name} must not end in _total`);
      if (f.type === 'histogram') assert.match(f.name, /_seconds$/, `histogram ${f.name} measures seconds`);
      if (/bytes/.test(f.name)) assert.match(f.name, /_bytes(_total)?$/, `${f.name}: bytes are the unit suffix`);
      assert.doesNotMatch(f.name, /_(ms|milliseconds|kb|mb)(_|$)/, `${f.name}: base units only`);
    }
  });

  it('uses only bounded label names: never a user, a message or a request id', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    metrics.setStatusSource(() => leaderStatus());
    metrics.observePeerRoundTripSeconds('n1', 0.002);
    // `limit` takes its values from a fixed list (src/api/limits.ts), anything else is `other`.
    const allowed = new Set(['reason', 'role', 'peer', 'node_id', 'le', 'grpc_type', 'grpc_service', 'grpc_method', 'grpc_code', 'limit']);
    for (const f of (await scrape(metrics)).values()) {
      for (const s of f.samples) for (const label of Object.keys(s.labels)) assert.ok(allowed.has(label), `${s.name} has label ${label}`);
    }
  });

  it('reads term, role, leader, indexes and membership from the status source at scrape time', async () => {
    // Compiles only while src/node's ReplicaStatus fits StatusSnapshot, so `() => replica.status()` stays a source.
    const replicaStatusFits: (status: ReplicaStatus) => StatusSnapshot = (status) => status;
    void replicaStatusFits;
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    let status = leaderStatus();
    metrics.setStatusSource(() => status);
    let f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_raft_term'), 4);
    assert.equal(sampleValue(f, 'raftchat_raft_is_leader'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_has_leader'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_role', { role: 'leader' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_role', { role: 'follower' }), 0);
    assert.equal(sampleValue(f, 'raftchat_raft_commit_index'), 120);
    assert.equal(sampleValue(f, 'raftchat_raft_applied_index'), 118);
    assert.equal(sampleValue(f, 'raftchat_raft_last_index'), 125);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshot_index'), 100);
    assert.equal(sampleValue(f, 'raftchat_raft_voters'), 3);
    assert.equal(sampleValue(f, 'raftchat_raft_learners'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_quorum_size'), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_reachable_voters'), 2, 'n0 itself and n1; n2 is unreachable, n3 a learner');

    status = { ...status, role: 'follower', term: 5, leaderId: '', commitIndex: 130 };
    await new Promise((resolve) => setImmediate(resolve));
    f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_raft_term'), 5);
    assert.equal(sampleValue(f, 'raftchat_raft_is_leader'), 0);
    assert.equal(sampleValue(f, 'raftchat_raft_has_leader'), 0);
    assert.equal(sampleValue(f, 'raftchat_raft_role', { role: 'follower' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_commit_index'), 130);
  });

  it('reports per-peer lag and reachability on the leader only, without the leader itself', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    let status = leaderStatus();
    metrics.setStatusSource(() => status);
    let f = await scrape(metrics);
    const lag = f.get('raftchat_raft_peer_lag_entries');
    assert.deepEqual(lag?.samples.map((s) => [s.labels['peer'], s.value]), [['n1', 3], ['n2', 0], ['n3', 7]]);
    assert.equal(sampleValue(f, 'raftchat_raft_peer_reachable', { peer: 'n2' }), 0);

    status = { ...status, role: 'follower', leaderId: 'n1' };
    await new Promise((resolve) => setImmediate(resolve));
    f = await scrape(metrics);
    assert.equal(f.get('raftchat_raft_peer_lag_entries')?.samples.length, 0, 'a follower has no view of its peers');
    assert.equal(f.get('raftchat_raft_peer_reachable')?.samples.length, 0);
    assert.equal(sampleValue(f, 'raftchat_raft_reachable_voters'), 0);
  });

  it('counts a leader change for each new leader, however often the same leader is reported', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    let leaderId = '';
    metrics.setStatusSource(() => leaderStatus({ role: 'follower', leaderId }));
    const changes = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return sampleValue(await scrape(metrics), 'raftchat_raft_leader_changes_seen_total');
    };
    assert.equal(await changes(), 0, 'no leader yet');
    metrics.observeLeader('n1');
    metrics.observeLeader('n1');
    leaderId = 'n1';
    assert.equal(await changes(), 1, 'the first leader counts once, through the hook and the scrape alike');
    leaderId = '';
    metrics.observeLeader('');
    assert.equal(await changes(), 1, 'an election in progress is not a change');
    leaderId = 'n2';
    assert.equal(await changes(), 2, 'a scrape notices a change no hook reported');
    metrics.observeLeader('n3');
    leaderId = 'n3';
    assert.equal(await changes(), 3, 'the hook and the next scrape report the same change once');
  });

  it('counts the peer messages the Raft core refused, by reason', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    metrics.peerMessageRefused('bad-entries');
    metrics.peerMessageRefused('bad-entries');
    metrics.peerMessageRefused('misdirected');
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_raft_peer_messages_refused_total', { reason: 'bad-entries' }), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_peer_messages_refused_total', { reason: 'misdirected' }), 1);
  });

  it('counts proposals and their outcomes, with failure reasons mapped to a bounded set', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    metrics.proposalCommitted(0.004);
    metrics.proposalCommitted(0.02);
    metrics.proposalFailed('PROPOSAL_DROPPED');
    metrics.proposalFailed('UNAVAILABLE');
    metrics.proposalFailed('something-new');
    let pending = 7;
    metrics.setPendingProposalsSource(() => pending);
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_committed_total'), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_proposal_commit_duration_seconds_count'), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_proposal_commit_duration_seconds_bucket', { le: '0.004' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_failed_total', { reason: 'dropped' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_failed_total', { reason: 'unavailable' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_failed_total', { reason: 'other' }), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_failed_total', { reason: 'stopped' }), 0, 'every reason exists from the start');
    assert.equal(sampleValue(f, 'raftchat_raft_proposals_pending'), 7);
    pending = 0;
    assert.equal(sampleValue(await scrape(metrics), 'raftchat_raft_proposals_pending'), 0);
  });

  it('feeds the fsync histogram from synced storage writes only, and counts log bytes of all', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    const onWrite = metrics.storageWriteObserver;
    onWrite(0.3, 4, 1000, true);
    onWrite(2, 0, 0, false);
    onWrite(1.5, 1, 24, true);
    metrics.observeAppendToDurableSeconds(0.0009);
    metrics.observeApplySeconds(0.001, 5);
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_storage_fsync_duration_seconds_count'), 2);
    assert.ok(Math.abs(sampleValue(f, 'raftchat_storage_fsync_duration_seconds_sum') - 0.0018) < 1e-9);
    assert.equal(sampleValue(f, 'raftchat_storage_log_written_bytes_total'), 1024);
    assert.equal(sampleValue(f, 'raftchat_raft_append_durable_duration_seconds_count'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_apply_duration_seconds_count'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_applied_entries_total'), 5);
  });

  it('records snapshots sent and received with their bytes and durations, and round trips per peer', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    metrics.snapshotSent(4096, 0.5);
    metrics.snapshotSent(1024, 0.1);
    metrics.snapshotReceived(2048, 1.2);
    metrics.observePeerRoundTripSeconds('n2', 0.0003);
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshots_sent_total'), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshot_sent_bytes_total'), 5120);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshot_send_duration_seconds_count'), 2);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshots_received_total'), 1);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshot_received_bytes_total'), 2048);
    assert.equal(sampleValue(f, 'raftchat_raft_snapshot_receive_duration_seconds_sum'), 1.2);
    assert.equal(sampleValue(f, 'raftchat_raft_peer_round_trip_seconds_count', { peer: 'n2' }), 1);
  });

  it('counts chat activity: messages, forwarded writes, rejections by reason, subscribers and accounts', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    metrics.messageSent();
    metrics.messageSent();
    metrics.forwardedWrite();
    metrics.requestRejected('INVALID_ARGUMENT');
    metrics.requestRejected('ResourceExhausted');
    metrics.requestRejected('alice');
    metrics.subscriberDelta(1);
    metrics.subscriberDelta(1);
    metrics.subscriberDelta(-1);
    metrics.setAccountsSource(async () => 42);
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_chat_messages_sent_total'), 2);
    assert.equal(sampleValue(f, 'raftchat_chat_forwarded_writes_total'), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_requests_rejected_total', { reason: 'invalid_argument' }), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_requests_rejected_total', { reason: 'resource_exhausted' }), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_requests_rejected_total', { reason: 'other' }), 1, 'an unknown reason never becomes a label value');
    assert.equal(sampleValue(f, 'raftchat_chat_subscribers'), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_accounts'), 42);
    let streams = 5;
    metrics.setSubscribersSource(() => streams);
    assert.equal(sampleValue(await scrape(metrics), 'raftchat_chat_subscribers'), 5, 'a source replaces the +1/-1 bookkeeping');
    streams = 2;
    assert.equal(sampleValue(await scrape(metrics), 'raftchat_chat_subscribers'), 2);
  });

  it('takes messages and refusals from src/api\'s call observer', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    const call = (method: string, code: string) => ({ service: 'chat.v1.ChatService', method, code, durationSeconds: 0.001 });
    metrics.apiObserver.callHandled(call('SendMessage', 'OK'));
    metrics.apiObserver.callHandled(call('SendMessage', 'UNAVAILABLE'));
    metrics.apiObserver.callHandled(call('Login', 'OK'));
    metrics.apiObserver.callHandled(call('Login', 'UNAUTHENTICATED'));
    metrics.apiObserver.callHandled(call('Register', 'ALREADY_EXISTS'));
    metrics.apiObserver.callHandled(call('Register', 'INTERNAL'));
    const f = await scrape(metrics);
    assert.equal(sampleValue(f, 'raftchat_chat_messages_sent_total'), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_requests_rejected_total', { reason: 'unavailable' }), 1);
    assert.equal(sampleValue(f, 'raftchat_chat_requests_rejected_total', { reason: 'unauthenticated' }), 1);
    const rejected = f.get('raftchat_chat_requests_rejected_total')?.samples.reduce((sum, s) => sum + s.value, 0);
    assert.equal(rejected, 2, 'ALREADY_EXISTS is an answer and INTERNAL a failure, neither a refusal');
  });

  it('keeps the last account count when reading it fails, instead of failing the scrape', async () => {
    const metrics = createMetrics({ nodeId: 'n0', defaultMetrics: false });
    let fail = false;
    metrics.setAccountsSource(async () => {
      if (fail) throw new Error('database closed');
      return 3;
    });
    assert.equal(sampleValue(await scrape(metrics), 'raftchat_chat_accounts'), 3);
    fail = true;
    assert.equal(sampleValue(await scrape(metrics), 'raftchat_chat_accounts'), 3);
  });

  it('includes the process and Node.js defaults: CPU, memory, event-loop lag, heap and GC', async () => {
    const metrics = createMetrics({ nodeId: 'n0' });
    const f = await scrape(metrics);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds']) {
      assert.ok(f.has(name), `missing ${name}`);
    }
    assert.equal(sampleValue(f, 'raftchat_replica_info', { node_id: 'n0' }), 1);
  });

  it('keeps two replicas in one process apart: each has its own registry', async () => {
    const a = createMetrics({ nodeId: 'a', defaultMetrics: false });
    const b = createMetrics({ nodeId: 'b', defaultMetrics: false });
    a.messageSent();
    assert.equal(sampleValue(await scrape(a), 'raftchat_chat_messages_sent_total'), 1);
    assert.equal(sampleValue(await scrape(b), 'raftchat_chat_messages_sent_total'), 0);
    assert.equal(sampleValue(await scrape(b), 'raftchat_replica_info', { node_id: 'b' }), 1);
  });
});
