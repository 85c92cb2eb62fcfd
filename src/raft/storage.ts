// MemoryStorage: an in-memory Storage (etcd-io/raft's MemoryStorage). Replicas mirror their durable
// log into it; tests and the simulation use it as the disk itself.
import { assert, RaftError } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot, Storage } from './types.js';
import { EntryType, NONE } from './types.js';
import { EMPTY_BYTES, limitSize } from './util.js';

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY_BYTES,
  };
  /** ents[0] is a dummy standing for the snapshot's last entry, so ents[i].index === offset + i. */
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }];

  /** A storage for a brand-new cluster: `confState` as of index 0, term 0, and an empty log. */
  static bootstrap(confState: ConfState): MemoryStorage {
    const storage = new MemoryStorage();
    storage.snap = { metadata: { index: 0, term: 0, confState: copyConfState(confState) }, data: EMPTY_BYTES };
    return storage;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: copyConfState(this.snap.metadata.confState) };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  private get offset(): number {
    return (this.ents[0] as Entry).index;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  term(i: number): number {
    const offset = this.offset;
    if (i < offset) throw new RaftError('COMPACTED', `term(${i}): compacted below ${offset + 1}`);
    if (i - offset >= this.ents.length) throw new RaftError('UNAVAILABLE', `term(${i}): beyond last index ${this.lastIndex()}`);
    return (this.ents[i - offset] as Entry).term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset;
    if (lo <= offset) throw new RaftError('COMPACTED', `entries(${lo}): compacted below ${offset + 1}`);
    if (hi > this.lastIndex() + 1) throw new RaftError('UNAVAILABLE', `entries(${lo}, ${hi}): beyond last index ${this.lastIndex()}`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace the log with `snap` (a follower installing the leader's snapshot). */
  applySnapshot(snap: Snapshot): void {
    const current = this.snap.metadata.index;
    // Index 0 may be re-applied on an empty storage: that is how a new cluster is bootstrapped.
    if (snap.metadata.index < current || (snap.metadata.index === current && current !== 0)) {
      throw new RaftError('COMPACTED', `snapshot at ${snap.metadata.index} is not newer than ${current}`);
    }
    this.snap = { metadata: { ...snap.metadata, confState: copyConfState(snap.metadata.confState) }, data: snap.data };
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: EMPTY_BYTES }];
  }

  /** Record a snapshot of the applied state at `index` (the caller compacts separately). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError('COMPACTED', `snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    }
    assert(index <= this.lastIndex(), () => `createSnapshot(${index}) beyond last index ${this.lastIndex()}`);
    // A follower that restores this snapshot takes its membership from it alone.
    assert(confState.voters.length > 0, () => `createSnapshot(${index}) with no voters: the configuration at ${index} is not known`);
    this.snap = { metadata: { index, term: this.term(index), confState: copyConfState(confState) }, data };
    return this.snap;
  }

  /** Drop entries up to and including `index`; they must be covered by a snapshot (§7). */
  compact(index: number): void {
    const offset = this.offset;
    if (index <= offset) throw new RaftError('COMPACTED', `compact(${index}): already compacted to ${offset}`);
    assert(index <= this.lastIndex(), () => `compact(${index}) beyond last index ${this.lastIndex()}`);
    const dummy = this.ents[index - offset] as Entry;
    const rest = this.ents.slice(index - offset + 1);
    rest.unshift({ term: dummy.term, index: dummy.index, type: EntryType.Normal, data: EMPTY_BYTES });
    this.ents = rest;
  }

  /**
   * Append entries made durable; entries[0].index may be <= lastIndex, replacing a conflicting tail.
   * Entries already compacted are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = (entries[entries.length - 1] as Entry).index;
    if (last < first) return;
    let start = 0;
    if ((entries[0] as Entry).index < first) start = first - (entries[0] as Entry).index;
    const from = (entries[start] as Entry).index;
    const offset = this.offset;
    assert(from <= this.lastIndex() + 1, () => `append: gap between last index ${this.lastIndex()} and ${from}`);
    if (from - offset < this.ents.length) this.ents.length = from - offset;
    for (let i = start; i < entries.length; i++) this.ents.push(entries[i] as Entry);
  }
}
