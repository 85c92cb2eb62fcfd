// The not-yet-durable tail of the log (etcd-io/raft's unstable): entries and possibly a snapshot that
// a Ready has handed out (in progress) or will hand out, until advance() reports them stable.
import { assert } from './errors.js';
import type { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  /** entries[i].index === offset + i. */
  entries: Entry[] = [];
  offset: number;
  /** Entries below this index have been handed to the application in a Ready, not yet acknowledged. */
  offsetInProgress: number;
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return (this.entries[i - this.offset] as Entry).term;
  }

  /** Entries not yet handed out in a Ready. */
  nextEntries(): Entry[] {
    const start = this.offsetInProgress - this.offset;
    return start >= this.entries.length ? [] : this.entries.slice(start);
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress - this.offset < this.entries.length;
  }

  nextSnapshot(): Snapshot | undefined {
    return this.snapshot === undefined || this.snapshotInProgress ? undefined : this.snapshot;
  }

  /** Everything currently unstable now travels in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== undefined) this.snapshotInProgress = true;
  }

  /** Entries up to (i, t) are durable; a mismatched term means they were since replaced: keep them. */
  stableTo(i: number, t: number): void {
    if (i < this.offset) return;
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snap;
    this.snapshotInProgress = false;
  }

  /** Append, truncating any unstable entries at or after ents[0].index (§5.3). */
  truncateAndAppend(ents: readonly Entry[]): void {
    const fromIndex = (ents[0] as Entry).index;
    if (fromIndex === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (fromIndex <= this.offset) {
      // Replace everything unstable; the storage below is truncated when these are persisted.
      this.entries = ents.slice();
      this.offset = fromIndex;
      this.offsetInProgress = this.offset;
    } else {
      this.entries = this.entries.slice(0, fromIndex - this.offset);
      for (const e of ents) this.entries.push(e);
      this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.entries.length && lo <= hi,
      () => `unstable.slice(${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length}]`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
