// The Raft log as the core sees it (etcd-io/raft's raftLog): durable entries in Storage followed by
// the unstable tail, with the commit, applying and applied markers.
import { assert, RaftError } from './errors.js';
import { Unstable } from './log-unstable.js';
import type { Entry, Snapshot, Storage } from './types.js';
import { EntryType } from './types.js';
import { limitSize } from './util.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum (§5.3). */
  committed: number;
  /** Highest index handed to the application in a Ready's committedEntries. */
  applying: number;
  /** Highest index the application reports applied (advance()). */
  applied: number;
  private readonly maxApplyingBytes: number;

  constructor(storage: Storage, maxApplyingBytes: number) {
    this.storage = storage;
    this.maxApplyingBytes = maxApplyingBytes;
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i; throws RaftError COMPACTED/UNAVAILABLE outside [firstIndex-1, lastIndex]. */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new RaftError('COMPACTED', `term(${i}): compacted below ${dummy + 1}`);
    if (i > this.lastIndex()) throw new RaftError('UNAVAILABLE', `term(${i}): beyond last index ${this.lastIndex()}`);
    return this.storage.term(i);
  }

  /** Term of entry i, or 0 when it is not in the log (compacted or beyond the end). */
  termOrZero(i: number): number {
    // Checked first: this is on the hot path (findConflict) and exceptions are expensive.
    if (i > this.lastIndex() || i < this.firstIndex() - 1) return 0;
    try {
      return this.term(i);
    } catch (err) {
      if (err instanceof RaftError) return 0;
      throw err;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    return this.termOrZero(i) === t;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** The first entry whose index exists with a different term, or 0 when none conflicts. */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * Fast back-off (etcd-io/raft findConflictByTerm): the largest index <= `index` whose term is <=
   * `term`, with that term. Everything above it in a term greater than `term` cannot match, so a whole
   * conflicting term is skipped in one round trip instead of one entry at a time (§5.3).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch (err) {
        if (err instanceof RaftError) return { index: i, term: 0 };
        throw err;
      }
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /**
   * The follower side of AppendEntries (§5.3): when our entry at `index` has `logTerm`, append
   * `ents` past any matching prefix, truncating a conflicting tail, and commit up to `commit`.
   * Returns the last index known to match the leader's log, or undefined on mismatch.
   */
  maybeAppend(index: number, logTerm: number, commit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = (ents[0] as Entry).index - 1;
    assert(after >= this.committed, () => `append after ${after} would rewrite committed entries (committed ${this.committed})`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) return; // commit never decreases
    assert(toCommit <= this.lastIndex(), () => `commit ${toCommit} beyond last index ${this.lastIndex()}`);
    this.committed = toCommit;
  }

  /** §5.4.2: only an entry of the current term is committed by counting replicas. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(i <= this.committed, () => `applied ${i} beyond committed ${this.committed}`);
    assert(i >= this.applied, () => `applied index going backwards: ${this.applied} -> ${i}`);
    this.applied = i;
    this.applying = Math.max(this.applying, i);
  }

  acceptApplying(i: number): void {
    assert(i <= this.committed, () => `applying ${i} beyond committed ${this.committed}`);
    this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  hasNextUnstableEntries(): boolean {
    return this.unstable.hasNextEntries();
  }

  nextUnstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet handed out; none while a snapshot is still being installed. */
  nextCommittedEntries(): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return [];
    const lo = this.applying + 1;
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyingBytes);
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasNextOrInProgressSnapshot() && this.applying < this.committed;
  }

  /** Unapplied entries up to commit that are configuration changes (a node with one must not campaign). */
  hasUnappliedConfChanges(): boolean {
    if (this.committed <= this.applied) return false;
    let lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    while (lo < hi) {
      const ents = this.slice(lo, hi, 1 << 20);
      for (const e of ents) if (e.type === EntryType.ConfChange) return true;
      lo += ents.length;
    }
    return false;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from i to the end, within maxBytes (always at least one when i <= lastIndex). */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi) from storage and then the unstable tail; throws COMPACTED below firstIndex. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `slice(${lo}): compacted below ${first}`);
    assert(hi <= this.lastIndex() + 1 && lo <= hi, () => `slice(${lo}, ${hi}) out of bounds, last index ${this.lastIndex()}`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    if (lo >= offset) return limitSize(this.unstable.slice(lo, hi), maxBytes);
    const storedHi = Math.min(hi, offset);
    const stored = this.storage.entries(lo, storedHi, maxBytes);
    if (stored.length < storedHi - lo || hi <= offset) return stored;
    const combined = stored.concat(this.unstable.slice(offset, hi));
    return limitSize(combined, maxBytes);
  }

  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }
}
