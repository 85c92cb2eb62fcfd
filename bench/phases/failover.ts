// Failover: SIGKILL the leader under a steady load and time the gap until the cluster acknowledges
// a write again (election timeout + election + the first commit in the new term, Raft §5.2).
import { sleep, type BenchContext } from '../context.js';
import { nowMs } from '../load/protocol.js';
import { loadAverage1m, round } from '../probe.js';

export interface FailoverTrial {
  killed: string;
  /** From the SIGKILL to the first acknowledgement of a write sent after it. */
  failover_ms: number;
  new_leader: string;
  load_avg_1m: number;
}

const STEADY_BEFORE_KILL_MS = 1_500;
const RECOVERY_TIMEOUT_MS = 30_000;
const CONVERGENCE_TIMEOUT_MS = 120_000;
/** Short enough that a request stuck on the dead leader is retried elsewhere well within a failover. */
const FAILOVER_ATTEMPT_DEADLINE_MS = 1_000;

export async function measureFailover(ctx: BenchContext): Promise<FailoverTrial[]> {
  const { cluster, load, progress, settings } = ctx;
  const trials: FailoverTrial[] = [];
  for (let trial = 1; trial <= settings.failoverTrials; trial++) {
    await cluster.waitForConvergence(CONVERGENCE_TIMEOUT_MS);
    const leader = await cluster.waitForLeader(10_000);
    const run = load.run({
      mode: 'send',
      concurrency: settings.failoverConcurrency,
      warmupMs: 0,
      durationMs: 10 * 60_000,
      deadlineMs: FAILOVER_ATTEMPT_DEADLINE_MS,
      retryOnError: true,
    });
    await sleep(STEADY_BEFORE_KILL_MS);
    const loadAvg = loadAverage1m();
    const killedAtMs = nowMs();
    cluster.local.kill(leader.index, 'SIGKILL');
    const recovered = await Promise.race([
      run.recoveredAfter(killedAtMs),
      sleep(RECOVERY_TIMEOUT_MS).then(() => undefined),
    ]);
    run.stop();
    await run.result;
    const newLeader = await cluster.waitForLeader(10_000);
    if (recovered === undefined) throw new Error(`no write was acknowledged within ${RECOVERY_TIMEOUT_MS} ms of killing ${leader.status.nodeId}`);
    const failoverMs = round(recovered.ackedAtMs - killedAtMs, 0);
    trials.push({ killed: leader.status.nodeId, failover_ms: failoverMs, new_leader: newLeader.status.nodeId, load_avg_1m: loadAvg });
    progress.tick(`trial ${trial}/${settings.failoverTrials}: killed ${leader.status.nodeId}, writes back after ${failoverMs} ms`);
    await cluster.local.waitForExit(leader.index);
    await cluster.local.startReplica(leader.index);
  }
  await cluster.waitForConvergence(CONVERGENCE_TIMEOUT_MS);
  return trials;
}
