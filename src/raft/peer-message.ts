// The core's boundary check for messages from peers: what no correct sender produces is refused here,
// before Raft sees it, so a buggy (or replaying) peer can neither trip an assertion nor bend the rules.
import { EntryType, MessageType, type Entry, type Message, type NodeId, type Role, type Snapshot } from './types.js';

/**
 * Terms above this are refused. No real cluster gets here (it is 4.5e15 elections), and a node
 * pushed to a term near 2^53 would soon increment it without effect: two votes in one term.
 */
export const MAX_TERM = 2 ** 52;

export type PeerMessageRefusalCode =
  /** Addressed to another node (or to nobody). */
  | 'misdirected'
  /** `from` is empty or names this node. */
  | 'bad-sender'
  | 'unknown-type'
  /** A number that is not a non-negative safe integer, or a term above MAX_TERM. */
  | 'bad-number'
  /** Term 0 on a message that must carry one (all but a forwarded ReadIndex). */
  | 'missing-term'
  /** An App whose entries do not run index+1, index+2, ... or whose terms no leader could write. */
  | 'bad-entries'
  /** A log term that cannot be: 0 for an index above 0, or above the message's term. */
  | 'bad-log-term'
  /** A commit index or an acknowledged index beyond this node's log. */
  | 'beyond-log'
  /** A rejection whose hint is above the rejected index or whose hint term is above the message's. */
  | 'bad-reject-hint'
  /** Snapshot metadata no leader could send, or a snapshot on a message that is not a Snap. */
  | 'bad-snapshot'
  /** A response from a node outside this node's configuration (etcd-io/raft: ErrStepPeerNotFound). */
  | 'not-a-member';

export interface PeerMessageRefusal {
  readonly code: PeerMessageRefusalCode;
  readonly reason: string;
}

/** What the check needs to know about the receiving node. */
export interface ReceiverView {
  id: NodeId;
  term: number;
  role: Role;
  lastIndex: number;
  isMember(id: NodeId): boolean;
}

const MESSAGE_TYPE_COUNT = MessageType.TransferLeader + 1;

function refuse(code: PeerMessageRefusalCode, reason: string): PeerMessageRefusal {
  return { code, reason };
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isTerm(n: number): boolean {
  return isCount(n) && n <= MAX_TERM;
}

function isResponse(type: MessageType): boolean {
  return type === MessageType.AppResp || type === MessageType.HeartbeatResp
    || type === MessageType.VoteResp || type === MessageType.PreVoteResp;
}

/**
 * Why `m`, received from a peer, must not be stepped; undefined when it may be. Refuses only what no
 * correct sender produces (or, for `not-a-member`, what etcd-io/raft refuses too): a plausible lie,
 * such as a well-formed App at a higher term from a peer that never won it, is not detectable here
 * and is outside the threat model (Raft is not Byzantine fault tolerant).
 */
export function checkPeerMessage(m: Message, self: ReceiverView): PeerMessageRefusal | undefined {
  if (m.to !== self.id) return refuse('misdirected', `addressed to '${m.to}'`);
  if (m.from === '' || m.from === self.id) return refuse('bad-sender', `from '${m.from}'`);
  if (!Number.isInteger(m.type) || m.type < 0 || m.type >= MESSAGE_TYPE_COUNT) {
    return refuse('unknown-type', `type ${m.type}`);
  }
  const numbers = checkNumbers(m);
  if (numbers !== undefined) return numbers;
  // Everything but a forwarded ReadIndex carries the sender's term; a term of 0 would skip the
  // stale-term check in Raft.step and be taken as current (§5.1).
  if (m.term === 0 && m.type !== MessageType.ReadIndex) return refuse('missing-term', `${MessageType[m.type]} with term 0`);
  if (m.type !== MessageType.Snap && m.snapshot !== undefined) {
    return refuse('bad-snapshot', `snapshot on a ${MessageType[m.type]}`);
  }
  if (isResponse(m.type) && !self.isMember(m.from)) {
    return refuse('not-a-member', `${MessageType[m.type]} from '${m.from}', not in the configuration`);
  }
  switch (m.type) {
    case MessageType.App:
      return checkAppend(m);
    case MessageType.AppResp:
      return checkAppendResponse(m, self);
    case MessageType.Vote:
    case MessageType.PreVote:
      return checkLogPosition(m.index, m.logTerm, m.term);
    case MessageType.Heartbeat:
      // A leader sends min(match, commit): never more than the follower is known to hold (§5.3).
      if (m.commit > self.lastIndex) return refuse('beyond-log', `heartbeat commit ${m.commit} beyond last index ${self.lastIndex}`);
      return undefined;
    case MessageType.Snap:
      return m.snapshot === undefined ? refuse('bad-snapshot', 'Snap without a snapshot') : checkSnapshot(m.snapshot, m.term);
    default:
      return undefined;
  }
}

function checkNumbers(m: Message): PeerMessageRefusal | undefined {
  if (!isTerm(m.term) || !isTerm(m.logTerm) || !isTerm(m.hintTerm)) {
    return refuse('bad-number', `term ${m.term}, logTerm ${m.logTerm}, hintTerm ${m.hintTerm}`);
  }
  if (!isCount(m.index) || !isCount(m.commit) || !isCount(m.rejectHint)) {
    return refuse('bad-number', `index ${m.index}, commit ${m.commit}, rejectHint ${m.rejectHint}`);
  }
  for (const e of m.entries) {
    if (!isCount(e.index) || !isTerm(e.term)) return refuse('bad-number', `entry (${e.index}, t${e.term})`);
  }
  const snap = m.snapshot;
  if (snap !== undefined && (!isCount(snap.metadata.index) || !isTerm(snap.metadata.term))) {
    return refuse('bad-number', `snapshot (${snap.metadata.index}, t${snap.metadata.term})`);
  }
  return undefined;
}

/** (index, logTerm) names a log position: term 0 only at index 0, never past the sender's term. */
function checkLogPosition(index: number, logTerm: number, term: number): PeerMessageRefusal | undefined {
  if ((logTerm === 0) !== (index === 0) || logTerm > term) {
    return refuse('bad-log-term', `log position (${index}, t${logTerm}) in a message of term ${term}`);
  }
  return undefined;
}

/** §5.3: the entries follow (index, logTerm) without gaps, in terms that never fall or pass the leader's. */
function checkAppend(m: Message): PeerMessageRefusal | undefined {
  // etcd-io/raft's matchTerm fails beyond the last index; ours reads that as term 0, so (i > 0, t0)
  // must not get that far.
  const position = checkLogPosition(m.index, m.logTerm, m.term);
  if (position !== undefined) return position;
  let prevTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry;
    if (e.index !== m.index + 1 + i) return refuse('bad-entries', `entry ${i} has index ${e.index} after ${m.index}`);
    if (e.term < prevTerm || e.term > m.term || e.term === 0) {
      return refuse('bad-entries', `entry ${e.index} has term ${e.term} after term ${prevTerm}, in an App of term ${m.term}`);
    }
    if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) return refuse('bad-entries', `entry ${e.index} has type ${e.type}`);
    prevTerm = e.term;
  }
  return undefined;
}

function checkAppendResponse(m: Message, self: ReceiverView): PeerMessageRefusal | undefined {
  // Only a leader acts on an AppResp of its term, and it sent nothing past its log, which does not
  // shrink while it leads (§5.3). Not so once it restarts: it may have sent entries before writing
  // them (thesis §10.2.1, ready-order.ts) and lost them, so a follower may acknowledge more.
  if (self.role === 'leader' && m.term === self.term && m.index > self.lastIndex) {
    return refuse('beyond-log', `AppResp index ${m.index} beyond last index ${self.lastIndex}`);
  }
  if (m.reject && (m.rejectHint > m.index || m.hintTerm > m.term)) {
    return refuse('bad-reject-hint', `rejection of ${m.index} with hint (${m.rejectHint}, t${m.hintTerm})`);
  }
  return undefined;
}

/** §7: a snapshot is of committed state under a real configuration. */
function checkSnapshot(snap: Snapshot, term: number): PeerMessageRefusal | undefined {
  const { index, term: snapTerm, confState } = snap.metadata;
  if ((snapTerm === 0) !== (index === 0) || snapTerm > term) {
    return refuse('bad-snapshot', `snapshot (${index}, t${snapTerm}) in a message of term ${term}`);
  }
  const { voters, learners } = confState;
  if (voters.length === 0) return refuse('bad-snapshot', `snapshot (${index}, t${snapTerm}) has no voters`);
  const seen = new Set<NodeId>();
  for (const id of [...voters, ...learners]) {
    if (id === '' || seen.has(id)) return refuse('bad-snapshot', `snapshot configuration names '${id}' twice or empty`);
    seen.add(id);
  }
  return undefined;
}
