// MemoryStorage: the Storage contract, compaction and snapshots.
import assert from 'node:assert/strict';
import { EntryType, MemoryStorage, RaftError, type Entry } from '../../src/raft/index.js';

const e = (index: number, term: number, size = 1): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) });
const isCode = (code: string) => (err: unknown): boolean => err instanceof RaftError && err.code === code;

describe('MemoryStorage', () => {
  it('bootstrap gives an empty log whose index-0 snapshot carries the configuration', () => {
    const s = MemoryStorage.bootstrap({ voters: ['n1', 'n2'], learners: ['n3'] });
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(0)], [1, 0, 0]);
    assert.deepEqual(s.initialState().confState, { voters: ['n1', 'n2'], learners: ['n3'] });
    assert.deepEqual(s.initialState().hardState, { term: 0, vote: '', commit: 0 });
  });

  it('append replaces a conflicting tail and refuses a gap', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 1), e(3, 1)]);
    s.append([e(2, 2)]);
    assert.deepEqual([s.lastIndex(), s.term(2)], [2, 2]);
    assert.throws(() => s.append([e(5, 2)]));
  });

  it('entries respects [lo, hi), maxBytes (but at least one) and the bounds', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1, 100), e(2, 1, 100), e(3, 1, 100)]);
    assert.equal(s.entries(1, 4, Infinity).length, 3);
    assert.equal(s.entries(1, 4, 250).length, 2);
    assert.equal(s.entries(1, 4, 1).length, 1);
    assert.throws(() => s.entries(0, 2, Infinity), isCode('COMPACTED'));
    assert.throws(() => s.entries(1, 5, Infinity), isCode('UNAVAILABLE'));
  });

  it('compact drops entries covered by a snapshot and keeps the term of the compaction point', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2)]);
    const snap = s.createSnapshot(3, { voters: ['n1'], learners: [] }, new Uint8Array([9]));
    assert.deepEqual([snap.metadata.index, snap.metadata.term], [3, 2]);
    s.compact(3);
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(3)], [4, 4, 2]);
    assert.throws(() => s.term(2), isCode('COMPACTED'));
    assert.throws(() => s.compact(2), isCode('COMPACTED'));
    assert.throws(() => s.createSnapshot(3, { voters: [], learners: [] }, new Uint8Array()), isCode('COMPACTED'));
  });

  it('refuses to create a snapshot that names no voters (a joiner that has not applied a configuration yet)', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 1)]);
    assert.throws(() => s.createSnapshot(2, { voters: [], learners: ['n4'] }, new Uint8Array()), /no voters/);
    assert.equal(s.snapshot().metadata.index, 0, 'nothing was taken');
  });

  it('applySnapshot replaces the whole log and refuses an older snapshot', () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(2, 1)]);
    s.applySnapshot({ metadata: { index: 10, term: 3, confState: { voters: ['n1'], learners: [] } }, data: new Uint8Array() });
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(10)], [11, 10, 3]);
    assert.throws(() => s.applySnapshot({ metadata: { index: 5, term: 1, confState: { voters: [], learners: [] } }, data: new Uint8Array() }), isCode('COMPACTED'));
    s.append([e(11, 3)]);
    assert.equal(s.lastIndex(), 11);
  });
});
