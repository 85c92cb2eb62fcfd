// The public vocabulary of the Raft core: log entries, messages, hard state, snapshots, the Ready
// batch and the read-only Storage contract. Field names match proto/raftchat/peer/v1/peer.proto so
// the transport can encode a Message without copying it.

/** A member's name: the pod name on Kubernetes (`raftchat-3`), `n1`.. locally. '' means none. */
export type NodeId = string;
export const NONE: NodeId = '';

export enum EntryType {
  Normal = 0,
  /** data is an encoded ConfChange (see confchange/codec.ts). */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to the core. An empty Normal entry is the leader's no-op (§5.4.2, §8). */
  data: Uint8Array;
}

/** What must be durable before any message of the same Ready leaves the node (§5.1, Figure 2). */
export interface HardState {
  term: number;
  /** The candidate voted for in `term`, or NONE. */
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  /** The last log index the snapshot covers, and that entry's term. */
  index: number;
  term: number;
  confState: ConfState;
}

/**
 * The core handles only the metadata. `data` is empty on real replicas, whose layer above streams the
 * state machine's bytes separately; the simulation carries its small state machine in it.
 */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export enum MessageType {
  /** Leader → follower: entries to append (§5.3), also the heartbeat-free probe. */
  App = 0,
  AppResp = 1,
  Vote = 2,
  VoteResp = 3,
  /** Thesis §9.6: a vote that changes nobody's term, to learn whether an election could win. */
  PreVote = 4,
  PreVoteResp = 5,
  Heartbeat = 6,
  HeartbeatResp = 7,
  /** Leader → follower: install this snapshot (§7); the bytes travel beside the message. */
  Snap = 8,
  /** Leader → transferee: start an election now, ignoring the lease (thesis §3.10). */
  TimeoutNow = 9,
  /** Follower → leader: what is your read index (thesis §6.4)? */
  ReadIndex = 10,
  ReadIndexResp = 11,
  /** Follower → leader: please transfer leadership to `from`/the given node (index field unused). */
  TransferLeader = 12,
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** App: term of the entry at `index` (prevLogTerm). Vote/PreVote: candidate's last log term. */
  logTerm: number;
  /** App: prevLogIndex. AppResp: the follower's last matching index, or the rejected index. */
  index: number;
  entries: Entry[];
  commit: number;
  /** Present only on Snap. */
  snapshot?: Snapshot;
  reject: boolean;
  /** AppResp with reject: the follower's hint for fast back-off (the index to probe next). */
  rejectHint: number;
  /** AppResp with reject: the term of the follower's entry at rejectHint (conflict term hint). */
  hintTerm: number;
  /** ReadIndex/ReadIndexResp/Heartbeat: the read request's opaque id. */
  context: Uint8Array;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state the application may show; never persisted. */
export interface SoftState {
  leaderId: NodeId;
  role: Role;
}

/** A linearizable read may be served once the state machine has applied `index` (thesis §6.4). */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * Everything the application must do before calling advance(), in this order:
 *   1. persist `snapshot` (if any), `entries` and `hardState` (fsync when mustSync);
 *   2. only then send `messages` (a leader may send them while step 1 runs: maySendBeforePersist);
 *   3. apply `committedEntries` in order, exactly once (a ConfChange entry via applyConfChange);
 *   4. answer `readStates` once applied >= their index.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  /** Append to the log; entries[0].index may be <= lastIndex, truncating a conflicting tail. */
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** True when `hardState` changed in term/vote or `entries` is not empty (commit alone need not sync). */
  mustSync: boolean;
}

export enum ConfChangeType {
  AddNode = 0,
  AddLearner = 1,
  RemoveNode = 2,
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core: the application stores addresses here. */
  context: Uint8Array;
  /**
   * Set by the proposing leader (proposeConfChange) and carried in the encoded entry: the
   * configuration this change produces. It makes the log self-describing, so a member that joined
   * with an empty configuration learns the whole membership when it applies the change adding it.
   */
  confStateAfter?: ConfState;
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  /** Heard from within the last election timeout (CheckQuorum's view). */
  recentActive: boolean;
  inflight: number;
  pendingSnapshot: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  confState: ConfState;
  leadTransferee: NodeId;
  /** Only on the leader. */
  progress: Map<NodeId, ProgressStatus>;
}

/**
 * The read side of stable storage that the core consults. Synchronous on purpose (etcd-io/raft's
 * Storage): the replica keeps its uncompacted log in a MemoryStorage mirror of what is on disk.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exist, no more than maxBytes beyond the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i; i may be firstIndex()-1 (the snapshot's index). */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface Config {
  id: NodeId;
  storage: Storage;
  /** Ticks without a leader's word before a follower campaigns; randomized in [n, 2n) (§5.2). */
  electionTicks: number;
  heartbeatTicks: number;
  /** Index already applied by the state machine (restart): committed entries after it are returned. */
  applied?: number;
  /** Byte cap on the entries in one App message (batching). */
  maxBytesPerMessage: number;
  /** Max App messages in flight to one follower in replicate state (pipelining). */
  maxInflightMessages: number;
  /** Byte cap on committedEntries in one Ready. */
  maxCommittedBytesPerReady?: number;
  /** Refuse proposals while this many bytes of uncommitted entries are pending (0 = no limit). */
  maxUncommittedBytes?: number;
  preVote: boolean;
  checkQuorum: boolean;
  /**
   * When the commit index moves on an acknowledgement, do not send every follower an App that only
   * carries it (etcd-io/raft does): let it ride on the next App with entries or heartbeat, and send
   * it to whoever still lacks it when the application calls broadcastCommit() — after a short
   * delay of its choosing, as hashicorp/raft's CommitTimeout. One message each way per follower and
   * per commit fewer when proposals arrive one at a time. Safety does not depend on it: only how
   * soon followers apply.
   */
  deferCommitBroadcast?: boolean;
  /** Deterministic randomness in [0, 1): the only source of chance in the core. */
  random: () => number;
  logger?: Logger;
}
