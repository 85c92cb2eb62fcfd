// The chaos engine: every interval, look at the replicas, and take one down if the fault budget
// allows — a random ready one, or the leader. Every decision and kill is logged with its reason and
// the budget state, so a run can be read back afterwards like chaoskube's log.
import type { Logger } from 'pino';
import {
  budgetState,
  decideKill,
  stillPending,
  withPendingVictims,
  type BudgetState,
  type KillDecision,
  type PendingVictim,
  type ReplicaHealth,
} from './engine-budget.js';
import type { ChaosTarget } from './target-types.js';

export interface ChaosOptions {
  target: ChaosTarget;
  /** Time between two rounds; the first round comes one interval after the start. */
  intervalMs: number;
  /** Stop after this many kills (dry-run kills count too). Undefined: no limit. */
  maxKills?: number;
  /** Stop after this long. Undefined: no limit (stop with `signal`). */
  durationMs?: number;
  /** Most replicas down at once. Undefined: ⌊(n−1)/2⌋ of the replicas seen each round. */
  faultBudget?: number;
  /** Target the leader only. */
  leaderOnly?: boolean;
  /** Decide and log, but take nothing down. */
  dryRun?: boolean;
  logger: Logger;
  /** In [0, 1); default Math.random. */
  random?: () => number;
  signal?: AbortSignal;
  /** Give up (ChaosObserveError) after this many rounds in a row could not observe the replicas (default 5). */
  maxObserveFailures?: number;
  /** Told about every round, after its decision was carried out. */
  onRound?: (round: ChaosRound) => void;
}

export interface KillRecord {
  victim: string;
  atMs: number;
  dryRun: boolean;
  detail: string;
  budget: BudgetState;
}

export interface ChaosRound {
  atMs: number;
  replicas: ReplicaHealth[];
  decision: KillDecision;
  /** Set when the kill itself failed (the replica vanished in between, the API refused, …). */
  error?: string;
}

export interface ChaosRunResult {
  kills: KillRecord[];
  rounds: number;
  skipped: number;
  failedKills: number;
  /** The most replicas counted down in any round, before that round's kill. */
  maxDownSeen: number;
  stoppedBecause: 'max-kills' | 'duration' | 'aborted';
}

/** The target could not be observed for several rounds in a row: wrong selector, RBAC, API down. */
export class ChaosObserveError extends Error {
  override readonly name = 'ChaosObserveError';
  readonly code = 'CHAOS_OBSERVE_FAILED';
}

export async function runChaos(options: ChaosOptions): Promise<ChaosRunResult> {
  const log = options.logger;
  const random = options.random ?? Math.random;
  const startedAtMs = Date.now();
  const endAtMs = options.durationMs === undefined ? Infinity : startedAtMs + options.durationMs;
  const kills: KillRecord[] = [];
  let victims: PendingVictim[] = [];
  let rounds = 0;
  let skipped = 0;
  let failedKills = 0;
  let maxDownSeen = 0;
  let observeFailuresInARow = 0;

  log.info(
    {
      event: 'chaos-start',
      target: options.target.description,
      intervalMs: options.intervalMs,
      maxKills: options.maxKills ?? null,
      durationMs: options.durationMs ?? null,
      faultBudget: options.faultBudget ?? 'floor((n-1)/2)',
      leaderOnly: options.leaderOnly === true,
      dryRun: options.dryRun === true,
    },
    'chaos run starting',
  );

  const stopReason = (): ChaosRunResult['stoppedBecause'] | undefined => {
    if (options.signal?.aborted === true) return 'aborted';
    if (options.maxKills !== undefined && kills.length >= options.maxKills) return 'max-kills';
    if (Date.now() >= endAtMs) return 'duration';
    return undefined;
  };

  for (;;) {
    const before = stopReason();
    if (before !== undefined) return finish(before);
    await sleep(Math.min(options.intervalMs, Math.max(0, endAtMs - Date.now())), options.signal);
    const now = stopReason();
    if (now !== undefined) return finish(now);

    rounds++;
    const atMs = Date.now();
    let observed: ReplicaHealth[];
    try {
      observed = await options.target.observe({ withLeader: options.leaderOnly === true });
    } catch (error) {
      skipped++;
      observeFailuresInARow++;
      const message = error instanceof Error ? error.message : String(error);
      log.warn({ event: 'observe-failed', err: error, inARow: observeFailuresInARow }, `could not observe the replicas: ${message}`);
      if (observeFailuresInARow >= (options.maxObserveFailures ?? 5)) {
        throw new ChaosObserveError(`could not observe ${options.target.description} ${observeFailuresInARow} times in a row: ${message}`);
      }
      continue;
    }
    observeFailuresInARow = 0;
    victims = stillPending(victims, observed);
    const replicas = withPendingVictims(observed, victims);
    const decision = decideKill(replicas, { faultBudget: options.faultBudget, leaderOnly: options.leaderOnly === true, random });
    maxDownSeen = Math.max(maxDownSeen, decision.budget.down);
    const round: ChaosRound = { atMs, replicas, decision };
    const notReady = replicas.filter((r) => !r.ready).map((r) => ({ name: r.name, why: r.notReadyReason ?? 'not ready' }));

    if (decision.action === 'skip') {
      skipped++;
      log.info({ event: 'skip', reason: decision.reason, budget: decision.budget, notReady }, `skipping: ${decision.reason}`);
    } else if (options.dryRun === true) {
      kills.push({ victim: decision.victim, atMs, dryRun: true, detail: 'dry run', budget: decision.budget });
      log.info(
        { event: 'kill', dryRun: true, victim: decision.victim, reason: decision.reason, budget: decision.budget, notReady },
        `dry run: would take down ${decision.victim} (${decision.reason})`,
      );
    } else {
      try {
        const result = await options.target.kill(decision.victim);
        victims.push({ name: decision.victim, incarnation: result.incarnation, killedAtMs: atMs });
        kills.push({ victim: decision.victim, atMs, dryRun: false, detail: result.detail, budget: decision.budget });
        log.info(
          { event: 'kill', dryRun: false, victim: decision.victim, detail: result.detail, reason: decision.reason, budget: decision.budget, notReady },
          `took down ${decision.victim} (${result.detail}): ${decision.reason}`,
        );
      } catch (error) {
        failedKills++;
        round.error = error instanceof Error ? error.message : String(error);
        log.warn({ event: 'kill-failed', victim: decision.victim, err: error, budget: decision.budget }, `could not take down ${decision.victim}`);
      }
    }
    options.onRound?.(round);
  }

  function finish(stoppedBecause: ChaosRunResult['stoppedBecause']): ChaosRunResult {
    const result: ChaosRunResult = { kills, rounds, skipped, failedKills, maxDownSeen, stoppedBecause };
    log.info({ event: 'chaos-end', ...result, kills: kills.length }, `chaos run over (${stoppedBecause}): ${kills.length} kills in ${rounds} rounds`);
    return result;
  }
}

/** Waits until every replica the target knows is ready (after a run, before verifying). */
export async function waitForAllReady(target: ChaosTarget, timeoutMs: number, signal?: AbortSignal): Promise<BudgetState> {
  const giveUpAtMs = Date.now() + timeoutMs;
  for (;;) {
    const state = budgetState(await target.observe({ withLeader: false }).catch(() => []), undefined);
    if ((state.replicas > 0 && state.down === 0) || Date.now() >= giveUpAtMs || signal?.aborted === true) return state;
    await sleep(200, signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
