// The deterministic simulation as a test: a batch of seeds must run clean, a seed must replay
// identically, and the checkers must actually fire on histories that break Raft's rules.
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../../src/raft/index.js';
import { SafetyChecker, type LogView } from './checker.js';
import { runSeed } from './run.js';
import { SimViolation } from './violation.js';

const SEEDS = 30;
const CHAOS_STEPS = 600;

function logOf(terms: number[]): LogView {
  return {
    firstIndex: () => 1,
    lastIndex: () => terms.length,
    term: (index: number) => (index === 0 ? 0 : (terms[index - 1] ?? -1)),
  };
}

function entry(index: number, term: number, text: string): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

function violationOf(action: () => void): string {
  try {
    action();
  } catch (error) {
    if (error instanceof SimViolation) return error.invariant;
    throw error;
  }
  return 'none';
}

describe('deterministic simulation', function () {
  this.timeout(120_000);

  it(`runs ${SEEDS} seeds of crashes, partitions and membership changes without a violation`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runSeed(seed, { chaosSteps: CHAOS_STEPS, trace: false });
      assert.equal(result.violation, undefined, `seed ${seed}: ${result.violation?.message}`);
      assert.ok(result.steps >= CHAOS_STEPS, `seed ${seed} stopped early at ${result.steps}`);
    }
  });

  it('replays a seed identically: the same events, in the same order, for the same number of steps', () => {
    const first = runSeed(7, { chaosSteps: CHAOS_STEPS, trace: true });
    const second = runSeed(7, { chaosSteps: CHAOS_STEPS, trace: true });
    assert.equal(first.steps, second.steps);
    assert.equal(first.digest, second.digest);
    assert.deepEqual(first.lastEvents, second.lastEvents);
    assert.ok(first.lastEvents.length > 0, 'a traced run records events');
  });

  it('makes progress: clients get proposals acknowledged', () => {
    const result = runSeed(3, { chaosSteps: CHAOS_STEPS, trace: false });
    assert.ok(result.acknowledged > 0, 'no proposal was acknowledged');
  });
});

describe('simulation safety checker', () => {
  it('reports two leaders elected in the same term', () => {
    const checker = new SafetyChecker(() => []);
    checker.onLeader('n1', 3, logOf([1, 2, 3]));
    assert.equal(violationOf(() => checker.onLeader('n2', 3, logOf([1, 2, 3]))), 'election-safety');
  });

  it('reports two logs holding the same index and term on different predecessors', () => {
    const checker = new SafetyChecker(() => []);
    checker.onAppended('n1', [entry(2, 2, 'a')], logOf([1]));
    assert.equal(violationOf(() => checker.onAppended('n2', [entry(2, 2, 'a')], logOf([2]))), 'log-matching');
  });

  it('reports a later leader whose log lacks a committed entry', () => {
    const checker = new SafetyChecker(() => []);
    checker.onLeader('n1', 1, logOf([1, 1]));
    checker.onCommitted('n1', 2, 1);
    assert.equal(violationOf(() => checker.onLeader('n2', 2, logOf([1]))), 'leader-completeness');
  });

  it('reports two replicas applying different commands at one index', () => {
    const checker = new SafetyChecker(() => []);
    checker.onApplied('n1', 5, 'p1');
    assert.equal(violationOf(() => checker.onApplied('n2', 5, 'p2')), 'state-machine-safety');
  });

  it('reports a read answered below an index acknowledged before it was issued', () => {
    const checker = new SafetyChecker(() => []);
    assert.equal(violationOf(() => checker.onReadState('n1', 4, 9, 'r1')), 'read-linearizable');
  });
});
