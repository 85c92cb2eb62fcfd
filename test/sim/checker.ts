// The safety invariants of Raft (§5.2, §5.3, §5.4, Figure 3), checked incrementally as the cluster
// runs: each check costs only what changed in the step, so they can run after every step.
import type { Entry, NodeId } from '../../src/raft/index.js';
import { violated } from './violation.js';

/** The read side of one node's log (its MemoryStorage). */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number;
}

export interface LeaderView {
  id: NodeId;
  term: number;
  log: LogView;
}

interface EntryRecord {
  data: Uint8Array;
  /** Term of the entry just before it, in the log that held it; -1 when compacted away. */
  prevTerm: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Every (index, term) ever held by any log, with its content and predecessor's term. */
  private readonly entriesByIndex: Array<Map<number, EntryRecord> | undefined> = [];
  /** committedTerm[i]: the term of the entry known committed at i (0 = not known yet). */
  private readonly committedTerm: number[] = [];
  /** committedSeenInTerm[i]: the newest term with a leader when index i was first seen committed. */
  private readonly committedSeenInTerm: number[] = [];
  private maxCommitted = 0;
  private newestLeaderTerm = 0;
  /** appliedCommand[i]: the command the first replica to apply index i applied. */
  private readonly appliedCommand: Array<string | undefined> = [];
  private readonly acknowledged = new Map<number, string>();
  private maxAcknowledged = 0;

  constructor(private readonly currentLeaders: () => LeaderView[]) {}

  get maxAcknowledgedIndex(): number {
    return this.maxAcknowledged;
  }

  get acknowledgedProposals(): ReadonlyMap<number, string> {
    return this.acknowledged;
  }

  /** §5.2 Election Safety: at most one leader can be elected in a given term, over all history. */
  onLeader(id: NodeId, term: number, log: LogView): void {
    const earlier = this.leaderOfTerm.get(term);
    if (earlier !== undefined && earlier !== id) {
      violated('election-safety', `${id} and ${earlier} both leaders of term ${term}`);
    }
    this.leaderOfTerm.set(term, id);
    if (term > this.newestLeaderTerm) this.newestLeaderTerm = term;
    this.checkLeaderHasCommitted(id, term, log);
  }

  /**
   * §5.3 Log Matching: if two logs hold an entry with the same index and term, they are identical up
   * to it. Checked inductively: every (index, term) anywhere must carry the same content and sit on
   * the same predecessor term, so two logs agreeing at (i, t) agree at i-1, and so down.
   */
  onAppended(id: NodeId, entries: readonly Entry[], log: LogView): void {
    if (entries.length === 0) return;
    const first = entries[0] as Entry;
    let prevTerm = first.index - 1 >= log.firstIndex() - 1 ? log.term(first.index - 1) : -1;
    for (const entry of entries) {
      this.recordEntry(id, entry, prevTerm);
      prevTerm = entry.term;
    }
  }

  /** A snapshot installed at (index, term) must be of committed state. */
  onSnapshotInstalled(id: NodeId, index: number, term: number): void {
    if (index === 0) return;
    this.onCommitted(id, index, term);
  }

  private recordEntry(id: NodeId, entry: Entry, prevTerm: number): void {
    let byTerm = this.entriesByIndex[entry.index];
    if (byTerm === undefined) {
      byTerm = new Map();
      this.entriesByIndex[entry.index] = byTerm;
    }
    const seen = byTerm.get(entry.term);
    if (seen === undefined) {
      byTerm.set(entry.term, { data: entry.data, prevTerm });
    } else {
      if (!sameBytes(seen.data, entry.data)) {
        violated('log-matching', `${id} holds (${entry.index}, t${entry.term}) with content unlike another log's`);
      }
      if (seen.prevTerm !== -1 && prevTerm !== -1 && seen.prevTerm !== prevTerm) {
        violated(
          'log-matching',
          `${id} holds (${entry.index}, t${entry.term}) after term ${prevTerm}; another log has it after term ${seen.prevTerm}`,
        );
      }
      if (seen.prevTerm === -1 && prevTerm !== -1) seen.prevTerm = prevTerm;
    }
    // §5.4 Leader Completeness, seen from the entries: every leader elected after a commit was seen
    // holds the committed entry, so none of them can write another one at its index. (A stale
    // leader of an older term still may: Figure 8.)
    const committed = this.committedTerm[entry.index] ?? 0;
    if (committed !== 0 && entry.term !== committed && entry.term > (this.committedSeenInTerm[entry.index] ?? 0)) {
      violated(
        'leader-completeness',
        `${id} holds (${entry.index}, t${entry.term}) but (${entry.index}, t${committed}) was committed before term ${entry.term} began`,
      );
    }
  }

  /**
   * `id` learned that its entry (index, term) is committed. The commit happened in some term no later
   * than the newest term that has elected a leader, so that leader, and every leader after it, must
   * hold the entry (§5.4.3).
   */
  onCommitted(id: NodeId, index: number, term: number): void {
    const known = this.committedTerm[index] ?? 0;
    if (known !== 0) {
      if (known !== term) {
        violated('state-machine-safety', `${id} committed (${index}, t${term}) but (${index}, t${known}) was committed`);
      }
      return;
    }
    this.committedTerm[index] = term;
    this.committedSeenInTerm[index] = this.newestLeaderTerm;
    if (index > this.maxCommitted) this.maxCommitted = index;
    for (const leader of this.currentLeaders()) {
      if (leader.term === this.newestLeaderTerm) this.checkLeaderHolds(leader.id, leader.term, leader.log, index, term);
    }
  }

  /** §5.4 Leader Completeness: a leader's log holds every entry committed before its term. */
  private checkLeaderHasCommitted(id: NodeId, term: number, log: LogView): void {
    const snapshotIndex = log.firstIndex() - 1;
    for (let i = this.maxCommitted; i > snapshotIndex; i--) {
      const committed = this.committedTerm[i] ?? 0;
      if (committed !== 0) this.checkLeaderHolds(id, term, log, i, committed);
    }
  }

  private checkLeaderHolds(id: NodeId, leaderTerm: number, log: LogView, index: number, term: number): void {
    if (index <= log.firstIndex() - 1) return; // inside its snapshot, which holds only committed state
    if (index > log.lastIndex() || log.term(index) !== term) {
      const held = index > log.lastIndex() ? 'nothing' : `t${log.term(index)}`;
      violated(
        'leader-completeness',
        `leader ${id} of term ${leaderTerm} holds ${held} at ${index}, where (${index}, t${term}) was committed`,
      );
    }
  }

  /** §5.4.3 State Machine Safety: no two replicas apply different commands at one index. */
  onApplied(id: NodeId, index: number, command: string): void {
    const first = this.appliedCommand[index];
    if (first === undefined) {
      this.appliedCommand[index] = command;
    } else if (first !== command) {
      violated('state-machine-safety', `${id} applied '${command}' at ${index}; another replica applied '${first}'`);
    }
    const acked = this.acknowledged.get(index);
    if (acked !== undefined && acked !== command) {
      violated('acknowledged-durable', `${id} applied '${command}' at ${index}, where '${acked}' was acknowledged`);
    }
  }

  /** The command applied at `index` by any replica so far, if any. */
  appliedAt(index: number): string | undefined {
    return this.appliedCommand[index];
  }

  onAcknowledged(index: number, command: string): void {
    this.acknowledged.set(index, command);
    if (index > this.maxAcknowledged) this.maxAcknowledged = index;
  }

  /** Thesis §6.4: a read may not miss a write acknowledged before the read began. */
  onReadState(id: NodeId, readIndex: number, acknowledgedBeforeIssue: number, ctx: string): void {
    if (readIndex < acknowledgedBeforeIssue) {
      violated(
        'read-linearizable',
        `${id} answered read ${ctx} at index ${readIndex}, but index ${acknowledgedBeforeIssue} was acknowledged before it was issued`,
      );
    }
  }
}
