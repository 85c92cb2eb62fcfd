// ClusterService over gRPC: status and digest as the replica reports them, membership validation,
// and replica errors reaching clients as the codes they can act on.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ReplicaError } from '../../src/node/types.js';
import { bearer, call, rejectsWith, signUp, startHarness, type Harness } from './helpers/harness.js';

describe('ClusterService', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('reports the replica\'s status and members', async () => {
    const s = await call(h.cluster.getStatus.bind(h.cluster), {});
    assert.equal(s.nodeId, 'n0');
    assert.equal(s.clusterId, 'test-cluster');
    assert.equal(s.role, 'leader');
    assert.equal(s.leaderId, 'n0');
    assert.equal(s.term, 3);
    assert.deepEqual(s.members.map((m) => [m.id, m.voter, m.progressState]), [['n0', true, 'replicate']]);
    assert.match(s.version, /^\d+\.\d+\.\d+/);
  });

  it('reports the digest of the keyspace with its counts', async () => {
    const empty = await call(h.cluster.getDigest.bind(h.cluster), {});
    assert.equal(empty.accounts, 0);
    await signUp(h, 'alice');
    const after = await call(h.cluster.getDigest.bind(h.cluster), {});
    assert.equal(after.accounts, 1);
    assert.equal(after.appliedIndex, 1);
    assert.match(after.digest, /^[0-9a-f]{64}$/);
    assert.notEqual(after.digest, empty.digest);
  });

  it('adds, removes and transfers leadership without an admin token when none is configured', async () => {
    const added = await call(h.cluster.addMember.bind(h.cluster), { id: 'n1', peerAddress: '127.0.0.1:7001', clientAddress: '127.0.0.1:6001', asLearner: false, incarnation: '' });
    assert.deepEqual(added.members.map((m) => m.id), ['n0', 'n1']);
    const moved = await call(h.cluster.transferLeadership.bind(h.cluster), { toId: 'n1' });
    assert.equal(moved.leaderId, 'n1');
    const removed = await call(h.cluster.removeMember.bind(h.cluster), { id: 'n1' });
    assert.deepEqual(removed.members.map((m) => m.id), ['n0']);
  });

  it('names the field of a bad member id or address', async () => {
    const add = (id: string, peerAddress: string, clientAddress = '') =>
      call(h.cluster.addMember.bind(h.cluster), { id, peerAddress, clientAddress, asLearner: false, incarnation: '' });
    await rejectsWith(add('', '127.0.0.1:7001'), status.INVALID_ARGUMENT, /^id\b/);
    await rejectsWith(add('N1/x', '127.0.0.1:7001'), status.INVALID_ARGUMENT, /^id\b/);
    await rejectsWith(add('n1', ''), status.INVALID_ARGUMENT, /^peer_address\b/);
    await rejectsWith(add('n1', '127.0.0.1:99999'), status.INVALID_ARGUMENT, /^peer_address\b/);
    await rejectsWith(add('n1', '127.0.0.1:7001', 'no-port'), status.INVALID_ARGUMENT, /^client_address\b/);
    await rejectsWith(call(h.cluster.removeMember.bind(h.cluster), { id: '' }), status.INVALID_ARGUMENT, /^id\b/);
    await rejectsWith(call(h.cluster.transferLeadership.bind(h.cluster), { toId: '-bad-' }), status.INVALID_ARGUMENT, /^to_id\b/);
  });

  it('passes the replica\'s membership refusals through as their codes', async () => {
    await rejectsWith(call(h.cluster.removeMember.bind(h.cluster), { id: 'n7' }), status.NOT_FOUND);
    await rejectsWith(call(h.cluster.addMember.bind(h.cluster), { id: 'n0', peerAddress: '127.0.0.1:7000', clientAddress: '', asLearner: false, incarnation: '' }), status.FAILED_PRECONDITION);
  });
});

describe('replica errors seen by clients', function () {
  let h: Harness;
  let alice: string;
  before(async () => {
    h = await startHarness();
    alice = await signUp(h, 'alice');
    await call(h.chat.register.bind(h.chat), { username: 'bob', password: 'correct horse battery' });
  });
  afterEach(() => {
    h.replica.failWith = undefined;
  });
  after(async () => {
    await h.close();
  });

  const send = () => call(h.chat.sendMessage.bind(h.chat), { recipient: 'bob', body: 'hi', requestId: 'r1' }, alice);

  it('answers UNAVAILABLE, safe to retry, when the replica has no quorum', async () => {
    h.replica.failWith = new ReplicaError('UNAVAILABLE', 'no leader known');
    await rejectsWith(send(), status.UNAVAILABLE, /safe to retry/);
    await rejectsWith(call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' }), status.UNAVAILABLE);
    await rejectsWith(call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 }, alice), status.UNAVAILABLE);
  });

  it('still serves stale reads without a quorum', async () => {
    h.replica.failWith = new ReplicaError('UNAVAILABLE', 'no leader known');
    const page = await call(h.chat.listMessages.bind(h.chat), { unreadOnly: false, afterId: 0, limit: 0, consistency: 1 }, alice);
    assert.deepEqual(page.messages, []);
  });

  it('answers UNAVAILABLE for a dropped proposal and DEADLINE_EXCEEDED for a late one', async () => {
    h.replica.failWith = new ReplicaError('PROPOSAL_DROPPED', 'leader changed');
    await rejectsWith(send(), status.UNAVAILABLE, /safe to retry/);
    h.replica.failWith = new ReplicaError('DEADLINE_EXCEEDED', 'not applied in time');
    await rejectsWith(send(), status.DEADLINE_EXCEEDED);
    h.replica.failWith = new ReplicaError('RESOURCE_EXHAUSTED', 'too many pending proposals');
    await rejectsWith(send(), status.RESOURCE_EXHAUSTED);
  });

  it('gives proposals the call\'s own deadline less a margin to answer in, and a default one to calls without', async () => {
    const deadline = Date.now() + 4_321;
    await new Promise<void>((resolve, reject) => {
      const request = { recipient: 'bob', body: 'timed', requestId: '' };
      h.chat.sendMessage(request, bearer(alice), { deadline }, (err) => (err === null ? resolve() : reject(err)));
    });
    // The server must answer before the client gives up: up to a second early, never late.
    const early = deadline - h.replica.deadlines.at(-1)!;
    assert.ok(early > 0 && early <= 1_000, `the call's deadline less at most 1 s, got ${early} ms early`);
    const start = Date.now();
    await new Promise<void>((resolve, reject) => {
      h.chat.sendMessage({ recipient: 'bob', body: 'untimed', requestId: '' }, bearer(alice), (err) => (err === null ? resolve() : reject(err)));
    });
    const defaulted = h.replica.deadlines.at(-1)! - start;
    assert.ok(defaulted >= 9_000 && defaulted <= 11_000, `a default deadline of about 10 s, got ${defaulted} ms`);
  });
});
