// The RawNode/Ready contract of src/raft/types.ts: what a Ready holds, when, and exactly once.
import assert from 'node:assert/strict';
import {
  ConfChangeType, EntryType, InvariantError, MemoryStorage, MessageType, RaftError, RawNode, decodeConfChange,
  encodeConfChange,
  mulberry32, type Entry, type Logger,
} from '../../src/raft/index.js';
import { bytes } from './helpers/network.js';
import { drain, makeLeader, msg, newRawNode } from './helpers/node.js';

const ids = ['n1', 'n2', 'n3'];

function singleLeader(overrides = {}): { raw: RawNode; storage: MemoryStorage } {
  const { raw, storage } = newRawNode('n1', ['n1'], overrides);
  raw.campaign();
  drain(raw, storage);
  assert.equal(raw.status().softState.role, 'leader');
  return { raw, storage };
}

describe('RawNode and Ready', () => {
  it('propose returns the index and term given to the entry; a follower drops proposals', () => {
    const { raw, storage } = singleLeader();
    assert.deepEqual(raw.propose(bytes('a')), { index: 2, term: 1 });
    assert.deepEqual(raw.propose(bytes('b')), { index: 3, term: 1 });
    drain(raw, storage);
    const follower = newRawNode('n2', ids).raw;
    assert.throws(() => follower.propose(bytes('x')), (e: unknown) => e instanceof RaftError && e.code === 'PROPOSAL_DROPPED');
  });

  it('hands out each committed entry exactly once and in order', () => {
    const { raw, storage } = singleLeader();
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) raw.propose(bytes(`r${round}i${i}`));
      for (const rd of drain(raw, storage).readys) for (const e of rd.committedEntries) seen.push(e.index);
    }
    assert.deepEqual(seen, Array.from({ length: 15 }, (_, i) => i + 2));
    assert.equal(raw.hasReady(), false);
  });

  it('entries and hard state arrive in the same Ready as the messages that depend on them', () => {
    const { raw } = newRawNode('n1', ids);
    raw.campaign();
    const rd = raw.ready();
    assert.equal(rd.hardState?.vote, 'n1');
    assert.equal(rd.hardState?.term, 1);
    assert.equal(rd.mustSync, true);
    assert.equal(rd.messages.filter((m) => m.type === MessageType.Vote).length, 2);
    raw.advance(rd);
  });

  it('mustSync is false when only the commit index changed', () => {
    const { raw, storage } = newRawNode('n2', ids);
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0,
      entries: [{ index: 1, term: 1, type: EntryType.Normal, data: bytes('a') }] }));
    assert.equal(drain(raw, storage).readys[0]?.mustSync, true);
    raw.step(msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 1, commit: 1 }));
    const rd = raw.ready();
    assert.equal(rd.hardState?.commit, 1);
    assert.equal(rd.mustSync, false);
    assert.equal(rd.committedEntries.length, 1);
    raw.advance(rd);
  });

  it('reports softState only when the role or leader changes', () => {
    const { raw, storage } = newRawNode('n1', ids);
    raw.campaign();
    assert.deepEqual(raw.ready().softState, { leaderId: '', role: 'candidate' });
    raw.advance({ entries: [], committedEntries: [], messages: [], readStates: [], mustSync: false });
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 1 }));
    const { readys } = drain(raw, storage);
    assert.deepEqual(readys[0]?.softState, { leaderId: 'n1', role: 'leader' });
    raw.propose(bytes('a'));
    assert.equal(raw.ready().softState, undefined);
  });

  it('refuses a second ready() before advance() (crash loudly rather than hand things out twice)', () => {
    const { raw } = singleLeader();
    raw.propose(bytes('a'));
    raw.ready();
    assert.throws(() => raw.ready(), InvariantError);
  });

  it('a restarted node hands out only the committed entries after Config.applied', () => {
    const { raw, storage } = singleLeader();
    for (let i = 0; i < 5; i++) raw.propose(bytes(`v${i}`));
    drain(raw, storage); // commit 6
    const restarted = new RawNode({ id: 'n1', storage, applied: 4, electionTicks: 10, heartbeatTicks: 1,
      maxBytesPerMessage: 1 << 20, maxInflightMessages: 8, preVote: false, checkQuorum: false, random: mulberry32(3) });
    const rd = restarted.ready();
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [5, 6]);
    restarted.advance(rd);
    assert.equal(restarted.status().applied, 6);
  });

  it('a restart whose applied index is ahead of a lost commit-only hard state treats it as committed', () => {
    const { raw, storage } = singleLeader();
    for (let i = 0; i < 3; i++) raw.propose(bytes(`v${i}`));
    drain(raw, storage); // commit 4
    storage.setHardState({ ...storage.initialState().hardState, commit: 2 }); // the commit-only write was lost
    const restarted = new RawNode({ id: 'n1', storage, applied: 4, electionTicks: 10, heartbeatTicks: 1,
      maxBytesPerMessage: 1 << 20, maxInflightMessages: 8, preVote: false, checkQuorum: false, random: mulberry32(3) });
    assert.deepEqual([restarted.status().hardState.commit, restarted.status().applied], [4, 4]);
  });

  it('caps the committed entries of one Ready at maxCommittedBytesPerReady and hands out the rest next', () => {
    const { raw, storage } = singleLeader({ maxCommittedBytesPerReady: 100 });
    for (let i = 0; i < 10; i++) raw.propose(new Uint8Array(30));
    const { readys } = drain(raw, storage);
    const sizes = readys.map((rd) => rd.committedEntries.length).filter((n) => n > 0);
    assert.ok(sizes.length >= 4, `${sizes.join(',')}`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10);
  });

  it('refuses proposals beyond maxUncommittedBytes with PROPOSAL_BACKPRESSURE until entries commit', () => {
    const { raw, storage } = newRawNode('n1', ids, { maxUncommittedBytes: 100 });
    makeLeader(raw, storage, ids);
    raw.propose(new Uint8Array(60));
    raw.propose(new Uint8Array(30));
    assert.throws(() => raw.propose(new Uint8Array(30)), (e: unknown) => e instanceof RaftError && e.code === 'PROPOSAL_BACKPRESSURE');
    drain(raw, storage);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 3 }));
    drain(raw, storage);
    raw.propose(new Uint8Array(30));
  });

  it('proposeConfChange encodes the change and its resulting configuration into a ConfChange entry', () => {
    const { raw, storage } = singleLeader();
    const { index } = raw.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: 'n4', context: bytes('addr') });
    const committed: Entry[] = [];
    for (const rd of drain(raw, storage).readys) committed.push(...rd.committedEntries);
    const entry = committed.find((e) => e.index === index);
    assert.equal(entry?.type, EntryType.ConfChange);
    const cc = decodeConfChange((entry as Entry).data);
    assert.deepEqual([cc.type, cc.nodeId, new TextDecoder().decode(cc.context)], [ConfChangeType.AddLearner, 'n4', 'addr']);
    assert.deepEqual(cc.confStateAfter, { voters: ['n1'], learners: ['n4'] });
    assert.deepEqual(raw.applyConfChange(cc), { voters: ['n1'], learners: ['n4'] });
    assert.equal(raw.status().progress.get('n4')?.isLearner, true);
  });

  it('a learner and a node outside the configuration never campaign', () => {
    const learner = newRawNode('n4', ids, {}, ['n4']);
    const outsider = newRawNode('n9', ids);
    for (const { raw, storage } of [learner, outsider]) {
      raw.campaign();
      for (let i = 0; i < 100; i++) raw.tick();
      assert.equal(raw.status().softState.role, 'follower');
      assert.equal(drain(raw, storage).messages.length, 0);
    }
  });

  it("a learner's vote does not count toward a candidate's majority", () => {
    const { raw, storage } = newRawNode('n1', ['n1', 'n2', 'n3'], {}, ['n4']);
    raw.campaign();
    drain(raw, storage);
    raw.step(msg({ type: MessageType.VoteResp, from: 'n4', to: 'n1', term: 1 }));
    assert.equal(raw.status().softState.role, 'candidate');
  });

  it('a node with a committed but unapplied conf change does not campaign', () => {
    const { raw } = newRawNode('n2', ids);
    const data = encodeConfChange({ type: ConfChangeType.AddLearner, nodeId: 'n4', context: new Uint8Array() });
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, commit: 1,
      entries: [{ index: 1, term: 1, type: EntryType.ConfChange, data }] }));
    const rd = raw.ready(); // committed and handed out, but the application has not applied it yet
    assert.equal(rd.committedEntries.length, 1);
    raw.campaign();
    assert.equal(raw.status().softState.role, 'follower');
    raw.advance(rd);
    raw.campaign();
    assert.equal(raw.status().softState.role, 'candidate');
  });

  it('logs role changes through Config.logger', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info: (_o, m) => lines.push(m), warn: (_o, m) => lines.push(m) };
    const { raw, storage } = newRawNode('n1', ['n1'], { logger });
    raw.campaign();
    drain(raw, storage);
    assert.ok(lines.includes('became candidate'));
    assert.ok(lines.includes('became leader'));
  });

  it('a follower forwards transferLeadership to its leader naming the transferee; with no leader it is refused', () => {
    const { raw, storage } = newRawNode('n2', ids);
    assert.throws(() => raw.transferLeadership('n3'), (e: unknown) => e instanceof RaftError && e.code === 'TRANSFER_REFUSED');
    raw.step(msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 1 }));
    drain(raw, storage);
    raw.transferLeadership('n3');
    const out = drain(raw, storage).messages.find((m) => m.type === MessageType.TransferLeader);
    assert.equal(out?.to, 'n1');
    assert.equal(out?.from, 'n2');
    assert.equal(new TextDecoder().decode(out?.context), 'n3');
  });

  it('status reports progress only on the leader', () => {
    const { raw, storage } = newRawNode('n1', ids);
    assert.equal(raw.status().progress.size, 0);
    makeLeader(raw, storage, ids);
    assert.deepEqual([...raw.status().progress.keys()].sort(), ids);
    assert.equal(raw.status().progress.get('n1')?.match, 1);
  });
});
