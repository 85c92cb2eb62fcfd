// The core's boundary check for peer messages (src/raft/peer-message.ts): every kind of message no
// correct peer sends is dropped by RawNode.step with its code and leaves the node exactly as it was;
// well-formed traffic and exact replays still pass.
import assert from 'node:assert/strict';
import {
  EntryType, InvariantError, MAX_TERM, MemoryStorage, MessageType, RawNode, checkPeerMessage,
  type Entry, type Message, type PeerMessageRefusalCode,
} from '../../src/raft/index.js';
import { Raft } from '../../src/raft/raft.js';
import { drain, makeLeader, msg, newRawNode } from './helpers/node.js';

const ids = ['n1', 'n2', 'n3'];
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: bytes(text) };
}

/** n2, a follower of n1 in term 2, holding entries 1..4 (terms 1,1,2,2) with 3 committed. */
function follower(): { raw: RawNode; storage: MemoryStorage } {
  const { raw, storage } = newRawNode('n2', ids);
  raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, entries: [entry(1, 1), entry(2, 1)] }));
  raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 2, logTerm: 1, entries: [entry(3, 2), entry(4, 2)], commit: 3 }));
  drain(raw, storage);
  assert.equal(raw.status().hardState.commit, 3);
  return { raw, storage };
}

/** n1, leader of term 1 over n1..n3 with its no-op and one proposal (last index 2). */
function leader(): { raw: RawNode; storage: MemoryStorage } {
  const { raw, storage } = newRawNode('n1', ids);
  makeLeader(raw, storage, ids);
  raw.propose(bytes('a'));
  drain(raw, storage);
  assert.equal(raw.status().lastIndex, 2);
  return { raw, storage };
}

/** Everything observable about a node: its status, its log, and whether it has anything to say. */
function fingerprint(raw: RawNode, storage: MemoryStorage): string {
  const status = raw.status();
  const entries = storage.lastIndex() >= storage.firstIndex() ? storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Infinity) : [];
  return JSON.stringify({
    ...status,
    progress: [...status.progress],
    entries: entries.map((e) => [e.index, e.term, [...e.data]]),
    hasReady: raw.hasReady(),
  });
}

interface Case {
  name: string;
  code: PeerMessageRefusalCode;
  message: Message;
}

const snapshotOf = (index: number, term: number, voters: string[], learners: string[] = []): Message['snapshot'] => ({
  metadata: { index, term, confState: { voters, learners } }, data: new Uint8Array(),
});

const followerCases: Case[] = [
  { name: 'addressed to another node', code: 'misdirected', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n3', term: 2 }) },
  { name: 'addressed to nobody', code: 'misdirected', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: '', term: 2 }) },
  { name: 'from the receiver itself', code: 'bad-sender', message: msg({ type: MessageType.Heartbeat, from: 'n2', to: 'n2', term: 3 }) },
  { name: 'from nobody', code: 'bad-sender', message: msg({ type: MessageType.Heartbeat, from: '', to: 'n2', term: 3 }) },
  { name: 'of an unknown type', code: 'unknown-type', message: msg({ type: 13 as MessageType, from: 'n1', to: 'n2', term: 3 }) },
  { name: 'of a fractional type', code: 'unknown-type', message: msg({ type: 2.5 as MessageType, from: 'n1', to: 'n2', term: 3 }) },
  { name: 'with a NaN term', code: 'bad-number', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: Number.NaN, index: 4, logTerm: 2 }) },
  { name: 'with a negative term', code: 'bad-number', message: msg({ type: MessageType.Vote, from: 'n3', to: 'n2', term: -1 }) },
  { name: 'with an infinite term', code: 'bad-number', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: Infinity }) },
  { name: 'with a term above MAX_TERM', code: 'bad-number', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: MAX_TERM + 1 }) },
  { name: 'with a fractional index', code: 'bad-number', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 3.5, logTerm: 2 }) },
  { name: 'with a NaN commit', code: 'bad-number', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 2, commit: Number.NaN }) },
  { name: 'with an unsafe integer index', code: 'bad-number', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 2 ** 53, logTerm: 2 }) },
  {
    name: 'with a NaN entry term', code: 'bad-number',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(5, Number.NaN)] }),
  },
  {
    name: 'with a negative snapshot index', code: 'bad-number',
    message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(-1, 2, ids) }),
  },
  { name: 'an App with term 0', code: 'missing-term', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 0, index: 4, logTerm: 2, entries: [entry(5, 2)] }) },
  { name: 'a Vote with term 0', code: 'missing-term', message: msg({ type: MessageType.Vote, from: 'n3', to: 'n2', term: 0, index: 9, logTerm: 2 }) },
  { name: 'a TimeoutNow with term 0', code: 'missing-term', message: msg({ type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 0 }) },
  {
    name: 'an App whose entries skip an index', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(5, 2), entry(7, 2)] }),
  },
  {
    name: 'an App whose first entry is not at index + 1', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(6, 2)] }),
  },
  {
    name: 'an App repeating an entry', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(5, 2), entry(5, 2)] }),
  },
  {
    name: 'an App whose entry terms decrease', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 3, index: 4, logTerm: 2, entries: [entry(5, 3), entry(6, 2)] }),
  },
  {
    name: 'an App with an entry below its log term', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(5, 1)] }),
  },
  {
    name: 'an App with an entry above its own term', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [entry(5, 3)] }),
  },
  {
    name: 'an App with an unknown entry type', code: 'bad-entries',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, entries: [{ ...entry(5, 2), type: 7 as EntryType }] }),
  },
  {
    name: 'an App claiming term 0 at an index above 0', code: 'bad-log-term',
    message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 9, logTerm: 0, entries: [entry(10, 2)] }),
  },
  { name: 'an App whose log term is above its term', code: 'bad-log-term', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 3 }) },
  { name: 'a Vote whose log term is above its term', code: 'bad-log-term', message: msg({ type: MessageType.Vote, from: 'n3', to: 'n2', term: 3, index: 4, logTerm: 4 }) },
  { name: 'a PreVote with a non-zero log term at index 0', code: 'bad-log-term', message: msg({ type: MessageType.PreVote, from: 'n3', to: 'n2', term: 3, index: 0, logTerm: 1 }) },
  { name: 'a Heartbeat committing past the log', code: 'beyond-log', message: msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 2, commit: 5 }) },
  { name: 'a Snap with no voters', code: 'bad-snapshot', message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(9, 2, []) }) },
  { name: 'a Snap naming a voter twice', code: 'bad-snapshot', message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(9, 2, [...ids, 'n1']) }) },
  {
    name: 'a Snap naming a node voter and learner', code: 'bad-snapshot',
    message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(9, 2, ids, ['n3']) }),
  },
  { name: 'a Snap of a term above its own', code: 'bad-snapshot', message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(9, 3, ids) }) },
  { name: 'a Snap at an index above 0 in term 0', code: 'bad-snapshot', message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2, snapshot: snapshotOf(9, 0, ids) }) },
  { name: 'a Snap without a snapshot', code: 'bad-snapshot', message: msg({ type: MessageType.Snap, from: 'n1', to: 'n2', term: 2 }) },
  { name: 'a snapshot on an App', code: 'bad-snapshot', message: msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 4, logTerm: 2, snapshot: snapshotOf(9, 2, ids) }) },
];

const leaderCases: Case[] = [
  { name: 'an AppResp acknowledging past the log', code: 'beyond-log', message: msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 3 }) },
  {
    name: 'a rejection hinting above the rejected index', code: 'bad-reject-hint',
    message: msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1, reject: true, rejectHint: 2 }),
  },
  {
    name: 'a rejection whose hint term is above its term', code: 'bad-reject-hint',
    message: msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1, reject: true, rejectHint: 1, hintTerm: 2 }),
  },
  { name: 'an AppResp from a non-member', code: 'not-a-member', message: msg({ type: MessageType.AppResp, from: 'n9', to: 'n1', term: 1, index: 2 }) },
  { name: 'a HeartbeatResp from a non-member', code: 'not-a-member', message: msg({ type: MessageType.HeartbeatResp, from: 'n9', to: 'n1', term: 1 }) },
  { name: 'a higher-term VoteResp from a non-member', code: 'not-a-member', message: msg({ type: MessageType.VoteResp, from: 'n9', to: 'n1', term: 5, reject: true }) },
];

describe('checkPeerMessage: the core drops what no correct peer sends', () => {
  for (const [role, make, cases] of [['follower', follower, followerCases], ['leader', leader, leaderCases]] as const) {
    for (const { name, code, message } of cases) {
      it(`a ${role} drops ${name} (${code}) and is left unchanged`, () => {
        const { raw, storage } = make();
        const before = fingerprint(raw, storage);
        assert.equal(raw.step(message)?.code, code);
        assert.equal(fingerprint(raw, storage), before);
      });
    }
  }

  it('passes every message a real leader and its followers exchange', () => {
    const { raw: n1, storage: s1 } = newRawNode('n1', ids);
    const { raw: n2, storage: s2 } = newRawNode('n2', ids);
    const nodes = new Map([['n1', { raw: n1, storage: s1 }], ['n2', { raw: n2, storage: s2 }]]);
    let checked = 0;
    const pump = (messages: Message[]): void => {
      for (const m of messages) {
        const to = nodes.get(m.to);
        if (to === undefined) continue;
        checked++;
        assert.equal(to.raw.step(m), undefined, `${MessageType[m.type]} ${m.from}->${m.to} refused`);
        pump(drain(to.raw, to.storage).messages);
      }
    };
    n1.campaign();
    pump(drain(n1, s1).messages);
    assert.equal(n1.status().softState.role, 'leader');
    for (let i = 0; i < 5; i++) n1.propose(bytes(`p${i}`));
    n2.readIndex(bytes('read'));
    pump([...drain(n1, s1).messages, ...drain(n2, s2).messages]);
    n1.tick();
    pump(drain(n1, s1).messages);
    assert.ok(checked >= 6, `only ${checked} messages exchanged`);
    assert.equal(n2.status().hardState.commit, 6);
  });

  it('counts a Heartbeat commit at exactly the last index as fine', () => {
    const { raw } = follower();
    assert.equal(raw.step(msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 2, commit: 4 })), undefined);
    assert.equal(raw.status().hardState.commit, 4);
  });

  it('lets an AppResp past the log reach a former leader of the same term (it may have lost what it sent)', () => {
    // Thesis §10.2.1: a leader sends entries while writing them; after a crash it restarts as a
    // follower of the same term without them, and a follower's acknowledgement is no lie.
    const { raw } = follower();
    assert.equal(raw.step(msg({ type: MessageType.AppResp, from: 'n3', to: 'n2', term: 2, index: 9 })), undefined);
  });

  it('lets a forwarded ReadIndex carry term 0', () => {
    const { raw } = leader();
    assert.equal(raw.step(msg({ type: MessageType.ReadIndex, from: 'n2', to: 'n1', term: 0, context: bytes('r') })), undefined);
  });
});

describe('without the check, the same messages break the core (why it exists)', () => {
  function bareFollower(): Raft {
    const storage = MemoryStorage.bootstrap({ voters: ids, learners: [] });
    const raft = new Raft({ id: 'n2', storage, electionTicks: 10, heartbeatTicks: 1, maxBytesPerMessage: 1 << 20,
      maxInflightMessages: 8, preVote: false, checkQuorum: false, random: () => 0.5 });
    return raft;
  }

  it('a Vote with term 0 trips an assertion: a remote crash', () => {
    const raft = bareFollower();
    assert.throws(() => raft.step(msg({ type: MessageType.Vote, from: 'n3', to: 'n2', term: 0 })), InvariantError);
  });

  it('a Heartbeat committing past the log trips an assertion: a remote crash', () => {
    const raft = bareFollower();
    assert.throws(() => raft.step(msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 1, commit: 5 })), InvariantError);
  });

  it('an App claiming term 0 past the log appends with a gap', () => {
    const raft = bareFollower();
    raft.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 1, index: 5, logTerm: 0, entries: [entry(6, 1)] }));
    // Index 6 now sits where index 1 belongs: the log no longer means what its indexes say.
    assert.equal(raft.log.lastIndex(), 1);
    assert.equal(raft.log.term(1), 1);
    assert.equal(raft.log.slice(1, 2, Infinity)[0]?.index, 6);
  });
});

describe('replays of earlier messages change nothing they should not', () => {
  it('a TimeoutNow from a past term is ignored: no campaign, no answer', () => {
    const { raw, storage } = follower();
    const before = fingerprint(raw, storage);
    assert.equal(raw.step(msg({ type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 })), undefined);
    assert.equal(fingerprint(raw, storage), before);
    assert.equal(raw.status().softState.role, 'follower');
  });

  it('an old App of the current term neither truncates the log nor lowers the commit', () => {
    const { raw, storage } = follower();
    raw.step(msg({ type: MessageType.App, from: 'n1', to: 'n2', term: 2, index: 2, logTerm: 1, entries: [entry(3, 2)], commit: 2 }));
    const { messages } = drain(raw, storage);
    assert.equal(raw.status().lastIndex, 4);
    assert.equal(raw.status().hardState.commit, 3);
    assert.deepEqual(messages.map((m) => [m.type, m.index, m.reject]), [[MessageType.AppResp, 3, false]]);
  });

  it('an old Heartbeat with an old commit does not move the commit back', () => {
    const { raw, storage } = follower();
    raw.step(msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 2, commit: 1 }));
    drain(raw, storage);
    assert.equal(raw.status().hardState.commit, 3);
  });

  it('a granted VoteResp from an earlier term does not count in a later election', () => {
    const { raw, storage } = newRawNode('n1', ids);
    raw.campaign();
    drain(raw, storage);
    const old = msg({ type: MessageType.VoteResp, from: 'n2', to: 'n1', term: 1 });
    raw.tick();
    for (let i = 0; i < 30 && raw.status().hardState.term < 2; i++) {
      raw.tick();
      drain(raw, storage);
    }
    assert.equal(raw.status().hardState.term, 2);
    raw.step(old);
    drain(raw, storage);
    assert.equal(raw.status().softState.role, 'candidate');
  });

  it('responses to a follower that never asked (a granted vote, an acknowledgement) change nothing', () => {
    const { raw, storage } = follower();
    const before = fingerprint(raw, storage);
    for (const type of [MessageType.VoteResp, MessageType.PreVoteResp, MessageType.AppResp, MessageType.HeartbeatResp]) {
      assert.equal(raw.step(msg({ type, from: 'n3', to: 'n2', term: 2, index: 4 })), undefined);
    }
    assert.equal(fingerprint(raw, storage), before);
  });

  it('an old AppResp of the current term leaves the match where it is', () => {
    const { raw, storage } = leader();
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 2 }));
    drain(raw, storage);
    raw.step(msg({ type: MessageType.AppResp, from: 'n2', to: 'n1', term: 1, index: 1 }));
    drain(raw, storage);
    assert.equal(raw.status().progress.get('n2')?.match, 2);
  });

  it("a follower drops a peer's ReadIndex instead of forwarding it (the answer would come back to it)", () => {
    const { raw, storage } = follower();
    raw.step(msg({ type: MessageType.ReadIndex, from: 'n3', to: 'n2', context: bytes('r1') }));
    assert.deepEqual(drain(raw, storage).messages, []);
    raw.readIndex(bytes('own'));
    assert.deepEqual(drain(raw, storage).messages.map((m) => [m.type, m.from, m.to]), [[MessageType.ReadIndex, 'n2', 'n1']]);
  });

  it('checkPeerMessage is a pure function of the message and the receiver', () => {
    const view = { id: 'n2', term: 2, role: 'follower' as const, lastIndex: 4, isMember: (id: string) => ids.includes(id) };
    const m = msg({ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 2, commit: 5 });
    assert.equal(checkPeerMessage(m, view)?.code, 'beyond-log');
    assert.equal(checkPeerMessage(m, { ...view, lastIndex: 5 }), undefined);
  });
});
