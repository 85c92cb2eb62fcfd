// The messages between the benchmark and its load generator (a child process, so the client's CPU
// is measured apart from the orchestrator's and never shares an event loop with it).

/** One account the generator sends as. */
export interface LoadUser {
  username: string;
  token: string;
}

export type LoadMode = 'send' | 'list';

export interface RunRequest {
  type: 'run';
  runId: number;
  mode: LoadMode;
  /** Requests kept in flight at every moment (closed loop: a worker sends the next when one ends). */
  concurrency: number;
  /** Load applied and thrown away before measuring. */
  warmupMs: number;
  /** How long to measure; the run also ends at `targetOps` acknowledged operations or at `stop`. */
  durationMs: number;
  targetOps?: number;
  /** Per-attempt gRPC deadline. */
  deadlineMs: number;
  /** After a failed attempt, retry on the next replica (failover and fill) instead of counting and moving on. */
  retryOnError: boolean;
}

/** Reply with `recovered` at the first acknowledgement of a request started at or after `killedAtMs`. */
export interface MarkRequest {
  type: 'mark';
  runId: number;
  killedAtMs: number;
}

export interface StopRequest {
  type: 'stop';
  runId: number;
}

export interface InitRequest {
  type: 'init';
  addresses: readonly string[];
  users: readonly LoadUser[];
  bodyBytes: number;
}

export type ToGenerator = InitRequest | RunRequest | MarkRequest | StopRequest;

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface RunResult {
  type: 'result';
  runId: number;
  /** Acknowledged operations inside the measured window. */
  ops: number;
  errors: number;
  /** gRPC status name → count, for the failed attempts in the measured window. */
  errorCodes: Record<string, number>;
  measuredMs: number;
  latency: LatencySummary;
  /** The generator's own CPU during the measured window, in percent of one core. */
  clientCpuPercent: number;
}

export interface Progress {
  type: 'progress';
  runId: number;
  /** Acknowledged operations since the run began, warm-up included. */
  acked: number;
  errors: number;
}

export interface Recovered {
  type: 'recovered';
  runId: number;
  ackedAtMs: number;
}

export interface Ready {
  type: 'ready';
}

export interface Failed {
  type: 'failed';
  message: string;
}

export type FromGenerator = RunResult | Progress | Recovered | Ready | Failed;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
