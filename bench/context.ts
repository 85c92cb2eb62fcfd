// What every benchmark phase works with: the cluster, the load generator, the settings and the
// progress line.
import type { BenchCluster } from './cluster.js';
import type { LoadDriver } from './load/driver.js';
import type { ProgressLine } from './progress.js';

export interface BenchSettings {
  quick: boolean;
  /** Warm-up and measured time of each throughput and read point. */
  warmupMs: number;
  measureMs: number;
  /** How many times each throughput and read point runs; the report gives the medians. */
  runs: number;
  /** Unmeasured load before the first point: V8 optimizes the replicas' hot paths meanwhile. */
  primeMs: number;
  concurrencies: readonly number[];
  readConcurrency: number;
  failoverTrials: number;
  failoverConcurrency: number;
  /** Messages the cluster holds when a replica joins (and when its memory is read). */
  catchupMessages: number;
  fillConcurrency: number;
  /** Stop filling after this long even if short of catchupMessages (the report says so). */
  fillBudgetMs: number;
  /** How long the filled cluster rests before its memory is read a second time. */
  settleMs: number;
  bodyBytes: number;
  users: number;
  /** Per-attempt deadline of a measured request. */
  deadlineMs: number;
}

export interface BenchContext {
  settings: BenchSettings;
  cluster: BenchCluster;
  load: LoadDriver;
  progress: ProgressLine;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
