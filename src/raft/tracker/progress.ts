// The leader's view of one follower (etcd-io/raft's Progress): how much of the log it has (match),
// what to send next, and how to send it — probe one App at a time, replicate (pipelined), or snapshot.
import type { ProgressState, ProgressStatus } from '../types.js';
import { Inflights } from './inflights.js';

export class Progress {
  /** Highest index known to be replicated on the follower (§5.3 matchIndex). */
  match: number;
  /** Next index to send (§5.3 nextIndex). */
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (CheckQuorum). */
  recentActive: boolean;
  /** In probe state: an App is outstanding, wait for its answer or a heartbeat response. */
  msgAppFlowPaused = false;
  /**
   * The highest commit index sent to the follower in an App or heartbeat since this leader's term
   * began (lowered when next moves back: what was sent past it may never arrive).
   */
  sentCommit = 0;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(opts: { match: number; next: number; maxInflightMessages: number; isLearner: boolean; recentActive: boolean }) {
    this.match = opts.match;
    this.next = opts.next;
    this.inflights = new Inflights(opts.maxInflightMessages);
    this.isLearner = opts.isLearner;
    this.recentActive = opts.recentActive;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** A new term (or leader): nothing is known about the follower beyond `match`. */
  resetForTerm(match: number, next: number, recentActive: boolean): void {
    this.resetState('probe');
    this.match = match;
    this.next = next;
    this.recentActive = recentActive;
    this.sentCommit = 0;
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's entries.
    if (this.state === 'snapshot') {
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /** The follower acknowledged `n`: returns false for a stale acknowledgement. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an App at `rejected`; `matchHint` is the highest index that may match.
   * Returns false when the rejection is stale (answers an App we no longer care about).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    return true;
  }

  /** A message carrying commit index `commit` went to the follower. */
  sentCommitIndex(commit: number): void {
    this.sentCommit = Math.max(this.sentCommit, commit);
  }

  /**
   * Whether telling the follower commit index `committed` would let it commit more: it can commit
   * only what it holds or is being sent (below next), and a paused follower is sent nothing.
   */
  canBumpCommit(committed: number): boolean {
    return !this.isPaused() && Math.min(committed, this.next - 1) > this.sentCommit;
  }

  /** Account for an App carrying `entries` entries ending at `lastIndex` and `bytes` bytes. */
  sentEntries(entries: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      inflight: this.inflights.count,
      pendingSnapshot: this.pendingSnapshot,
    };
  }
}
