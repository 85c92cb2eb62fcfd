// The peer fuzz (issue #7) as a test: with a buggy peer injecting replays and malformed messages, a
// batch of seeds runs clean, every mutation class is exercised, a seed replays identically, and
// without the core's peer check the same fuzz breaks the core.
import assert from 'node:assert/strict';
import { RawNode, type Message, type PeerMessageRefusal } from '../../src/raft/index.js';
import { addFuzzStats, emptyFuzzStats } from './peer-fuzz.js';
import { MUTATIONS } from './peer-mutations.js';
import { runSeed } from './run.js';

const FIRST_SEED = 1;
const SEEDS = 60;
const CHAOS_STEPS = 1500;
const CHECKED = { checkRefusals: true };

describe('peer fuzz: a buggy peer replaying and mangling real messages', function () {
  this.timeout(120_000);

  it(`runs seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1} without a violation and exercises every mutation class`, () => {
    process.stdout.write(`      peer fuzz seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1}, ${CHAOS_STEPS} chaos steps each\n`);
    const totals = emptyFuzzStats();
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const result = runSeed(seed, { chaosSteps: CHAOS_STEPS, trace: false, peerFuzz: CHECKED });
      assert.equal(result.violation, undefined, `seed ${seed} (npm run sim -- --peer-fuzz --seed ${seed} --steps ${CHAOS_STEPS}): ${result.violation?.message}`);
      assert.ok(result.peerFuzz !== undefined);
      addFuzzStats(totals, result.peerFuzz);
    }
    for (const { name } of MUTATIONS) assert.ok((totals.mutations[name] ?? 0) > 0, `mutation ${name} never generated`);
    assert.ok(totals.replays > 100 && totals.misaddressed > 0 && totals.retargeted > 0, JSON.stringify(totals));
  });

  it('replays a fuzzed seed identically', () => {
    const first = runSeed(11, { chaosSteps: CHAOS_STEPS, trace: true, peerFuzz: CHECKED });
    const second = runSeed(11, { chaosSteps: CHAOS_STEPS, trace: true, peerFuzz: CHECKED });
    assert.equal(first.violation, undefined, first.violation?.message);
    assert.equal(first.digest, second.digest);
    assert.deepEqual(first.peerFuzz, second.peerFuzz);
    assert.ok(first.lastEvents.length > 0);
  });

  it('breaks the core when RawNode.step skips the peer check (the fuzz has teeth)', () => {
    const checkedStep = RawNode.prototype.step;
    RawNode.prototype.step = function (this: RawNode, m: Message): PeerMessageRefusal | undefined {
      (this as unknown as { raft: { step(m: Message): void } }).raft.step(m);
      return undefined;
    };
    try {
      let found: string | undefined;
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS && found === undefined; seed++) {
        // Only the invariants and the core's own assertions judge here, not the refusal checks.
        const result = runSeed(seed, { chaosSteps: CHAOS_STEPS, trace: false, peerFuzz: { checkRefusals: false } });
        if (result.violation !== undefined) found = `seed ${seed}: ${result.violation.invariant}`;
      }
      assert.ok(found !== undefined, 'no seed broke the unchecked core');
      process.stdout.write(`      unchecked core broken at ${found}\n`);
    } finally {
      RawNode.prototype.step = checkedStep;
    }
  });
});
