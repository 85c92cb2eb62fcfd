// The configuration (voters and learners) and, on the leader, a Progress per member, plus the
// votes of the election in progress (etcd-io/raft's ProgressTracker without joint consensus).
import type { ConfState, NodeId } from '../types.js';
import { committedIndex, voteResult, type VoteResult } from '../quorum/majority.js';
import { Progress } from './progress.js';

export class ProgressTracker {
  voters = new Set<NodeId>();
  learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflightMessages: number;

  constructor(maxInflightMessages: number) {
    this.maxInflightMessages = maxInflightMessages;
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.voters.has(id) || this.learners.has(id);
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  /** Replace the configuration, keeping progress of members that stay and starting new ones at `next`. */
  applyConfState(cs: ConfState, next: number): void {
    this.voters = new Set(cs.voters);
    this.learners = new Set(cs.learners);
    for (const id of [...this.progress.keys()]) if (!this.isMember(id)) this.progress.delete(id);
    for (const id of [...this.voters, ...this.learners]) {
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = this.learners.has(id);
        continue;
      }
      // A new member counts as recently active, so CheckQuorum gives it a timeout to answer.
      this.progress.set(id, new Progress({
        match: 0, next, maxInflightMessages: this.maxInflightMessages,
        isLearner: this.learners.has(id), recentActive: true,
      }));
    }
  }

  /** §5.3: the highest index stored on a majority of voters. */
  committed(): number {
    return committedIndex(this.voters, this.matchOf, this.matchScratch);
  }

  private readonly matchScratch: number[] = [];
  private readonly matchOf = (id: NodeId): number => this.progress.get(id)?.match ?? 0;

  /** CheckQuorum: a majority of voters (counting this node) was heard from recently. */
  quorumActive(selfId: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === selfId || (pr?.recentActive ?? false));
    }
    return voteResult(this.voters, votes) === 'won';
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }
}
