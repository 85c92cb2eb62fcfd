// RawNode: the application's handle on the core (etcd-io/raft's RawNode). Inputs go in through
// tick/step/propose/...; everything the application must do comes out as a Ready, and advance()
// acknowledges it.
import { encodeConfChange } from './confchange/codec.js';
import { assert } from './errors.js';
import { checkPeerMessage, type PeerMessageRefusal, type ReceiverView } from './peer-message.js';
import { Raft } from './raft.js';
import {
  EntryType, NONE,
  type Config, type ConfChange, type ConfState, type Entry, type HardState, type Logger, type Message, type NodeId,
  type ProgressStatus, type Ready, type SoftState, type Status,
} from './types.js';

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** A Ready handed out and not yet advanced. */
  private outstanding = false;
  private readonly preVote: boolean;
  private readonly logger: Logger | undefined;
  /** What checkPeerMessage needs of this node, read live from the state machine. */
  private readonly receiver: ReceiverView;

  constructor(config: Config) {
    const raft = new Raft(config);
    this.raft = raft;
    this.preVote = config.preVote;
    this.logger = config.logger;
    this.prevSoftState = raft.softState();
    this.prevHardState = config.storage.initialState().hardState;
    this.receiver = {
      id: raft.id,
      get term() { return raft.term; },
      get role() { return raft.role; },
      get lastIndex() { return raft.log.lastIndex(); },
      isMember: (id) => raft.tracker.isMember(id),
    };
  }

  /** One unit of logical time: elections time out, leaders send heartbeats (§5.2). */
  tick(): void {
    this.raft.tick();
  }

  /**
   * A message from a peer. One that no correct peer sends (checkPeerMessage: addressed elsewhere,
   * malformed, a response from a non-member) is dropped and the refusal returned, so a buggy or
   * replaying peer can neither trip the core's assertions (a remote crash) nor bend its rules.
   */
  step(m: Message): PeerMessageRefusal | undefined {
    const refusal = checkPeerMessage(m, this.receiver);
    if (refusal === undefined) {
      this.raft.step(m);
      return undefined;
    }
    // Misdirected and non-member messages also come from correct peers (addresses reused, members
    // removed); anything else means the sender is broken, which an operator should hear about.
    const routine = refusal.code === 'misdirected' || refusal.code === 'not-a-member';
    const fields = { nodeId: this.raft.id, from: m.from, type: m.type, code: refusal.code, reason: refusal.reason };
    if (routine) this.logger?.debug(fields, 'dropped a message from a peer');
    else this.logger?.warn(fields, 'dropped a malformed message from a peer');
    return refusal;
  }

  /** Append `data` on the leader; RaftError PROPOSAL_DROPPED elsewhere or while transferring. */
  propose(data: Uint8Array): { index: number; term: number } {
    return this.raft.propose(data, EntryType.Normal);
  }

  /**
   * Propose a membership change (one at a time, once this leader committed in its term). It takes
   * effect when the application applies the committed entry through applyConfChange.
   */
  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    return this.raft.proposeConfChange(cc, encodeConfChange);
  }

  /** Apply a committed ConfChange entry; returns the configuration now in force. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Ask for a linearizable read point; a ReadState with `ctx` follows in a later Ready. */
  readIndex(ctx: Uint8Array): void {
    this.raft.readIndex(ctx);
  }

  /** Hand leadership to `to` (thesis §3.10); a follower forwards the request to its leader. */
  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
  }

  /** Start an election now (with pre-vote when configured). */
  campaign(): void {
    this.raft.hup(this.preVote ? 'pre-election' : 'election');
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  /**
   * With Config.deferCommitBroadcast: whether a follower could commit more than it has been told,
   * i.e. whether broadcastCommit() would send anything. The application calls this after handling
   * Readys and, when true, calls broadcastCommit() a little later unless the commit index rode out
   * on an App or heartbeat meanwhile (the next call then says false).
   */
  hasCommitToBroadcast(): boolean {
    return this.raft.hasCommitToBroadcast();
  }

  /** Send the commit index to every follower that could commit more than it was told. */
  broadcastCommit(): void {
    this.raft.broadcastCommit();
  }

  hasReady(): boolean {
    const r = this.raft;
    r.flush();
    const soft = r.softState();
    if (soft.leaderId !== this.prevSoftState.leaderId || soft.role !== this.prevSoftState.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    if (r.log.unstable.nextSnapshot() !== undefined) return true;
    return r.msgs.length > 0 || r.log.hasNextUnstableEntries() || r.log.hasNextCommittedEntries() || r.readStates.length > 0;
  }

  /** What the application must do now (see Ready in types.ts for the order and the contract). */
  ready(): Ready {
    assert(!this.outstanding, 'ready() called again before advance() of the previous Ready');
    const r = this.raft;
    r.flush();
    const soft = r.softState();
    const hard = r.hardState();
    const snapshot = r.log.unstable.nextSnapshot();
    const entries = r.log.nextUnstableEntries();
    const committedEntries = r.log.nextCommittedEntries();
    const rd: Ready = {
      entries,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== undefined
        || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    if (soft.leaderId !== this.prevSoftState.leaderId || soft.role !== this.prevSoftState.role) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    const prev = this.prevHardState;
    assert(hard.term >= prev.term, () => `term going backwards: ${prev.term} -> ${hard.term}`);
    assert(hard.term > prev.term || prev.vote === NONE || hard.vote === prev.vote,
      () => `vote changed within term ${hard.term}: ${prev.vote} -> ${hard.vote}`);
    assert(hard.commit >= prev.commit, () => `commit going backwards: ${prev.commit} -> ${hard.commit}`);
    if (!hardStateEqual(hard, this.prevHardState)) {
      rd.hardState = hard;
      this.prevHardState = hard;
    }
    if (snapshot !== undefined) rd.snapshot = snapshot;
    // Accept: the Ready now owns these; they are not handed out twice.
    r.msgs = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    if (committedEntries.length > 0) {
      r.log.acceptApplying((committedEntries[committedEntries.length - 1] as Entry).index);
      r.reduceUncommittedBytes(committedEntries);
    }
    this.outstanding = true;
    return rd;
  }

  /** The application persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    assert(this.outstanding, 'advance() without an outstanding Ready');
    this.outstanding = false;
    const log = this.raft.log;
    if (rd.snapshot !== undefined) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      if (rd.snapshot.metadata.index > log.applied) log.appliedTo(rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1] as Entry;
      log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      log.appliedTo((rd.committedEntries[rd.committedEntries.length - 1] as Entry).index);
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.role === 'leader') for (const [id, pr] of r.tracker.progress) progress.set(id, pr.status());
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      confState: r.tracker.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }
}
