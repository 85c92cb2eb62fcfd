// The Raft state machine (etcd-io/raft's raft.go): one object, a step function per role. It is fed
// ticks, messages and proposals, and queues messages and read states for the RawNode to hand out.
import { applyChange } from './confchange/changer.js';
import { assert, RaftError } from './errors.js';
import { RaftLog } from './log.js';
import { quorumSize } from './quorum/majority.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker } from './tracker/tracker.js';
import {
  EntryType, MessageType, NONE,
  type Config, type ConfChange, type ConfState, type Entry, type HardState, type Logger, type Message,
  type NodeId, type ReadState, type Role, type Snapshot, type SoftState,
} from './types.js';
import {
  bytesEqual, EMPTY_BYTES, entrySizeBytes, isVoteRequest, newMessage, payloadSizeBytes,
} from './util.js';

type CampaignType = 'pre-election' | 'election' | 'transfer';

/** Vote context marking a campaign started by TimeoutNow: it overrides the leader lease (§3.10). */
const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

const NO_LOGGER: Logger = { debug() {}, info() {}, warn() {} };

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  role: Role = 'follower';
  lead: NodeId = NONE;
  /** Learners replicate but never campaign or count toward a quorum. */
  isLearner = false;
  leadTransferee: NodeId = NONE;
  /** Leader: index of the last conf change proposed; another waits until applied passes it. */
  pendingConfIndex = 0;
  /** Leader: payload bytes of uncommitted entries (maxUncommittedBytes). */
  uncommittedBytes = 0;
  readOnly = new ReadOnly();
  /** Leader: ReadIndex requests held until an entry of this term is committed (§6.4). */
  private pendingReadIndexMessages: Message[] = [];

  /** Ticks since the last election timeout or, on a follower, since the leader was last heard. */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTicks = 0;

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  /** Leader: replicate to every follower at the next flush (batches proposals into one App). */
  private broadcastPending = false;

  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly maxBytesPerMessage: number;
  private readonly maxUncommittedBytes: number;
  private readonly checkQuorum: boolean;
  private readonly deferCommitBroadcast: boolean;
  private readonly preVote: boolean;
  private readonly random: () => number;
  private readonly logger: Logger;

  constructor(config: Config) {
    assert(config.id !== NONE, 'config.id must not be empty');
    assert(config.heartbeatTicks > 0, 'heartbeatTicks must be > 0');
    assert(config.electionTicks > config.heartbeatTicks, 'electionTicks must be > heartbeatTicks');
    assert(config.maxInflightMessages > 0, 'maxInflightMessages must be > 0');
    this.id = config.id;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.maxBytesPerMessage = config.maxBytesPerMessage;
    this.maxUncommittedBytes = config.maxUncommittedBytes ?? 0;
    this.checkQuorum = config.checkQuorum;
    this.deferCommitBroadcast = config.deferCommitBroadcast ?? false;
    this.preVote = config.preVote;
    this.random = config.random;
    this.logger = config.logger ?? NO_LOGGER;
    this.log = new RaftLog(config.storage, config.maxCommittedBytesPerReady ?? Infinity);
    this.tracker = new ProgressTracker(config.maxInflightMessages);

    const { hardState, confState } = config.storage.initialState();
    this.switchToConfig(confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (config.applied !== undefined && config.applied > 0) {
      // The application applied only committed entries, so its applied index is committed even if a
      // commit-only hard state (written without fsync) was lost in a crash.
      assert(config.applied <= this.log.lastIndex(), () => `config.applied ${config.applied} beyond the last log index ${this.log.lastIndex()}`);
      this.log.commitTo(config.applied);
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    assert(hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      () => `hard state commit ${hs.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`);
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leaderId: this.lead, role: this.role };
  }

  /** A voter in the current configuration: only those campaign (§4, learners never do). */
  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  // ---- sending -------------------------------------------------------------------------------

  private send(m: Message): void {
    m.from = this.id;
    if (isVoteRequest(m.type) || m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) {
      assert(m.term !== 0, () => `${MessageType[m.type]} must carry a term`);
    } else if (m.type !== MessageType.ReadIndex) {
      // A forwarded ReadIndex carries no term: it is a local request travelling to the leader.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /**
   * Send one App to `to` when its progress is not paused: entries from next (within
   * maxBytesPerMessage), or a snapshot when they were compacted. With sendIfEmpty an App without
   * entries goes out too (to carry the commit index or probe). Returns whether anything was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.entries(pr.next, this.maxBytesPerMessage);
    } catch (err) {
      if (err instanceof RaftError && err.code === 'COMPACTED') return this.maybeSendSnapshot(to);
      throw err;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entrySizeBytes(e);
    this.send(newMessage({
      type: MessageType.App, to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed,
    }));
    pr.sentCommitIndex(this.log.committed);
    const last = entries.length > 0 ? (entries[entries.length - 1] as Entry).index : prevIndex;
    pr.sentEntries(entries.length, last, bytes);
    return true;
  }

  /** §7: the follower needs entries that were compacted, so it gets the snapshot instead. */
  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined) return false;
    // Only to a follower that answers: a snapshot is expensive to stream to a dead node.
    if (!pr.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (err) {
      if (err instanceof RaftError && err.code === 'SNAPSHOT_TEMPORARILY_UNAVAILABLE') return false;
      throw err;
    }
    assert(snapshot.metadata.index > 0, 'the leader needs a non-empty snapshot to send');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(newMessage({ type: MessageType.Snap, to, snapshot }));
    this.logger.info({ to, index: snapshot.metadata.index, term: snapshot.metadata.term }, 'sending snapshot to a follower behind the compacted log');
    return true;
  }

  private sendAppendDrain(to: NodeId): void {
    if (!this.maybeSendAppend(to, true)) return;
    while (this.maybeSendAppend(to, false)) { /* fill the pipeline window */ }
  }

  /**
   * Send what the last calls left pending. Proposals only mark the broadcast, so that all proposed
   * between two Readys leave in one App per follower (batching).
   */
  flush(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role !== 'leader') return;
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppendDrain(id);
  }

  private bcastAppend(): void {
    this.broadcastPending = true;
  }

  /** With deferCommitBroadcast: some follower could commit more than it was last told. */
  hasCommitToBroadcast(): boolean {
    return this.followersLackingCommit().length > 0;
  }

  /** With deferCommitBroadcast: an App to each follower that could commit more than it was told. */
  broadcastCommit(): void {
    for (const id of this.followersLackingCommit()) this.maybeSendAppend(id, true);
  }

  private followersLackingCommit(): NodeId[] {
    if (this.role !== 'leader') return [];
    const lacking: NodeId[] = [];
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id && pr.canBumpCommit(this.log.committed)) lacking.push(id);
    }
    return lacking;
  }

  /** Heartbeats carry the newest pending read's context, so a lost round is retried by the next. */
  private bcastHeartbeat(context: Uint8Array = this.readOnly.lastPendingContext() ?? EMPTY_BYTES): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold (it may not match beyond).
      const commit = Math.min(pr.match, this.log.committed);
      this.send(newMessage({ type: MessageType.Heartbeat, to: id, commit, context }));
      pr.sentCommitIndex(commit);
    }
  }

  // ---- role changes ----------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `term going backwards: ${this.term} -> ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) pr.resetForTerm(id === this.id ? lastIndex : 0, lastIndex + 1, id === this.id);
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
    this.broadcastPending = false;
  }

  private resetRandomizedElectionTimeout(): void {
    // §5.2: randomized in [electionTicks, 2 * electionTicks) so split votes are rare.
    this.randomizedElectionTicks = this.electionTicks + Math.floor(this.random() * this.electionTicks);
  }

  becomeFollower(term: number, lead: NodeId): void {
    const wasRole = this.role;
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    if (wasRole !== 'follower') this.logger.info({ nodeId: this.id, term, lead, was: wasRole }, 'became follower');
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Thesis §9.6: neither the term nor the vote changes until the pre-vote is won.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = 'pre-candidate';
    this.logger.info({ nodeId: this.id, term: this.term }, 'became pre-candidate');
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.logger.info({ nodeId: this.id, term: this.term }, 'became candidate');
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Entries after the last applied one may hold a conf change: hold new ones until applied.
    this.pendingConfIndex = this.log.lastIndex();
    // §8: a no-op in the new term lets earlier entries commit (§5.4.2) and enables ReadIndex.
    const ok = this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    assert(ok, 'the leader no-op must always be appended');
    this.logger.info({ nodeId: this.id, term: this.term, lastIndex: this.log.lastIndex() }, 'became leader');
  }

  // ---- ticks ---------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTicks) {
      this.electionElapsed = 0;
      this.hup(this.preVote ? 'pre-election' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.tracker.quorumActive(this.id)) {
          this.logger.warn({ nodeId: this.id, term: this.term }, 'stepping down: no word from a quorum within an election timeout (CheckQuorum)');
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
      }
      // §3.10: a transfer that has not completed within an election timeout is abandoned.
      if (this.leadTransferee !== NONE) {
        this.logger.info({ nodeId: this.id, transferee: this.leadTransferee }, 'leadership transfer timed out; aborting');
        this.leadTransferee = NONE;
      }
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  // ---- elections -----------------------------------------------------------------------------

  hup(type: CampaignType): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) {
      this.logger.debug({ nodeId: this.id }, 'not campaigning: not a voter in the configuration');
      return;
    }
    if (this.log.hasUnappliedConfChanges()) {
      this.logger.warn({ nodeId: this.id }, 'not campaigning: committed conf changes are not applied yet');
      return;
    }
    this.campaign(type);
  }

  private campaign(type: CampaignType): void {
    let term: number;
    let voteType: MessageType;
    if (type === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the term we would campaign in
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    // Our own vote: durable with the hard state before these requests leave (Ready contract).
    if (this.poll(this.id, voteType === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp, true) === 'won') {
      if (type === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send(newMessage({
        type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm,
        context: type === 'transfer' ? CAMPAIGN_TRANSFER : EMPTY_BYTES,
      }));
    }
  }

  private poll(id: NodeId, type: MessageType, granted: boolean): 'won' | 'lost' | 'pending' {
    this.logger.debug({ nodeId: this.id, from: id, type: MessageType[type], granted, term: this.term }, 'received vote response');
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- step ----------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // A local request or a forwarded ReadIndex: no term to compare.
    } else if (m.term > this.term) {
      if (isVoteRequest(m.type)) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks;
        if (!force && inLease) {
          // Leader lease (thesis §4.2.3): we heard from a leader within the minimum election
          // timeout, so a disruptive candidate (partitioned, or removed) is ignored.
          this.logger.debug({ nodeId: this.id, from: m.from, term: m.term }, 'ignoring vote request within the leader lease');
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term (§9.6).
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // Granted for the term we will campaign in; the term moves when the pre-vote is won.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.App || m.type === MessageType.Heartbeat)) {
        // A stale leader (e.g. healed partition): tell it our term so it steps down. Without this
        // a node whose term rose while cut off could never rejoin, since its pre-votes fail.
        this.send(newMessage({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(newMessage({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    if (isVoteRequest(m.type)) {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /** §5.2, §5.4.1: one vote per term, only for a candidate whose log is at least as up-to-date. */
  private handleVoteRequest(m: Message): void {
    const isPreVote = m.type === MessageType.PreVote;
    const canVote = this.vote === m.from
      || (this.vote === NONE && this.lead === NONE)
      || (isPreVote && m.term > this.term);
    const respType = isPreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send(newMessage({ type: respType, to: m.from, term: m.term }));
      if (!isPreVote) {
        assert(this.vote === NONE || this.vote === m.from, () => `second vote in term ${this.term}: ${this.vote} then ${m.from}`);
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(newMessage({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.ReadIndex:
        this.leaderReadIndex(m);
        return;
      case MessageType.TransferLeader:
        this.leaderTransfer(decodeTransferee(m));
        return;
      default:
        break;
    }
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return; // not a member (anymore)
    switch (m.type) {
      case MessageType.AppResp: {
        pr.recentActive = true;
        if (m.reject) {
          // Fast back-off: skip the follower's whole conflicting term in one step (§5.3 note).
          let nextProbeIndex = m.rejectHint;
          if (m.hintTerm > 0) nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.hintTerm).index;
          if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppendDrain(m.from);
          }
          return;
        }
        const wasPaused = pr.isPaused();
        if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe')) {
          if (pr.state === 'probe') {
            pr.becomeReplicate();
          } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
            // The snapshot (or entries past it) arrived: ordinary replication resumes.
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === 'replicate') {
            pr.inflights.freeLE(m.index);
          }
          const committed = this.maybeCommit();
          if (committed) this.releasePendingReadIndexMessages();
          if (committed && !this.deferCommitBroadcast) {
            this.bcastAppend();
          } else if (wasPaused) {
            this.sendAppendDrain(m.from);
          }
          while (this.maybeSendAppend(m.from, false)) { /* fill the window */ }
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
            this.logger.info({ nodeId: this.id, to: m.from }, 'transferee caught up; sending TimeoutNow');
            this.sendTimeoutNow(m.from);
          }
        }
        return;
      }
      case MessageType.HeartbeatResp: {
        pr.recentActive = true;
        pr.msgAppFlowPaused = false;
        // A full window may be full of lost Apps: free one slot so the next App (or its rejection)
        // gets replication going again (etcd-io/raft does the same).
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.sendAppendDrain(m.from);
        if (m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === undefined) return;
        // §6.4 step 3: a majority of voters acknowledged a heartbeat sent after the request.
        if (countVoters(this.tracker.voters, acks) < quorumSize(this.tracker.voters.size)) return;
        for (const status of this.readOnly.advance(m.context)) {
          this.respondToReadIndex(status.request, status.index);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.role === 'pre-candidate' ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from); // §5.2: a leader of our term exists
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        const result = this.poll(m.from, m.type, !m.reject);
        if (result === 'won') {
          if (this.role === 'pre-candidate') {
            this.campaign('election');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return; // TimeoutNow, ReadIndex, TransferLeader: no leader to serve or forward to
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
      case MessageType.ReadIndex:
        if (m.type === MessageType.ReadIndex && m.from !== this.id) {
          // A peer took us for the leader. Forwarded, the answer would come back to us (send() puts
          // our id in `from`; the transport lets nobody speak for another) under a context unique only
          // on that peer, where it could answer one of our reads: drop it, the peer retries (§6.4).
          this.logger.debug({ nodeId: this.id, from: m.from }, 'ReadIndex from a peer; not the leader, dropping');
          return;
        }
        if (this.lead === NONE) {
          this.logger.debug({ nodeId: this.id, type: MessageType[m.type] }, 'no leader to forward to; dropping');
          return;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return;
      case MessageType.TimeoutNow:
        // §3.10: the leader asks us to campaign at once, skipping pre-vote and the lease.
        this.logger.info({ nodeId: this.id, from: m.from, term: this.term }, 'received TimeoutNow; campaigning');
        this.hup('transfer');
        return;
      default:
        return;
    }
  }

  // ---- follower handlers ---------------------------------------------------------------------

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to commit already matches: tell the leader where we are.
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNewIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: lastNewIndex }));
      return;
    }
    // Reject with a hint: the largest index that could match, given the leader's term at m.index.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(newMessage({
      type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, hintTerm: hint.term,
    }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(newMessage({ type: MessageType.HeartbeatResp, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (snap === undefined) return;
    if (this.restore(snap)) {
      this.logger.info({ nodeId: this.id, index: snap.metadata.index, term: snap.metadata.term }, 'restored snapshot');
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(newMessage({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
    }
  }

  /** Install a snapshot from the leader; false when it brings nothing new. */
  private restore(snap: Snapshot): boolean {
    const { index, term, confState } = snap.metadata;
    if (index <= this.log.committed) return false;
    assert(this.role === 'follower', () => `a ${this.role} must not install a snapshot`);
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      // Committed state is safe to install. A member that joined empty may get a snapshot taken
      // before it was added; the entry adding it follows the snapshot in the log.
      this.logger.info({ nodeId: this.id, index }, 'installing a snapshot whose configuration does not contain us yet');
    }
    if (this.log.matchTerm(index, term)) {
      // We already have the entries: just commit to the snapshot's index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snap);
    this.switchToConfig(confState);
    return true;
  }

  // ---- leader operations ---------------------------------------------------------------------

  /** Append to the leader's log, giving entries this term and the next indexes; false on back-pressure. */
  appendEntries(entries: Entry[]): boolean {
    assert(this.role === 'leader', 'only a leader appends its own entries');
    let lastIndex = this.log.lastIndex();
    const bytes = payloadSizeBytes(entries);
    if (this.maxUncommittedBytes > 0 && this.uncommittedBytes > 0 && bytes > 0
      && this.uncommittedBytes + bytes > this.maxUncommittedBytes) {
      return false;
    }
    this.uncommittedBytes += bytes;
    for (const e of entries) {
      e.term = this.term;
      e.index = ++lastIndex;
    }
    // A leader only ever appends after its last entry: it never truncates its own log (§5.3).
    const newLast = this.log.append(entries);
    assert(newLast === lastIndex, 'the leader must append at the end of its log');
    this.tracker.progress.get(this.id)?.maybeUpdate(newLast);
    this.maybeCommit();
    this.bcastAppend();
    return true;
  }

  /** Commit what a majority holds, if that entry is of the current term (§5.4.2, Figure 8). */
  maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  propose(data: Uint8Array, type: EntryType): { index: number; term: number } {
    if (this.role !== 'leader') throw new RaftError('PROPOSAL_DROPPED', `not the leader (leader: ${this.lead || 'unknown'})`);
    if (!this.tracker.progress.has(this.id)) throw new RaftError('PROPOSAL_DROPPED', 'this leader was removed from the configuration');
    if (this.leadTransferee !== NONE) {
      throw new RaftError('PROPOSAL_DROPPED', `leadership is being transferred to ${this.leadTransferee}`);
    }
    const entry: Entry = { term: 0, index: 0, type, data };
    if (!this.appendEntries([entry])) {
      throw new RaftError('PROPOSAL_BACKPRESSURE', `more than ${this.maxUncommittedBytes} uncommitted bytes pending`);
    }
    return { index: entry.index, term: entry.term };
  }

  proposeConfChange(cc: ConfChange, encode: (cc: ConfChange) => Uint8Array): { index: number; term: number } {
    if (this.role !== 'leader') throw new RaftError('PROPOSAL_DROPPED', `not the leader (leader: ${this.lead || 'unknown'})`);
    if (this.pendingConfIndex > this.log.applied) {
      throw new RaftError('CONF_CHANGE_PENDING', `conf change at ${this.pendingConfIndex} not applied yet (applied ${this.log.applied})`);
    }
    if (!this.committedEntryInCurrentTerm()) {
      // Ongaro 2015: a new leader must commit in its term before changing membership.
      throw new RaftError('CONF_CHANGE_PENDING', 'this leader has not committed an entry in its term yet');
    }
    // Validate (throws CONF_CHANGE_INVALID) and record the resulting configuration in the entry.
    const confStateAfter = applyChange(this.tracker.confState(), cc);
    const result = this.propose(encode({ ...cc, confStateAfter }), EntryType.ConfChange);
    this.pendingConfIndex = result.index;
    return result;
  }

  /** Make `cs` the configuration (on apply of a conf change, restore, or start-up). */
  switchToConfig(cs: ConfState): ConfState {
    this.tracker.applyConfState(cs, this.log.lastIndex() + 1);
    this.isLearner = this.tracker.learners.has(this.id);
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined && this.role === 'leader') self.match = Math.max(self.match, this.log.lastIndex());
    return this.tracker.confState();
  }

  applyConfChange(cc: ConfChange): ConfState {
    const current = this.tracker.confState();
    let next: ConfState;
    if (current.voters.length === 0 && current.learners.length === 0 && cc.confStateAfter !== undefined) {
      // We joined with no configuration: the entry tells us the whole membership.
      next = cc.confStateAfter;
    } else {
      next = applyChange(current, cc);
      const after = cc.confStateAfter;
      assert(after === undefined || sameMembers(after, next),
        () => `conf change result ${JSON.stringify(next)} differs from the leader's ${JSON.stringify(after)}`);
    }
    const cs = this.switchToConfig(next);
    this.logger.info({ nodeId: this.id, type: cc.type, changed: cc.nodeId, voters: cs.voters, learners: cs.learners }, 'applied conf change');
    if (this.role !== 'leader') return cs;
    if (!this.tracker.isVoter(this.id)) {
      // The leader removed itself: it stops leading once the change is applied (thesis §4.2.2).
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    // A smaller quorum may commit more; new members need a first App.
    if (this.maybeCommit()) this.releasePendingReadIndexMessages();
    this.bcastAppend();
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
    return cs;
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner || transferee === this.id) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = transferee;
    // Bound the transfer by one election timeout (checked in tickHeartbeat).
    this.electionElapsed = 0;
    this.logger.info({ nodeId: this.id, transferee, term: this.term }, 'starting leadership transfer');
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppendDrain(transferee);
  }

  /** The local transferLeadership call on a leader, with the refusals callers can act on. */
  transferLeadership(transferee: NodeId): void {
    if (this.role !== 'leader') {
      if (this.lead === NONE) throw new RaftError('TRANSFER_REFUSED', 'no leader known to transfer from');
      this.send(newMessage({ type: MessageType.TransferLeader, to: this.lead, context: textEncoder.encode(transferee) }));
      return;
    }
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined) throw new RaftError('TRANSFER_REFUSED', `${transferee} is not a member`);
    if (pr.isLearner) throw new RaftError('TRANSFER_REFUSED', `${transferee} is a learner`);
    if (this.leadTransferee !== NONE && this.leadTransferee !== transferee) {
      throw new RaftError('TRANSFER_REFUSED', `a transfer to ${this.leadTransferee} is already in progress`);
    }
    this.leaderTransfer(transferee);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage({ type: MessageType.TimeoutNow, to }));
  }

  // ---- ReadIndex (thesis §6.4) ---------------------------------------------------------------

  readIndex(context: Uint8Array): void {
    const m = newMessage({ type: MessageType.ReadIndex, to: this.id, from: this.id, context });
    if (this.role === 'leader') this.leaderReadIndex(m);
    else if (this.role === 'follower') this.stepFollower(m); // forwarded to the leader
    // A candidate knows no leader: the read is dropped and the application's deadline answers it.
  }

  private leaderReadIndex(m: Message): void {
    if (this.tracker.isSingleton() && this.tracker.isVoter(this.id)) {
      // A single voter is its own majority: the commit index is safe to read at once.
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    if (!this.committedEntryInCurrentTerm()) {
      // §6.4 step 1: until our no-op commits we do not know the latest commit index.
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndexRound(m);
  }

  private startReadIndexRound(m: Message): void {
    this.readOnly.addRequest(this.log.committed, m);
    this.readOnly.recvAck(this.id, m.context);
    this.bcastHeartbeat(m.context);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadIndexRound(m);
  }

  private respondToReadIndex(request: Message, index: number): void {
    if (request.from === this.id || request.from === NONE) {
      this.readStates.push({ index, requestCtx: request.context });
    } else {
      this.send(newMessage({ type: MessageType.ReadIndexResp, to: request.from, index, context: request.context }));
    }
  }

  // ---- status from the application -----------------------------------------------------------

  reportUnreachable(id: NodeId): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== 'leader' || pr === undefined) return;
    // Stop pipelining into a black hole: probe again until it answers.
    if (pr.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat response) before the next App.
    pr.msgAppFlowPaused = true;
    this.logger.info({ nodeId: this.id, to: id, ok }, 'snapshot reported');
  }

  /** Called as committed entries are handed out: they no longer count as uncommitted. */
  reduceUncommittedBytes(entries: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - payloadSizeBytes(entries));
  }
}

function sameMembers(a: ConfState, b: ConfState): boolean {
  const key = (cs: ConfState): string => `${[...cs.voters].sort().join(',')}|${[...cs.learners].sort().join(',')}`;
  return key(a) === key(b);
}

function countVoters(voters: ReadonlySet<NodeId>, acks: ReadonlySet<NodeId>): number {
  let n = 0;
  for (const id of acks) if (voters.has(id)) n++;
  return n;
}

/** A TransferLeader names the transferee in its context (UTF-8), so `from` stays the sender. */
function decodeTransferee(m: Message): NodeId {
  return m.context.length > 0 ? textDecoder.decode(m.context) : m.from;
}
