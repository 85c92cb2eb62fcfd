// maySendBeforePersist: which Readys' messages may leave while their writes are in flight (a leader's,
// thesis §10.2.1) and which must wait (anything carrying an acknowledgement, or a commit of its own
// not-yet-durable entries).
import assert from 'node:assert/strict';
import { MessageType, maySendBeforePersist, type MemoryStorage, type RawNode } from '../../src/raft/index.js';
import { bytes } from './helpers/network.js';
import { drain, makeLeader, msg, newRawNode } from './helpers/node.js';

const voters = ['n1', 'n2', 'n3'];

/** Followers acknowledge the leader's whole log, so they replicate (not probe) and new entries go out at once. */
function acknowledgeAll(raw: RawNode, storage: MemoryStorage, followers: string[]): void {
  const { lastIndex, hardState } = raw.status();
  for (const f of followers) raw.step(msg({ type: MessageType.AppResp, from: f, to: 'n1', term: hardState.term, index: lastIndex }));
  drain(raw, storage);
}

describe('sending before persisting (maySendBeforePersist)', () => {
  it('lets a leader of several voters send new entries before writing them', () => {
    const { raw, storage } = newRawNode('n1', voters);
    makeLeader(raw, storage, voters);
    acknowledgeAll(raw, storage, ['n2', 'n3']);
    raw.propose(bytes('a'));
    const rd = raw.ready();
    assert.ok(rd.entries.length > 0);
    assert.ok(rd.messages.some((m) => m.type === MessageType.App && m.entries.length > 0));
    assert.equal(maySendBeforePersist(rd, 'leader'), true);
    raw.advance(rd);
  });

  it('holds back a Ready in which the node became leader or stopped being one', () => {
    const { raw, storage } = newRawNode('n1', voters);
    raw.campaign();
    drain(raw, storage);
    const term = raw.status().hardState.term;
    raw.step(msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term }));
    const elected = raw.ready();
    assert.equal(elected.softState?.role, 'leader');
    assert.equal(maySendBeforePersist(elected, 'candidate'), false);
    raw.advance(elected);
    // A higher-term AppendEntries turns the leader into a follower that acknowledges it.
    raw.step(msg({ type: MessageType.App, from: 'n2', to: 'n1', term: term + 1, index: 0, logTerm: 0 }));
    const deposed = raw.ready();
    assert.equal(deposed.softState?.role, 'follower');
    assert.ok(deposed.messages.some((m) => m.type === MessageType.AppResp));
    assert.equal(maySendBeforePersist(deposed, 'leader'), false);
  });

  it('never lets a follower send its acknowledgements before writing', () => {
    const { raw } = newRawNode('n2', voters);
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0,
      entries: [{ index: 1, term: 1, type: 0, data: bytes('a') }] }));
    const rd = raw.ready();
    assert.ok(rd.messages.some((m) => m.type === MessageType.AppResp));
    assert.equal(maySendBeforePersist(rd, 'follower'), false);
  });

  it('holds back a lone voter whose Ready commits the entries it appends, so learners never learn of an undurable commit', () => {
    const { raw, storage } = newRawNode('n1', ['n1'], {}, ['n2']);
    raw.campaign();
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'leader');
    acknowledgeAll(raw, storage, ['n2']);
    raw.propose(bytes('a'));
    const rd = raw.ready();
    const first = rd.entries[0];
    assert.ok(first !== undefined);
    assert.ok((rd.hardState?.commit ?? 0) >= first.index, 'a lone voter commits in the same Ready');
    assert.ok(rd.messages.some((m) => m.type === MessageType.App && m.to === 'n2'));
    assert.equal(maySendBeforePersist(rd, 'leader'), false);
  });
});
