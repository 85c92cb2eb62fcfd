// One simulated run: a chaos phase of faults, then a quiet phase in which the cluster must recover
// (liveness), then the end-of-run checks. Everything is drawn from the seed.
import { InvariantError } from '../../src/raft/index.js';
import { SimCluster, type RunStats } from './cluster.js';
import { injectFaults } from './faults.js';
import { scanLogMatching } from './log-scan.js';
import { changeMembership } from './membership.js';
import { CALM_NETWORK } from './network.js';
import { PeerFuzzer, type PeerFuzzOptions, type PeerFuzzStats } from './peer-fuzz.js';
import { Rng } from './rng.js';
import { scenarioFromSeed, type Scenario } from './scenario.js';
import { Trace } from './trace.js';
import { SimViolation, violated } from './violation.js';

export interface RunOptions {
  chaosSteps: number;
  /** Record events (slower): to print a failing seed's history or compare replays. */
  trace: boolean;
  /** Add the buggy peer (peer-fuzz.ts): replays and malformed messages during the chaos phase. */
  peerFuzz?: PeerFuzzOptions;
}

export interface RunResult {
  seed: number;
  steps: number;
  scenario: Scenario;
  violation: SimViolation | undefined;
  /** The last events (empty unless traced). */
  lastEvents: string[];
  /** Hash of every event recorded (traced runs only). */
  digest: string;
  eventCount: number;
  acknowledged: number;
  stats: RunStats | undefined;
  /** What the buggy peer injected (peer fuzz runs only). */
  peerFuzz: PeerFuzzStats | undefined;
}

export const DEFAULT_CHAOS_STEPS = 4000;
const FULL_SCAN_EVERY_STEPS = 250;

export function runSeed(seed: number, options: RunOptions): RunResult {
  const rng = new Rng(seed);
  const scenario = scenarioFromSeed(rng, options.chaosSteps);
  const trace = new Trace(options.trace, 0);
  let cluster: SimCluster | undefined;
  let violation: SimViolation | undefined;
  // Its own stream, so the scenario drawn for a seed is the same with and without the fuzz.
  const fuzzer = options.peerFuzz === undefined ? undefined : new PeerFuzzer(seed, options.peerFuzz);
  try {
    cluster = new SimCluster(rng, scenario, trace, fuzzer);
    runChaos(cluster);
    runQuiet(cluster);
    checkEnd(cluster);
  } catch (error) {
    violation = asViolation(error);
  }
  return {
    seed,
    steps: cluster?.now ?? 0,
    scenario,
    violation,
    lastEvents: trace.last(30),
    digest: trace.digest,
    eventCount: trace.eventCount,
    acknowledged: cluster?.clients.acknowledgedCount ?? 0,
    stats: cluster?.stats,
    peerFuzz: fuzzer?.stats,
  };
}

function asViolation(error: unknown): SimViolation {
  if (error instanceof SimViolation) return error;
  if (error instanceof InvariantError) return new SimViolation('core-assertion', error.message);
  const text = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
  return new SimViolation('core-error', text);
}

function maybeCompact(cluster: SimCluster): void {
  if (!cluster.rng.chance(cluster.scenario.compactProbability)) return;
  const live = cluster.liveReplicas();
  if (live.length > 0) cluster.compact(cluster.rng.pick(live));
}

function runChaos(cluster: SimCluster): void {
  const { scenario, rng } = cluster;
  while (cluster.now < scenario.chaosSteps) {
    cluster.advanceTime();
    injectFaults(cluster);
    cluster.fuzzer?.act(cluster);
    if (rng.chance(scenario.membershipProbability)) changeMembership(cluster);
    cluster.clients.act(true);
    maybeCompact(cluster);
    if (cluster.now % FULL_SCAN_EVERY_STEPS === 0) scanLogMatching(cluster.liveReplicas());
  }
}

/**
 * Liveness: with faults stopped, partitions healed and every crashed replica restarted, a leader
 * must emerge and every member converge, never going 50 election timeouts without progress. The
 * bound is on stalls, not on the whole catch-up: with 1-byte messages and one append in flight, a
 * follower hundreds of entries behind legitimately needs longer, and keeps advancing while it does.
 */
function runQuiet(cluster: SimCluster): void {
  cluster.phase = 'quiet';
  cluster.network.faults = CALM_NETWORK;
  cluster.network.heal();
  cluster.log(() => 'QUIET: faults stop, network heals, crashed replicas restart');
  for (const replica of cluster.replicas.values()) {
    if (replica.node === undefined && !replica.retired) cluster.restart(replica);
  }
  let deadline = cluster.now + cluster.scenario.quietStepsMax;
  let slowest = slowestApplied(cluster);
  let unsettled = unsettledReason(cluster);
  while (unsettled !== undefined) {
    if (cluster.now >= deadline) {
      violated(
        'liveness',
        `no progress for ${cluster.scenario.quietStepsMax} steps after faults stopped: ${unsettled}; ${progressSummary(cluster)}`,
      );
    }
    cluster.advanceTime();
    cluster.clients.act(false);
    maybeCompact(cluster);
    unsettled = unsettledReason(cluster);
    const now = slowestApplied(cluster);
    if (now > slowest) {
      slowest = now;
      deadline = cluster.now + cluster.scenario.quietStepsMax;
    }
  }
  cluster.log(() => 'SETTLED');
}

/** The lowest applied index among live replicas: it rises while the cluster converges. */
function slowestApplied(cluster: SimCluster): number {
  let lowest = Number.POSITIVE_INFINITY;
  for (const replica of cluster.liveReplicas()) lowest = Math.min(lowest, replica.node?.status().applied ?? 0);
  return Number.isFinite(lowest) ? lowest : 0;
}

/** The leader's view of each follower, for a liveness report. */
function progressSummary(cluster: SimCluster): string {
  const node = cluster.leader()?.node;
  if (node === undefined) return 'no leader';
  const parts: string[] = [];
  for (const [id, pr] of node.status().progress) {
    parts.push(`${id}: ${pr.state} match ${pr.match} next ${pr.next} inflight ${pr.inflight} active ${pr.recentActive}`);
  }
  return `progress { ${parts.join('; ')} }`;
}

/** Why the cluster has not converged yet, or undefined when it has. */
function unsettledReason(cluster: SimCluster): string | undefined {
  const leader = cluster.leader();
  const leaderNode = leader?.node;
  if (leader === undefined || leaderNode === undefined) return 'no leader';
  const status = leaderNode.status();
  const commit = status.hardState.commit;
  if (commit !== status.lastIndex) return `leader ${leader.id} commit ${commit} < last ${status.lastIndex}`;
  if (cluster.clients.anyPending) return `clients waiting: ${cluster.clients.pendingSummary()}`;
  for (const id of [...status.confState.voters, ...status.confState.learners]) {
    const member = cluster.replicas.get(id);
    const node = member?.node;
    if (member === undefined || node === undefined) return `member ${id} is down`;
    if (member.leaderId !== leader.id) return `${id} follows '${member.leaderId}', not ${leader.id}`;
    const memberStatus = node.status();
    if (memberStatus.hardState.commit !== commit || memberStatus.applied !== commit) {
      return `${id} commit ${memberStatus.hardState.commit} applied ${memberStatus.applied}, leader commit ${commit}`;
    }
  }
  return undefined;
}

/** Nothing acknowledged is missing: every member holds it, at the index it was acknowledged at. */
function checkEnd(cluster: SimCluster): void {
  const leaderNode = cluster.leader()?.node;
  if (leaderNode === undefined) return;
  const { voters, learners } = leaderNode.status().confState;
  const members = [...voters, ...learners].map((id) => cluster.replicas.get(id)).filter((r) => r !== undefined);
  for (const [index, command] of cluster.checker.acknowledgedProposals) {
    for (const member of members) {
      const applied = member.sm.commandAt(index);
      if (applied !== command) {
        violated('acknowledged-durable', `${member.id} has '${applied ?? 'nothing'}' at ${index}, where '${command}' was acknowledged`);
      }
    }
  }
  // Every member applied the same entries, so it must be in the same configuration as the leader.
  const expected = `${[...voters].sort().join(',')} / ${[...learners].sort().join(',')}`;
  for (const member of members) {
    const conf = member.node?.status().confState;
    const actual = conf === undefined ? 'down' : `${[...conf.voters].sort().join(',')} / ${[...conf.learners].sort().join(',')}`;
    if (actual !== expected) {
      violated('state-machine-safety', `${member.id} is in configuration ${actual}, the leader in ${expected}`);
    }
  }
  scanLogMatching(members);
}
