// The knobs of one run, all drawn from its seed ("swarm testing": each seed gets its own mix and
// intensity of faults, so some runs are calm and long-lived and others are storms).
import type { NetworkFaults } from './network.js';
import type { Rng } from './rng.js';

export interface Scenario {
  initialVoters: number;
  /** Founders start from MemoryStorage.bootstrap (index 0) or from a snapshot at (1, t1). */
  bootstrapAtIndexZero: boolean;
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxBytesPerMessage: number;
  maxInflightMessages: number;
  /** Steps of the fault-injecting phase; the quiet phase follows. */
  chaosSteps: number;
  /** Bound on the quiet phase: a cluster that has not recovered by then fails liveness. */
  quietStepsMax: number;
  network: NetworkFaults;
  clientCount: number;
  proposalProbability: number;
  readProbability: number;
  /** Client steps without an answer before it gives up on a proposal and tries again. */
  clientTimeoutSteps: number;
  crashProbability: number;
  /** Chance of a crash at each point of Ready handling (before persist, after send, mid-apply...). */
  crashInReadyProbability: number;
  maxCrashedAtOnce: number;
  restartDelayStepsMax: number;
  partitionProbability: number;
  healProbability: number;
  transferProbability: number;
  campaignProbability: number;
  membershipProbability: number;
  compactProbability: number;
  /** Entries kept behind the applied index when compacting (0: compact everything applied). */
  compactKeepEntries: number;
  snapshotFailureProbability: number;
  unreachableReportProbability: number;
  /** Chance a node misses a tick (clock skew). */
  tickSkipProbability: number;
  /** Leaders leave a moved commit index to the next App or heartbeat (Config.deferCommitBroadcast)... */
  deferCommitBroadcast: boolean;
  /** ...and, at each step, send it to whoever lacks it with this chance (the replica's delay timer). */
  commitBroadcastProbability: number;
}

export function scenarioFromSeed(rng: Rng, chaosSteps: number): Scenario {
  const initialVoters = rng.pick([3, 5, 7]);
  const electionTicks = rng.pick([10, 10, 15]);
  const stormy = rng.chance(0.5);
  return {
    initialVoters,
    bootstrapAtIndexZero: rng.chance(0.5),
    electionTicks,
    heartbeatTicks: rng.pick([1, 2]),
    preVote: rng.chance(0.8),
    checkQuorum: rng.chance(0.8),
    maxBytesPerMessage: rng.pick([1, 64, 512, 1 << 16]),
    maxInflightMessages: rng.pick([1, 4, 64]),
    chaosSteps,
    quietStepsMax: 50 * electionTicks,
    network: {
      dropProbability: rng.pick([0, 0.01, 0.05, stormy ? 0.2 : 0.02]),
      duplicateProbability: rng.pick([0, 0.02, 0.1]),
      maxDelaySteps: rng.pick([1, 2, 4, stormy ? 6 : 3]),
      reorder: rng.chance(0.8),
      lateDuplicateProbability: rng.pick([0, 0.001, 0.01]),
    },
    clientCount: rng.range(1, 4),
    proposalProbability: rng.pick([0.1, 0.3, 0.6]),
    readProbability: rng.pick([0.02, 0.1, 0.3]),
    clientTimeoutSteps: 8 * electionTicks,
    crashProbability: rng.pick([0, 0.002, 0.005, stormy ? 0.02 : 0.005]),
    crashInReadyProbability: rng.pick([0, 0.0005, 0.002, 0.004]),
    maxCrashedAtOnce: rng.chance(0.2) ? initialVoters : Math.ceil(initialVoters / 2),
    restartDelayStepsMax: rng.pick([5, 30, 150]),
    partitionProbability: rng.pick([0, 0.003, 0.01, stormy ? 0.03 : 0.01]),
    healProbability: rng.pick([0.02, 0.05, 0.1]),
    transferProbability: rng.pick([0, 0.002, 0.01]),
    campaignProbability: rng.pick([0, 0.001, 0.005, 0.03]),
    membershipProbability: rng.pick([0, 0.005, 0.02, 0.05]),
    compactProbability: rng.pick([0.005, 0.02, 0.1]),
    compactKeepEntries: rng.pick([0, 2, 10]),
    snapshotFailureProbability: rng.pick([0, 0.1, 0.5]),
    unreachableReportProbability: rng.pick([0, 0.3, 1]),
    tickSkipProbability: rng.pick([0, 0.05, 0.2]),
    // Drawn last, so that every knob above is what it was for the seed before these existed.
    deferCommitBroadcast: rng.chance(0.5),
    commitBroadcastProbability: rng.pick([0, 0.3, 1]),
  };
}
