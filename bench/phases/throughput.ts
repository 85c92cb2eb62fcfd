// Closed-loop throughput and latency at a fixed number of requests in flight: SendMessage (each an
// fsynced Raft commit on a quorum) or linearizable ListMessages (a ReadIndex round per read).
import { sleep, type BenchContext } from '../context.js';
import type { LoadMode } from '../load/protocol.js';
import { CpuMeter, loadAverage1m, round, RssSampler } from '../probe.js';
import { readReplicas, windowOf, type ReplicaWindow } from '../replica-probe.js';
import { median } from '../report.js';

/** The headline figures of one run of a point, kept beside the medians when a point is run more than once. */
export interface RunFigures {
  ops_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  errors: number;
  leader_changes: number;
  load_avg_1m: { before: number; after: number };
}

export interface PointResult {
  mode: LoadMode;
  concurrency: number;
  ops_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
  errors: number;
  error_codes: Record<string, number>;
  /** Elections during the point (rise of the highest term); a steady cluster has none. */
  leader_changes: number;
  /** Percent of one core, measured over the measured window. */
  client_cpu_pct: number;
  replica_cpu_pct: Record<string, number>;
  /** CPU time of all replicas together per acknowledged operation: what bounds throughput when cores are the limit. */
  cluster_cpu_ms_per_op: number;
  /** The load generator's CPU time per acknowledged operation. */
  client_cpu_ms_per_op: number;
  leader: string;
  /** Peak RSS of each replica during the point (MiB). */
  rss_peak_mib: Record<string, number>;
  /** What each replica's /metrics says about the measured window: disk, group commit, apply, event loop, memory. */
  replicas: Record<string, ReplicaWindow>;
  load_avg_1m: { before: number; after: number };
  /** Every run of the point when it ran more than once (`--runs`); the figures above are then their medians. */
  runs?: RunFigures[];
}

/**
 * One point from several runs of it, the way the etcd figures were taken (medians of runs):
 * each headline figure is the median of its runs, errors and leader changes are summed, max is the
 * largest, and what cannot be a median (the per-replica readings, CPU split, peak RSS, leader) comes
 * from the run whose throughput is the median one.
 */
export function combineRuns(points: readonly PointResult[]): PointResult {
  if (points.length === 1) return points[0]!;
  const byOps = [...points].sort((a, b) => a.ops_per_s - b.ops_per_s);
  const middle = byOps[Math.floor((byOps.length - 1) / 2)]!;
  const mid = (pick: (p: PointResult) => number, digits: number): number => round(median(points.map(pick)), digits);
  const errorCodes: Record<string, number> = {};
  for (const p of points) for (const [code, n] of Object.entries(p.error_codes)) errorCodes[code] = (errorCodes[code] ?? 0) + n;
  return {
    ...middle,
    ops_per_s: mid((p) => p.ops_per_s, 0),
    p50_ms: mid((p) => p.p50_ms, 2),
    p95_ms: mid((p) => p.p95_ms, 2),
    p99_ms: mid((p) => p.p99_ms, 2),
    mean_ms: mid((p) => p.mean_ms, 2),
    max_ms: Math.max(...points.map((p) => p.max_ms)),
    errors: points.reduce((n, p) => n + p.errors, 0),
    error_codes: errorCodes,
    leader_changes: points.reduce((n, p) => n + p.leader_changes, 0),
    client_cpu_pct: mid((p) => p.client_cpu_pct, 0),
    cluster_cpu_ms_per_op: mid((p) => p.cluster_cpu_ms_per_op, 2),
    client_cpu_ms_per_op: mid((p) => p.client_cpu_ms_per_op, 2),
    load_avg_1m: { before: points[0]!.load_avg_1m.before, after: points[points.length - 1]!.load_avg_1m.after },
    runs: points.map((p) => ({
      ops_per_s: p.ops_per_s,
      p50_ms: p.p50_ms,
      p95_ms: p.p95_ms,
      p99_ms: p.p99_ms,
      errors: p.errors,
      leader_changes: p.leader_changes,
      load_avg_1m: p.load_avg_1m,
    })),
  };
}

export async function measurePoint(ctx: BenchContext, mode: LoadMode, concurrency: number): Promise<PointResult> {
  const { cluster, load, progress, settings } = ctx;
  const leader = await cluster.waitForLeader(10_000);
  const termBefore = await cluster.maxTerm();
  const loadBefore = loadAverage1m();
  const startedMs = Date.now();
  const totalMs = settings.warmupMs + settings.measureMs;
  const run = load.run(
    { mode, concurrency, warmupMs: settings.warmupMs, durationMs: settings.measureMs, deadlineMs: settings.deadlineMs, retryOnError: false },
    (p) => {
      const left = Math.max(0, Math.ceil((totalMs - (Date.now() - startedMs)) / 1000));
      progress.tick(`${mode} C=${concurrency}: ${p.acked} acked, ${p.errors} errors, ${left} s left`);
    },
  );
  await sleep(settings.warmupMs);
  const cpu = new CpuMeter(new Map([...cluster.pids(), ['client', load.pid ?? 0]]));
  const rss = new RssSampler(() => cluster.pids());
  const metricsUrls = cluster.metricsUrls();
  const readingsBefore = await readReplicas(metricsUrls);
  const readAtMs = Date.now();
  const result = await run.result;
  const readingsAfter = await readReplicas(metricsUrls);
  const replicas = windowOf(readingsBefore, readingsAfter, (Date.now() - readAtMs) / 1000);
  const replicaCpu = cpu.percent();
  delete replicaCpu['client'];
  const rssPeak = rss.stop();
  const termAfter = await cluster.maxTerm();
  const opsPerS = (result.ops / result.measuredMs) * 1000;
  const clusterCores = Object.values(replicaCpu).reduce((a, b) => a + b, 0) / 100;
  return {
    mode,
    concurrency,
    ops_per_s: round(opsPerS, 0),
    p50_ms: round(result.latency.p50Ms, 2),
    p95_ms: round(result.latency.p95Ms, 2),
    p99_ms: round(result.latency.p99Ms, 2),
    mean_ms: round(result.latency.meanMs, 2),
    max_ms: round(result.latency.maxMs, 2),
    errors: result.errors,
    error_codes: result.errorCodes,
    leader_changes: termAfter - termBefore,
    client_cpu_pct: round(result.clientCpuPercent, 0),
    replica_cpu_pct: replicaCpu,
    cluster_cpu_ms_per_op: round((clusterCores * 1000) / Math.max(opsPerS, 1e-9), 2),
    client_cpu_ms_per_op: round((result.clientCpuPercent * 10) / Math.max(opsPerS, 1e-9), 2),
    leader: leader.status.nodeId,
    rss_peak_mib: rssPeak,
    replicas,
    load_avg_1m: { before: loadBefore, after: loadAverage1m() },
  };
}
