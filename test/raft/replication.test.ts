// Replication flow control: batching, pipelining, progress states, fast back-off, and snapshots.
import assert from 'node:assert/strict';
import { MemoryStorage, MessageType, RaftError, RawNode, mulberry32, type Config, type Message, type Snapshot } from '../../src/raft/index.js';
import { bytes, Network } from './helpers/network.js';
import { drain, makeLeader, msg, newRawNode } from './helpers/node.js';

const ids = ['n1', 'n2', 'n3'];

describe('replication flow control', () => {
  it('batches every proposal made between two Readys into one App per follower', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    for (const id of ['n2', 'n3']) raw.step(msg({ type: MessageType.AppResp, from: id, to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    for (let i = 0; i < 50; i++) raw.propose(bytes(`p${i}`));
    const apps = drain(raw, storage).messages.filter((m) => m.type === MessageType.App);
    assert.equal(apps.length, 2);
    assert.equal(apps[0]?.entries.length, 50);
  });

  it('caps the entries of one App at maxBytesPerMessage, but always sends at least one entry', () => {
    const { raw, storage } = newRawNode('n1', ids, { maxBytesPerMessage: 100 });
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    for (let i = 0; i < 10; i++) raw.propose(new Uint8Array(30)); // 46 bytes each with overhead
    const apps = drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n2');
    assert.ok(apps.length >= 4, `${apps.length} Apps`);
    for (const a of apps) assert.ok(a.entries.length >= 1 && a.entries.length <= 2);
    raw.propose(new Uint8Array(500));
    const big = drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n2');
    assert.equal(big.length, 1);
    assert.equal(big[0]?.entries.length, 1);
  });

  it('pipelines at most maxInflightMessages Apps to a follower in replicate state, then waits for acks', () => {
    const { raw, storage } = newRawNode('n1', ids, { maxInflightMessages: 3, maxBytesPerMessage: 1 });
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    assert.equal(raw.status().progress.get('n2')?.state, 'replicate');
    for (let i = 0; i < 10; i++) raw.propose(bytes(`p${i}`));
    let apps = drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n2');
    assert.equal(apps.length, 3);
    assert.equal(raw.status().progress.get('n2')?.inflight, 3);
    // Acknowledging the first two frees two slots.
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 3 }));
    apps = drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n2' && m.entries.length > 0);
    assert.equal(apps.length, 2);
  });

  it('sends a single probe to a follower in probe state until it answers', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    assert.equal(raw.status().progress.get('n3')?.state, 'probe');
    let appsToN3 = 0;
    for (let i = 0; i < 5; i++) {
      raw.propose(bytes(`p${i}`));
      appsToN3 += drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n3').length;
    }
    assert.equal(appsToN3, 0, 'the probe sent on election is still unanswered');
    assert.equal(raw.status().progress.get('n3')?.next, 1, 'a probing follower is not sent optimistically ahead');
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    const again = drain(raw, storage).messages.filter((m) => m.type === MessageType.App && m.to === 'n3');
    assert.equal(again.length, 1, 'a heartbeat response lets the next probe go');
  });

  it('fast back-off: a long conflicting tail is repaired in a few round trips, skipping whole terms', () => {
    const net = new Network(ids);
    net.elect('n1');
    net.isolate('n1');
    for (let i = 0; i < 100; i++) net.propose('n1', `stale${i}`); // term 1, never committed
    net.raw('n2').campaign();
    net.deliver();
    assert.equal(net.leader(), 'n2');
    for (let i = 0; i < 100; i++) net.propose('n2', `fresh${i}`);
    net.deliver();
    net.heal();
    let rejections = 0;
    net.dropFilter = (m) => {
      if (m.type === MessageType.AppResp && m.reject && m.from === 'n1') rejections++;
      return false;
    };
    net.run(3);
    assert.deepEqual(net.node('n1').values, net.node('n2').values);
    assert.ok(rejections <= 3, `${rejections} rejections`);
  });

  it('reportUnreachable moves a follower from replicate back to probe', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    assert.equal(raw.status().progress.get('n2')?.state, 'replicate');
    raw.reportUnreachable('n2');
    assert.equal(raw.status().progress.get('n2')?.state, 'probe');
  });
});

describe('snapshots', () => {
  function compactedLeader(): { raw: RawNode; storage: MemoryStorage } {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    for (let i = 0; i < 5; i++) raw.propose(bytes(`p${i}`));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 6 }));
    drain(raw, storage);
    assert.equal(raw.status().hardState.commit, 6);
    storage.createSnapshot(6, { voters: ids, learners: [] }, bytes('state'));
    storage.compact(6);
    return { raw, storage };
  }

  it('a leader sends its snapshot to a follower that needs compacted entries, and waits in snapshot state', () => {
    const { raw, storage } = compactedLeader();
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    const snaps = drain(raw, storage).messages.filter((m) => m.type === MessageType.Snap);
    assert.equal(snaps.length, 1);
    assert.equal(snaps[0]?.snapshot?.metadata.index, 6);
    assert.equal(raw.status().progress.get('n3')?.state, 'snapshot');
    assert.equal(raw.status().progress.get('n3')?.pendingSnapshot, 6);
    raw.propose(bytes('more'));
    assert.equal(drain(raw, storage).messages.filter((m) => m.to === 'n3' && m.type === MessageType.App).length, 0);
  });

  it('reportSnapshot(failed) returns the follower to probe, and a later heartbeat answer retries', () => {
    const { raw, storage } = compactedLeader();
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    drain(raw, storage);
    raw.reportSnapshot('n3', false);
    assert.equal(raw.status().progress.get('n3')?.state, 'probe');
    assert.equal(drain(raw, storage).messages.length, 0, 'paused until the follower answers');
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    assert.equal(drain(raw, storage).messages.filter((m) => m.type === MessageType.Snap).length, 1);
  });

  it("the follower's answer to a snapshot moves it to replicate", () => {
    const { raw, storage } = compactedLeader();
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.AppResp, from: 'n3', to: 'n1', term: 1, index: 6 }));
    drain(raw, storage);
    assert.equal(raw.status().progress.get('n3')?.state, 'replicate');
    assert.equal(raw.status().progress.get('n3')?.match, 6);
  });

  it('a leader whose storage has no snapshot ready (SNAPSHOT_TEMPORARILY_UNAVAILABLE) retries later', () => {
    const base = MemoryStorage.bootstrap({ voters: ids, learners: [] });
    let unavailable = true;
    const storage = Object.assign(Object.create(base) as MemoryStorage, {
      snapshot(): Snapshot {
        if (unavailable) throw new RaftError('SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'still writing');
        return base.snapshot();
      },
    });
    const raw = new RawNode({ id: 'n1', storage, electionTicks: 10, heartbeatTicks: 1, maxBytesPerMessage: 1 << 20,
      maxInflightMessages: 8, preVote: false, checkQuorum: false, random: mulberry32(1) });
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    raw.propose(bytes('a'));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 2 }));
    drain(raw, storage);
    base.createSnapshot(2, { voters: ids, learners: [] }, bytes('s'));
    base.compact(2);
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    assert.equal(drain(raw, storage).messages.filter((m) => m.type === MessageType.Snap).length, 0);
    assert.equal(raw.status().progress.get('n3')?.state, 'probe');
    unavailable = false;
    raw.step(msg({ type: MessageType.HeartbeatResp, from: 'n3', to: 'n1', term: 1 }));
    assert.equal(drain(raw, storage).messages.filter((m) => m.type === MessageType.Snap).length, 1);
  });

  it('a follower restores a snapshot from the leader: Ready carries it, and no earlier entries are applied', () => {
    const { raw, storage } = newRawNode('n3', ids);
    const snapshot: Snapshot = { metadata: { index: 6, term: 1, confState: { voters: ids, learners: [] } }, data: bytes('state') };
    raw.step(msg({ type: MessageType.Snap, from: 'n1', to: 'n3', term: 1, snapshot }));
    const rd = raw.ready();
    assert.equal(rd.snapshot?.metadata.index, 6);
    assert.equal(rd.committedEntries.length, 0);
    assert.equal(rd.hardState?.commit, 6);
    assert.deepEqual(rd.messages.map((m) => [m.type, m.index, m.reject]), [[MessageType.AppResp, 6, false]]);
    storage.applySnapshot(rd.snapshot as Snapshot);
    raw.advance(rd);
    assert.equal(raw.status().applied, 6);
    assert.equal(raw.status().firstIndex, 7);
  });
});

describe('deferred commit broadcast (Config.deferCommitBroadcast)', () => {
  const apps = (messages: Message[]) => messages.filter((m) => m.type === MessageType.App);

  /** A leader n1 of term 1 with n2 and n3 replicating, entry 2 (p1) sent to both and acked by n2 only. */
  function committedByN2(overrides: Partial<Config>): { raw: RawNode; storage: MemoryStorage; afterAck: Message[] } {
    const { raw, storage } = newRawNode('n1', ids, overrides);
    makeLeader(raw, storage, ids);
    for (const id of ['n2', 'n3']) raw.step(msg({ type: MessageType.AppResp, from: id, to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    raw.propose(bytes('p1'));
    const sent = apps(drain(raw, storage).messages);
    assert.deepEqual(sent.map((m) => [m.to, m.entries.length, m.commit]), [['n2', 1, 1], ['n3', 1, 1]]);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 2 }));
    const afterAck = drain(raw, storage).messages;
    assert.equal(raw.status().hardState.commit, 2);
    return { raw, storage, afterAck };
  }

  it('without it, sends every follower an App for a commit index that moved (etcd-io/raft)', () => {
    const { raw, afterAck } = committedByN2({});
    assert.deepEqual(apps(afterAck).map((m) => [m.to, m.entries.length, m.commit]), [['n2', 0, 2], ['n3', 0, 2]]);
    assert.equal(raw.hasCommitToBroadcast(), false);
  });

  it('with it, sends nothing for the commit index alone, and the next App carries it', () => {
    const { raw, storage, afterAck } = committedByN2({ deferCommitBroadcast: true });
    assert.deepEqual(apps(afterAck), [], 'no App only for the commit index');
    assert.equal(raw.hasCommitToBroadcast(), true);
    raw.propose(bytes('p2'));
    const next = apps(drain(raw, storage).messages);
    assert.deepEqual(next.map((m) => [m.to, m.entries.length, m.commit]), [['n2', 1, 2], ['n3', 1, 2]]);
    assert.equal(raw.hasCommitToBroadcast(), false, 'both were told 2 with the new entry');
  });

  it('with it, broadcastCommit() sends the commit index once to each follower that lacks it', () => {
    const { raw, storage } = committedByN2({ deferCommitBroadcast: true });
    raw.broadcastCommit();
    const sent = apps(drain(raw, storage).messages);
    assert.deepEqual(sent.map((m) => [m.to, m.entries.length, m.commit]), [['n2', 0, 2], ['n3', 0, 2]]);
    assert.equal(raw.hasCommitToBroadcast(), false);
    raw.broadcastCommit();
    assert.deepEqual(apps(drain(raw, storage).messages), [], 'nobody lacks it any more');
  });

  it('with it, counts a heartbeat as telling a follower what it can commit, and no more', () => {
    const { raw, storage } = committedByN2({ deferCommitBroadcast: true });
    raw.tick(); // heartbeatTicks = 1
    const beats = drain(raw, storage).messages.filter((m) => m.type === MessageType.Heartbeat);
    // A heartbeat never carries a commit past what the follower is known to hold: n3 has not acked 2.
    assert.deepEqual(beats.map((m) => [m.to, m.commit]), [['n2', 2], ['n3', 1]]);
    assert.equal(raw.hasCommitToBroadcast(), true, 'n3 holds entry 2 (sent) and was told only 1');
    raw.broadcastCommit();
    assert.deepEqual(apps(drain(raw, storage).messages).map((m) => [m.to, m.commit]), [['n3', 2]]);
  });

  it('with it, leaves out a follower whose pipeline is full: the App that resumes it carries the commit index', () => {
    const { raw, storage, afterAck } = committedByN2({ deferCommitBroadcast: true, maxInflightMessages: 1 });
    // n2's full pipeline emptied with its ack: the App that resumes it carries the commit index.
    assert.deepEqual(apps(afterAck).map((m) => [m.to, m.commit]), [['n2', 2]]);
    assert.equal(raw.status().progress.get('n3')?.inflight, 1, 'n3 has not acked entry 2');
    assert.equal(raw.hasCommitToBroadcast(), false, 'a paused follower does not keep it pending');
    raw.broadcastCommit();
    assert.deepEqual(apps(drain(raw, storage).messages), []);
    raw.step(msg({ type: MessageType.AppResp, from: 'n3', to: 'n1', term: 1, index: 2 }));
    const resumed = apps(drain(raw, storage).messages);
    assert.deepEqual(resumed.map((m) => [m.to, m.entries.length, m.commit]), [['n3', 0, 2]]);
    assert.equal(raw.hasCommitToBroadcast(), false);
  });
});
