// RaftLog and its unstable tail: durable vs not-yet-durable entries, conflicts, and commit rules.
import assert from 'node:assert/strict';
import { RaftLog } from '../../src/raft/log.js';
import { EntryType, InvariantError, MemoryStorage, RaftError, type Entry } from '../../src/raft/index.js';

const e = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array([index]) });

function logWith(terms: number[]): { log: RaftLog; storage: MemoryStorage } {
  const storage = MemoryStorage.bootstrap({ voters: ['n1'], learners: [] });
  storage.append(terms.map((t, i) => e(i + 1, t)));
  return { log: new RaftLog(storage, Infinity), storage };
}

describe('RaftLog', () => {
  it('reads entries across the durable storage and the unstable tail', () => {
    const { log } = logWith([1, 1, 2]);
    log.append([e(4, 2), e(5, 3)]);
    assert.deepEqual(log.slice(2, 6, Infinity).map((x) => [x.index, x.term]), [[2, 1], [3, 2], [4, 2], [5, 3]]);
    assert.equal(log.lastIndex(), 5);
    assert.equal(log.lastTerm(), 3);
    assert.deepEqual(log.nextUnstableEntries().map((x) => x.index), [4, 5]);
  });

  it('findConflictByTerm returns the last index at or below the hint whose term is not above the given term', () => {
    const { log } = logWith([1, 1, 2, 2, 2, 4, 4]);
    assert.deepEqual(log.findConflictByTerm(7, 3), { index: 5, term: 2 });
    assert.deepEqual(log.findConflictByTerm(7, 4), { index: 7, term: 4 });
    assert.deepEqual(log.findConflictByTerm(4, 1), { index: 2, term: 1 });
    assert.deepEqual(log.findConflictByTerm(7, 0), { index: 0, term: 0 });
    assert.deepEqual(log.findConflictByTerm(100, 2), { index: 5, term: 2 });
  });

  it('isUpToDate compares last terms first, then last indexes (§5.4.1)', () => {
    const { log } = logWith([1, 2, 2]);
    assert.equal(log.isUpToDate(1, 3), true);
    assert.equal(log.isUpToDate(3, 2), true);
    assert.equal(log.isUpToDate(2, 2), false);
    assert.equal(log.isUpToDate(10, 1), false);
  });

  it('maybeAppend truncates a conflicting uncommitted tail and keeps a matching prefix', () => {
    const { log } = logWith([1, 1, 1, 1]);
    log.commitTo(2);
    assert.equal(log.maybeAppend(2, 1, 3, [e(3, 1), e(4, 2)]), 4);
    assert.deepEqual(log.slice(1, 5, Infinity).map((x) => x.term), [1, 1, 1, 2]);
    assert.equal(log.committed, 3);
    assert.equal(log.maybeAppend(2, 9, 3, [e(3, 9)]), undefined, 'a mismatch at prevLogIndex is refused');
  });

  it('never rewrites a committed entry: such an append is an invariant violation', () => {
    const { log } = logWith([1, 1, 1]);
    log.commitTo(3);
    assert.throws(() => log.maybeAppend(1, 1, 3, [e(2, 1), e(3, 2)]), InvariantError);
    assert.throws(() => log.append([e(2, 5)]), InvariantError);
  });

  it('the commit index never decreases and never passes the last index', () => {
    const { log } = logWith([1, 1]);
    log.commitTo(2);
    log.commitTo(1);
    assert.equal(log.committed, 2);
    assert.throws(() => log.commitTo(3), InvariantError);
  });

  it('the applied index never passes the commit index nor goes backwards', () => {
    const { log } = logWith([1, 1, 1]);
    log.commitTo(2);
    log.appliedTo(2);
    assert.throws(() => log.appliedTo(3), InvariantError);
    log.commitTo(3);
    log.appliedTo(3);
    assert.throws(() => log.appliedTo(1), InvariantError);
  });

  it('commits by counting only an entry of the given (current) term (§5.4.2)', () => {
    const { log } = logWith([1, 1, 2]);
    assert.equal(log.maybeCommit(2, 2), false);
    assert.equal(log.maybeCommit(3, 2), true);
    assert.equal(log.committed, 3);
  });

  it('reading below the first index fails with COMPACTED', () => {
    const { log, storage } = logWith([1, 1, 1, 1]);
    storage.createSnapshot(2, { voters: ['n1'], learners: [] }, new Uint8Array());
    storage.compact(2);
    assert.equal(log.firstIndex(), 3);
    assert.equal(log.term(2), 1);
    assert.throws(() => log.slice(2, 4, Infinity), (err: unknown) => err instanceof RaftError && err.code === 'COMPACTED');
    assert.equal(log.termOrZero(1), 0);
  });

  it('unstable entries leave the unstable tail once reported stable with a matching term', () => {
    const { log } = logWith([]);
    log.append([e(1, 1), e(2, 1)]);
    log.unstable.acceptInProgress();
    assert.equal(log.hasNextUnstableEntries(), false);
    log.append([e(2, 2)]); // replaced while in progress: must be handed out again
    assert.deepEqual(log.nextUnstableEntries().map((x) => [x.index, x.term]), [[2, 2]]);
    log.stableTo(2, 1); // stale acknowledgement of the replaced entry: ignored
    assert.equal(log.unstable.offset, 1);
    log.stableTo(1, 1);
    assert.equal(log.unstable.offset, 2);
  });
});
