// The fault budget, as pure functions: how many replicas are down right now (not ready, missing,
// or killed by us and not yet back), and whether one more may be taken down — and which.

/** One replica as a chaos target sees it at one moment. */
export interface ReplicaHealth {
  /** The member id: the pod name on Kubernetes, `n<i>` for a local cluster. */
  name: string;
  /** Ready: a Ready pod, or a local replica whose readiness health check says SERVING. */
  ready: boolean;
  /** Known to be the Raft leader (only looked up when the leader is the target). */
  leader: boolean;
  /** What identifies this run of the replica (pod uid, process id): a kill's victim is back once it changes. */
  incarnation: string | undefined;
  /** Why it is not ready, for the log. */
  notReadyReason?: string;
}

/** A replica this engine took down, counted as down until it is back with a new incarnation and ready. */
export interface PendingVictim {
  name: string;
  incarnation: string | undefined;
  killedAtMs: number;
}

export interface BudgetState {
  replicas: number;
  /** The most replicas allowed down at once. */
  faultBudget: number;
  down: number;
  /** faultBudget - down; a kill needs at least 1. */
  remaining: number;
  downReplicas: string[];
}

export type KillDecision =
  | { action: 'kill'; victim: string; reason: string; budget: BudgetState }
  | { action: 'skip'; reason: string; budget: BudgetState };

export interface DecideOptions {
  /** Undefined: the default, ⌊(n−1)/2⌋, which leaves a majority of n up. */
  faultBudget: number | undefined;
  /** Only the leader may be the victim (skip the round when no leader is known). */
  leaderOnly: boolean;
  /** In [0, 1): picks the victim among the candidates. */
  random: () => number;
}

/**
 * ⌊(n−1)/2⌋: the most replicas a cluster of n can lose and still have a majority (Raft §5.2: a
 * leader needs votes from a majority; §5.3: an entry commits once a majority stores it).
 */
export function defaultFaultBudget(replicas: number): number {
  return Math.max(0, Math.floor((replicas - 1) / 2));
}

/**
 * The replicas as observed, plus every pending victim: one that is missing from the observation
 * (its pod deleted and not yet recreated) is added as down, and one that is observed with the
 * incarnation it had when killed (a pod still terminating) is marked down whatever it reports.
 */
export function withPendingVictims(observed: readonly ReplicaHealth[], victims: readonly PendingVictim[]): ReplicaHealth[] {
  const byName = new Map(victims.map((v) => [v.name, v]));
  const merged = observed.map((replica): ReplicaHealth => {
    const victim = byName.get(replica.name);
    if (victim === undefined || victim.incarnation === undefined || replica.incarnation !== victim.incarnation) return replica;
    return { ...replica, ready: false, leader: false, notReadyReason: 'killed, still terminating' };
  });
  const seen = new Set(observed.map((r) => r.name));
  for (const victim of victims) {
    if (!seen.has(victim.name)) {
      merged.push({ name: victim.name, ready: false, leader: false, incarnation: undefined, notReadyReason: 'killed, not back yet' });
    }
  }
  return merged;
}

/** The victims still down: those not yet observed ready with a new incarnation. */
export function stillPending(victims: readonly PendingVictim[], observed: readonly ReplicaHealth[]): PendingVictim[] {
  const byName = new Map(observed.map((r) => [r.name, r]));
  return victims.filter((victim) => {
    const now = byName.get(victim.name);
    return now === undefined || !now.ready || (victim.incarnation !== undefined && now.incarnation === victim.incarnation);
  });
}

export function budgetState(replicas: readonly ReplicaHealth[], faultBudget: number | undefined): BudgetState {
  const budget = faultBudget ?? defaultFaultBudget(replicas.length);
  const downReplicas = replicas.filter((r) => !r.ready).map((r) => r.name).sort();
  return {
    replicas: replicas.length,
    faultBudget: budget,
    down: downReplicas.length,
    remaining: budget - downReplicas.length,
    downReplicas,
  };
}

/** Whether to take one more replica down now, and which: never past the fault budget. */
export function decideKill(replicas: readonly ReplicaHealth[], options: DecideOptions): KillDecision {
  const budget = budgetState(replicas, options.faultBudget);
  if (replicas.length === 0) return { action: 'skip', reason: 'no replicas found', budget };
  if (budget.remaining < 1) {
    const why = budget.down === 0 ? 'the fault budget is 0' : `${budget.down} down (${budget.downReplicas.join(', ')})`;
    return { action: 'skip', reason: `fault budget spent: ${why}, budget ${budget.faultBudget}`, budget };
  }
  // Only a ready replica is worth killing: one already down does not test anything new.
  const ready = replicas.filter((r) => r.ready);
  const candidates = options.leaderOnly ? ready.filter((r) => r.leader) : ready;
  if (candidates.length === 0) {
    const reason = options.leaderOnly ? 'no ready leader to target' : 'no ready replica to target';
    return { action: 'skip', reason, budget };
  }
  const pick = Math.min(candidates.length - 1, Math.floor(options.random() * candidates.length));
  const victim = candidates[pick]!.name;
  const reason = options.leaderOnly ? `${victim} is the leader` : `picked at random from ${candidates.length} ready replicas`;
  return { action: 'kill', victim, reason, budget };
}
