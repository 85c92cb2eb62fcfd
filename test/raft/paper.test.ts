// Tests named after the claims of the Raft paper (Ongaro & Ousterhout 2014) and thesis (Ongaro 2014),
// in the manner of etcd-io/raft's raft_paper_test.go.
import assert from 'node:assert/strict';
import { EntryType, MessageType, type Entry } from '../../src/raft/index.js';
import { bytes, Network } from './helpers/network.js';
import { drain, makeLeader, msg, newRawNode } from './helpers/node.js';

const ids = ['n1', 'n2', 'n3'];

describe('Raft paper §5.2: leader election', () => {
  it('election safety: at most one leader is elected in a term, even when two candidates split the vote', () => {
    const net = new Network(['n1', 'n2', 'n3', 'n4']);
    net.raw('n1').campaign();
    net.raw('n2').campaign();
    net.deliver();
    // Each voted for itself; n3 and n4 grant the first request they see. Never two leaders of term 1.
    assert.ok(net.leaders().length <= 1);
    net.run(60);
    assert.equal(net.leaders().length, 1);
    for (const [term, leader] of net.leadersByTerm) assert.ok(leader !== '', `term ${term}`);
  });

  it('a candidate that receives votes from a majority becomes leader', () => {
    const { raw, storage } = newRawNode('n1', ['n1', 'n2', 'n3', 'n4', 'n5']);
    raw.campaign();
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'candidate');
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 1 }));
    assert.equal(raw.status().softState.role, 'candidate');
    raw.step(msg({ type: MessageType.VoteResp, from: 'n3', to: 'n1', term: 1 }));
    assert.equal(raw.status().softState.role, 'leader');
  });

  it('a candidate rejected by a majority returns to follower', () => {
    const { raw, storage } = newRawNode('n1', ids);
    raw.campaign();
    drain(raw, storage);
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 1, reject: true }));
    raw.step(msg({ type: MessageType.VoteResp, from: 'n3', to: 'n1', term: 1, reject: true }));
    assert.equal(raw.status().softState.role, 'follower');
  });

  it('a follower grants at most one vote per term, first come first served, and persists it before answering', () => {
    const { raw, storage } = newRawNode('n1', ids);
    raw.step(msg({ type: MessageType.Vote, from: 'n2', to: 'n1', term: 1 }));
    raw.step(msg({ type: MessageType.Vote, from: 'n3', to: 'n1', term: 1 }));
    const rd = raw.ready();
    assert.equal(rd.hardState?.vote, 'n2');
    assert.equal(rd.mustSync, true);
    const answers = rd.messages.filter((m) => m.type === MessageType.VoteResp);
    assert.deepEqual(answers.map((m) => [m.to, m.reject]), [['n2', false], ['n3', true]]);
    raw.advance(rd);
    // The same candidate asking again (a retransmission) is granted again.
    raw.step(msg({ type: MessageType.Vote, from: 'n2', to: 'n1', term: 1 }));
    assert.equal(drain(raw, storage).messages[0]?.reject, false);
  });

  it('a candidate that hears from a leader of its term returns to follower', () => {
    const { raw, storage } = newRawNode('n1', ids);
    raw.campaign();
    drain(raw, storage);
    raw.step(msg({ type: MessageType.App, from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0 }));
    assert.equal(raw.status().softState.role, 'follower');
    assert.equal(raw.status().softState.leaderId, 'n2');
  });

  it('any node that sees a higher term adopts it and becomes follower, a leader included', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.App, from: 'n2', to: 'n1', term: 5, index: 0, logTerm: 0 }));
    assert.equal(raw.status().hardState.term, 5);
    assert.equal(raw.status().softState.role, 'follower');
  });

  it('election timeouts are randomized in [electionTicks, 2 * electionTicks)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { raw } = newRawNode('n1', ids, { random: () => ((seed * 7919) % 1000) / 1000 });
      let ticks = 0;
      while (raw.status().softState.role === 'follower') {
        raw.tick();
        ticks++;
        assert.ok(ticks < 20, 'campaigned within 2 * electionTicks');
      }
      assert.ok(ticks >= 10, `campaigned after ${ticks} ticks`);
      seen.add(ticks);
    }
    assert.ok(seen.size > 3, 'timeouts differ between nodes');
  });
});

describe('Raft paper §5.3: log replication', () => {
  it('a leader appends a no-op entry of its own term when it takes office (§8)', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    const e = storage.entries(1, 2, Infinity)[0] as Entry;
    assert.deepEqual([e.index, e.term, e.type, e.data.length], [1, 1, EntryType.Normal, 0]);
  });

  it('log matching: a follower rejects an App unless it has the entry at prevLogIndex with prevLogTerm', () => {
    const { raw, storage } = newRawNode('n2', ids);
    const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: bytes('x') });
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 2)] }));
    let out = drain(raw, storage).messages;
    assert.equal(out[0]?.reject, false);
    assert.equal(out[0]?.index, 2);
    // prevLogIndex 2 but prevLogTerm 1 does not match (our entry 2 has term 2).
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 2, logTerm: 1, entries: [entry(3, 2)] }));
    out = drain(raw, storage).messages;
    assert.equal(out[0]?.reject, true);
    assert.equal(raw.status().lastIndex, 2);
    // prevLogIndex beyond our log is rejected with a hint at our last index.
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 7, logTerm: 2 }));
    out = drain(raw, storage).messages;
    assert.equal(out[0]?.reject, true);
    assert.equal(out[0]?.rejectHint, 2);
    assert.equal(out[0]?.hintTerm, 2);
  });

  it("a follower's conflicting tail is truncated and replaced by the leader's entries", () => {
    const { raw, storage } = newRawNode('n2', ids);
    const entry = (index: number, term: number, d: string): Entry => ({ index, term, type: EntryType.Normal, data: bytes(d) });
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0,
      entries: [entry(1, 1, 'a'), entry(2, 1, 'old'), entry(3, 1, 'old')], commit: 1 }));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.App, from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1, entries: [entry(2, 2, 'new')], commit: 2 }));
    const { readys } = drain(raw, storage);
    assert.equal(readys[0]?.entries[0]?.index, 2, 'the Ready rewrites from the conflict');
    assert.equal(storage.lastIndex(), 2);
    assert.equal(new TextDecoder().decode(storage.entries(2, 3, Infinity)[0]?.data), 'new');
    assert.equal(raw.status().hardState.commit, 2);
  });

  it('a follower answers an App that starts below its commit index with its commit index, keeping committed entries', () => {
    const { raw, storage } = newRawNode('n2', ids);
    const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: bytes('x') });
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 1)], commit: 2 }));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.App, from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1, entries: [entry(2, 2)], commit: 2 }));
    const out = drain(raw, storage).messages;
    assert.deepEqual([out[0]?.reject, out[0]?.index], [false, 2]);
    assert.equal(storage.term(2), 1);
  });

  it('a leader commits an entry once a majority stores it and tells followers through later Apps', () => {
    const net = new Network(ids);
    net.elect('n1');
    net.isolate('n3');
    const { index } = net.propose('n1', 'a');
    net.deliver();
    assert.equal(net.raw('n1').status().hardState.commit, index);
    assert.equal(net.raw('n2').status().hardState.commit, index);
    assert.equal(net.raw('n3').status().hardState.commit, 1);
  });

  it('a leader does not commit without a majority', () => {
    const net = new Network(['n1', 'n2', 'n3', 'n4', 'n5']);
    net.elect('n1');
    net.partition([['n1', 'n2'], ['n3', 'n4', 'n5']]);
    net.propose('n1', 'a');
    net.deliver();
    assert.equal(net.raw('n1').status().hardState.commit, 1);
  });

  it('a leader never overwrites or deletes its own entries (leader append-only)', () => {
    const { raw, storage } = newRawNode('n1', ids);
    makeLeader(raw, storage, ids);
    raw.propose(bytes('a'));
    drain(raw, storage);
    // An App from a deposed leader of an older term (0 < 1 is impossible here, so use term 1 vs 2).
    raw.step(msg({ type: MessageType.Vote, from: 'n3', to: 'n1', term: 2, index: 0, logTerm: 0 }));
    raw.campaign();
    drain(raw, storage);
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 3 }));
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'leader');
    const before = raw.status().lastIndex;
    raw.step(msg({ type: MessageType.App, from: 'n2', to: 'n1', term: 1, index: 0, logTerm: 0,
      entries: [{ index: 1, term: 1, type: EntryType.Normal, data: bytes('x') }] }));
    drain(raw, storage);
    assert.equal(raw.status().lastIndex, before);
    assert.equal(storage.term(3), 3);
    assert.equal(raw.status().softState.role, 'leader');
  });

  it("a leader's heartbeat never tells a follower to commit beyond the follower's match", () => {
    const net = new Network(ids);
    net.elect('n1');
    net.isolate('n3');
    net.propose('n1', 'a');
    net.deliver();
    net.heal();
    net.tick('n1');
    const hb = net.messagesOfType(MessageType.Heartbeat).find((m) => m.to === 'n3');
    assert.equal(hb?.commit, 1);
  });
});

describe('Raft paper §5.4: safety', () => {
  it('a voter denies its vote to a candidate whose log is less up-to-date (§5.4.1)', () => {
    const net = new Network(ids);
    net.elect('n1');
    // n3 misses `b`, which commits on n1 and n2.
    net.partition([['n1', 'n2'], ['n3']]);
    net.propose('n1', 'b');
    net.deliver();
    assert.equal(net.raw('n2').status().hardState.commit, 2);
    // With n1 gone, n3 campaigns; n2's log is more up-to-date, so it refuses.
    net.heal();
    net.isolate('n1');
    net.raw('n3').campaign();
    net.deliver();
    assert.equal(net.raw('n3').status().softState.role, 'candidate');
    assert.notEqual(net.raw('n2').status().hardState.vote, 'n3');
    // n2 itself wins with n3's vote: the committed entry survives.
    net.raw('n2').campaign();
    net.deliver();
    assert.equal(net.leader(), 'n2');
    assert.deepEqual(net.node('n3').values, ['b']);
  });

  it('leader completeness: every later leader holds every committed entry', () => {
    const net = new Network(['n1', 'n2', 'n3', 'n4', 'n5'], { preVote: true });
    net.elect('n1');
    for (let i = 0; i < 5; i++) net.propose('n1', `v${i}`);
    net.deliver();
    const committed = net.raw('n1').status().hardState.commit;
    for (let crashes = 0; crashes < 4; crashes++) {
      const prev = net.leader() as string;
      net.crash(prev);
      net.run(40);
      const leader = net.leader() as string;
      assert.ok(leader !== undefined && leader !== prev, `a new leader after ${prev} crashed`);
      assert.ok(net.raw(leader).status().lastIndex >= committed);
      const values = net.node(leader).values;
      for (let i = 0; i < 5; i++) assert.equal(values[i], `v${i}`);
      net.restart(prev);
    }
  });

  it('a leader commits a previous-term entry only by committing one of its own (Figure 8)', () => {
    const { raw, storage } = newRawNode('n1', ['n1', 'n2', 'n3']);
    // Term 1: n1 leads, appends x at index 2 that nobody else gets.
    makeLeader(raw, storage, ids);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    raw.propose(bytes('x'));
    drain(raw, storage);
    // n1 loses leadership to a higher term (a vote request it refuses: n3's log is behind).
    raw.step(msg({ type: MessageType.Vote, from: 'n3', to: 'n1', term: 2, index: 0, logTerm: 0 }));
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'follower');
    // Term 3: n1 is elected again and appends its no-op at index 3.
    raw.campaign();
    drain(raw, storage);
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 3 }));
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'leader');
    assert.equal(raw.status().lastIndex, 3);
    // n2 now stores index 2 (term 1): a majority has it, but it is not of the current term.
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 3, index: 2 }));
    drain(raw, storage);
    assert.equal(raw.status().hardState.commit, 1, 'the term-1 entry is not committed by counting');
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 3, index: 3 }));
    drain(raw, storage);
    assert.equal(raw.status().hardState.commit, 3, 'committing the term-3 no-op commits index 2 with it');
  });

  it('state machine safety: no two replicas apply different entries at one index through leader changes', () => {
    const net = new Network(['n1', 'n2', 'n3', 'n4', 'n5'], { preVote: true, checkQuorum: true });
    net.elect('n1');
    for (let round = 0; round < 6; round++) {
      const leader = net.leader();
      if (leader !== undefined) net.propose(leader, `r${round}`);
      net.partition([['n1', 'n2'], ['n3', 'n4', 'n5']].map((g) => (round % 2 === 0 ? g : g.reverse())));
      if (leader !== undefined) net.propose(leader, `lost?${round}`);
      net.run(30);
      net.heal();
      net.run(10);
    }
    net.run(20);
    const reference = net.node('n1').values;
    assert.ok(reference.length >= 6);
    for (const id of ['n2', 'n3', 'n4', 'n5']) assert.deepEqual(net.node(id).values, reference);
  });
});
