// The "buggy peer" mutations of the peer fuzz: each turns a real, recorded message into one that no
// correct sender produces and that the receiver can tell is wrong. None forges a plausible lie.
import { MAX_TERM, MessageType, type Entry, type Message, type NodeId } from '../../src/raft/index.js';
import type { Rng } from './rng.js';

/**
 * Every class here is a bug, not an attack: a field out of range, a structure broken, a sender or
 * addressee garbled, a response from a node that never was a member. What is NOT generated, because
 * it would be a lie Raft cannot detect (and is not meant to — it is not Byzantine fault tolerant):
 * a higher term on an App/Heartbeat/Snap/Vote (claiming an election never won), a vote grant that
 * was not given (reject flipped, or a granted VoteResp sent to another candidate), a Heartbeat sent
 * to another follower (its commit is min(match, commit) for the addressee only), a larger but
 * in-range acknowledged index or candidate log position, or altered entry contents.
 */
export type MutationName =
  | 'bad-number'
  | 'unknown-type'
  | 'from-self'
  | 'from-empty'
  | 'to-empty'
  | 'zero-term'
  | 'entries-gap'
  | 'entry-terms'
  | 'log-term'
  | 'heartbeat-commit'
  | 'ack-beyond-log'
  | 'reject-hint'
  | 'snapshot-metadata'
  | 'stray-snapshot'
  | 'ghost-response';

export interface Mutation {
  name: MutationName;
  appliesTo(m: Message): boolean;
  /** Mutate `m` (a private copy) in place. */
  apply(m: Message, rng: Rng): void;
  /**
   * When the receiver must refuse it. 'when-leading': only a leader of the message's term can tell
   * (an AppResp acknowledging past its log); anywhere else Raft drops or ignores it anyway.
   */
  refused: 'always' | 'when-leading';
}

/** An index no log in a simulation reaches: beyond the receiver's log whoever it is. */
export const FAR_INDEX = 2 ** 40;
/** A node id that is never a member. */
export const GHOST_ID: NodeId = 'ghost';

const BAD_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0.5, 2 ** 53, 1e300];
const NUMBER_FIELDS = ['term', 'logTerm', 'index', 'commit', 'rejectHint', 'hintTerm'] as const;
const RESPONSES = new Set([MessageType.AppResp, MessageType.HeartbeatResp, MessageType.VoteResp, MessageType.PreVoteResp]);

const always = (): boolean => true;

function isApp(m: Message): boolean {
  return m.type === MessageType.App;
}

function badNumber(m: Message, rng: Rng): void {
  const value = rng.pick(BAD_NUMBERS);
  const where = rng.int(3);
  const entry = m.entries.length > 0 ? rng.pick(m.entries) : undefined;
  if (where === 0 && entry !== undefined) {
    if (rng.chance(0.5)) entry.index = value;
    else entry.term = value;
  } else if (where === 1 && m.snapshot !== undefined) {
    if (rng.chance(0.5)) m.snapshot.metadata.index = value;
    else m.snapshot.metadata.term = value;
  } else {
    const field = rng.pick(NUMBER_FIELDS);
    // A term just past MAX_TERM is a safe integer, but still one no cluster reaches.
    m[field] = field === 'term' && rng.chance(0.2) ? MAX_TERM + 1 : value;
  }
}

function entriesGap(m: Message, rng: Rng): void {
  const shape = rng.int(3);
  if (shape === 0 && m.entries.length >= 3) {
    m.entries.splice(rng.range(1, m.entries.length - 2), 1);
  } else if (shape === 1) {
    m.entries.push({ ...(m.entries.at(-1) as Entry) });
  } else {
    const first = m.entries[0] as Entry;
    first.index += rng.chance(0.5) || first.index === 0 ? 1 + rng.int(3) : -1;
  }
}

function entryTerms(m: Message, rng: Rng): void {
  const i = rng.int(m.entries.length);
  const entry = m.entries[i] as Entry;
  const before = i === 0 ? m.logTerm : (m.entries[i - 1] as Entry).term;
  const shape = rng.int(3);
  if (shape === 0 && before > 0) entry.term = before - 1;
  else if (shape === 1) entry.term = 0;
  else entry.term = m.term + 1 + rng.int(3);
}

function logTerm(m: Message, rng: Rng): void {
  if (rng.chance(0.5)) m.logTerm = m.term + 1 + rng.int(3);
  else m.logTerm = m.index > 0 ? 0 : 1;
}

function snapshotMetadata(m: Message, rng: Rng): void {
  const snapshot = m.snapshot;
  if (snapshot === undefined) return;
  const { metadata } = snapshot;
  const { voters, learners } = metadata.confState;
  const voter = voters[0];
  if (voter === undefined) {
    delete m.snapshot;
    return;
  }
  switch (rng.int(6)) {
    case 0:
      metadata.confState = { voters: [], learners };
      return;
    case 1:
      metadata.confState = { voters: [...voters, voter], learners };
      return;
    case 2:
      metadata.confState = { voters, learners: [...learners, voter] };
      return;
    case 3:
      metadata.term = m.term + 1 + rng.int(3);
      return;
    case 4:
      if (metadata.index > 0) metadata.term = 0;
      else metadata.term = 1;
      return;
    default:
      delete m.snapshot;
  }
}

export const MUTATIONS: readonly Mutation[] = [
  { name: 'bad-number', appliesTo: always, apply: badNumber, refused: 'always' },
  {
    name: 'unknown-type',
    appliesTo: always,
    apply: (m, rng) => {
      m.type = rng.pick([13, 99, -1, 2.5, Number.NaN]) as MessageType;
    },
    refused: 'always',
  },
  {
    name: 'from-self',
    appliesTo: always,
    apply: (m) => {
      m.from = m.to;
    },
    refused: 'always',
  },
  {
    name: 'from-empty',
    appliesTo: always,
    apply: (m) => {
      m.from = '';
    },
    refused: 'always',
  },
  {
    name: 'to-empty',
    appliesTo: always,
    apply: (m) => {
      m.to = '';
    },
    refused: 'always',
  },
  {
    name: 'zero-term',
    appliesTo: (m) => m.type !== MessageType.ReadIndex,
    apply: (m) => {
      m.term = 0;
    },
    refused: 'always',
  },
  { name: 'entries-gap', appliesTo: (m) => isApp(m) && m.entries.length > 0, apply: entriesGap, refused: 'always' },
  { name: 'entry-terms', appliesTo: (m) => isApp(m) && m.entries.length > 0, apply: entryTerms, refused: 'always' },
  {
    name: 'log-term',
    appliesTo: (m) => isApp(m) || m.type === MessageType.Vote || m.type === MessageType.PreVote,
    apply: logTerm,
    refused: 'always',
  },
  {
    name: 'heartbeat-commit',
    appliesTo: (m) => m.type === MessageType.Heartbeat,
    apply: (m) => {
      m.commit = FAR_INDEX;
    },
    refused: 'always',
  },
  {
    name: 'ack-beyond-log',
    appliesTo: (m) => m.type === MessageType.AppResp,
    apply: (m) => {
      m.index = FAR_INDEX;
      m.reject = false;
    },
    refused: 'when-leading',
  },
  {
    name: 'reject-hint',
    appliesTo: (m) => m.type === MessageType.AppResp,
    apply: (m, rng) => {
      m.reject = true;
      if (rng.chance(0.5)) m.rejectHint = m.index + 1 + rng.int(5);
      else m.hintTerm = m.term + 1 + rng.int(3);
    },
    refused: 'always',
  },
  { name: 'snapshot-metadata', appliesTo: (m) => m.type === MessageType.Snap, apply: snapshotMetadata, refused: 'always' },
  {
    name: 'stray-snapshot',
    appliesTo: (m) => m.type !== MessageType.Snap,
    apply: (m) => {
      m.snapshot = { metadata: { index: 1, term: 1, confState: { voters: [m.from], learners: [] } }, data: new Uint8Array() };
    },
    refused: 'always',
  },
  {
    name: 'ghost-response',
    appliesTo: (m) => RESPONSES.has(m.type),
    apply: (m) => {
      m.from = GHOST_ID;
    },
    refused: 'always',
  },
];

/** Mutations that apply to any message; the fuzz favours the type-specific ones over these. */
export const GENERIC_MUTATIONS: ReadonlySet<MutationName> = new Set<MutationName>([
  'bad-number', 'unknown-type', 'from-self', 'from-empty', 'to-empty', 'zero-term', 'stray-snapshot',
]);

/**
 * Message types whose copy may go to another node than its addressee without becoming a lie: what
 * they say is true whoever reads it (a leader's entries, a candidate's log position, a rejection).
 * Left out: Heartbeat (its commit is about the addressee's log) and granted votes.
 */
export function retargetable(m: Message): boolean {
  switch (m.type) {
    case MessageType.Heartbeat:
      return false;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return m.reject;
    default:
      return true;
  }
}
