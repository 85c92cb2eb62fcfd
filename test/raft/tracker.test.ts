// Flow-control and quorum building blocks: the inflights ring, Progress states and majorities.
import assert from 'node:assert/strict';
import { committedIndex, voteResult } from '../../src/raft/quorum/majority.js';
import { Inflights } from '../../src/raft/tracker/inflights.js';
import { Progress } from '../../src/raft/tracker/progress.js';

describe('Inflights', () => {
  it('is full at capacity and frees every message up to an acknowledged index, wrapping around', () => {
    const inf = new Inflights(3);
    for (let round = 0; round < 5; round++) {
      const base = round * 3;
      inf.add(base + 1, 10);
      inf.add(base + 2, 10);
      inf.add(base + 3, 10);
      assert.equal(inf.full(), true);
      inf.freeLE(base + 2);
      assert.deepEqual([inf.count, inf.full()], [1, false]);
      inf.freeLE(base + 3);
      assert.equal(inf.count, 0);
    }
    assert.throws(() => { inf.add(1, 1); inf.add(2, 1); inf.add(3, 1); inf.add(4, 1); });
  });

  it('is also full when the bytes in flight reach the byte cap', () => {
    const inf = new Inflights(10, 100);
    inf.add(1, 60);
    assert.equal(inf.full(), false);
    inf.add(2, 60);
    assert.equal(inf.full(), true);
  });
});

describe('Progress', () => {
  const make = (): Progress => new Progress({ match: 0, next: 5, maxInflightMessages: 4, isLearner: false, recentActive: true });

  it('a probe pauses after one App and resumes on an acknowledgement', () => {
    const pr = make();
    pr.sentEntries(2, 6, 20);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.maybeUpdate(6), true);
    assert.equal(pr.isPaused(), false);
    assert.equal(pr.next, 7);
  });

  it('ignores a stale rejection and backs off to the hint on a current one', () => {
    const pr = make();
    assert.equal(pr.maybeDecrTo(2, 1), false, 'rejection of an App we did not just send');
    assert.equal(pr.maybeDecrTo(4, 1), true);
    assert.equal(pr.next, 2);
    pr.becomeReplicate();
    pr.maybeUpdate(3);
    assert.equal(pr.maybeDecrTo(2, 0), false, 'below match: stale');
  });

  it('replicate sends optimistically; snapshot state waits and resumes above the snapshot', () => {
    const pr = make();
    pr.maybeUpdate(4);
    pr.becomeReplicate();
    pr.sentEntries(3, 7, 30);
    assert.deepEqual([pr.next, pr.inflights.count], [8, 1]);
    pr.becomeSnapshot(20);
    assert.equal(pr.isPaused(), true);
    pr.becomeProbe();
    assert.deepEqual([pr.state, pr.next], ['probe', 21]);
  });
});

describe('majority quorums', () => {
  it('committedIndex is the highest index a majority of voters has', () => {
    const voters = new Set(['a', 'b', 'c', 'd', 'e']);
    const match: Record<string, number> = { a: 10, b: 8, c: 7, d: 3 };
    assert.equal(committedIndex(voters, (id) => match[id] ?? 0), 7);
    assert.equal(committedIndex(new Set(['a']), () => 4), 4);
  });

  it('voteResult is won with a majority, lost once a majority cannot be reached, else pending', () => {
    const voters = new Set(['a', 'b', 'c']);
    assert.equal(voteResult(voters, new Map([['a', true]])), 'pending');
    assert.equal(voteResult(voters, new Map([['a', true], ['b', true]])), 'won');
    assert.equal(voteResult(voters, new Map([['a', true], ['b', false], ['c', false]])), 'lost');
    assert.equal(voteResult(voters, new Map([['a', true], ['x', true]])), 'pending', 'non-voters do not count');
  });
});
