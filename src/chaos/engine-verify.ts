// `chaos --verify`: a verifying workload runs while the engine takes replicas down; afterwards, once
// every replica is back, the checker proves that no acknowledged message was lost or duplicated.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { formatReport, verifyWorkload, type CheckReport } from './checker.js';
import { runChaos, waitForAllReady, type ChaosOptions, type ChaosRunResult } from './engine.js';
import type { BudgetState } from './engine-budget.js';
import { Workload, type WorkloadOptions } from './workload.js';

export interface VerifiedChaosOptions extends ChaosOptions {
  /** Passed to the workload (servers come from the target). */
  workload?: Omit<WorkloadOptions, 'servers' | 'logger'>;
  /** How long the replicas have to come back after the run, before the check (default 60 000 ms). */
  recoveryTimeoutMs?: number;
  /** How long the check waits for every replica to reach the same applied index (default 30 000 ms). */
  convergeTimeoutMs?: number;
  /** Client-port credentials: TLS when the cluster's client port uses it (default plaintext). */
  credentials?: ChannelCredentials;
}

export interface VerifiedChaosResult {
  chaos: ChaosRunResult;
  /** The budget state when the check started: every replica should be back. */
  recovered: BudgetState;
  report: CheckReport;
}

export class NoEndpointsError extends Error {
  override readonly name = 'NoEndpointsError';
  readonly code = 'CHAOS_NO_ENDPOINTS';
}

export async function runVerifiedChaos(options: VerifiedChaosOptions): Promise<VerifiedChaosResult> {
  const log: Logger = options.logger;
  const endpoints = await options.target.endpoints();
  if (endpoints.length === 0) throw new NoEndpointsError(`no replica client addresses found on ${options.target.description}`);
  const workload = new Workload({
    ...options.workload,
    servers: endpoints.map((e) => e.address),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    logger: log.child({ component: 'workload' }),
  });
  await workload.start();
  log.info({ event: 'workload-start', runId: workload.runId, servers: endpoints.map((e) => e.address) }, 'verifying workload started');

  let chaos: ChaosRunResult | undefined;
  let failure: unknown;
  try {
    chaos = await runChaos(options);
  } catch (error) {
    failure = error;
  }
  // The workload keeps going until every replica is back, so the last kill is tested too.
  const recovered = await waitForAllReady(options.target, options.recoveryTimeoutMs ?? 60_000);
  const result = await workload.stop();
  if (chaos === undefined) throw failure;
  log.info({ event: 'recovered', budget: recovered, counters: workload.counters() }, 'run over; checking the replicas');
  const report = await verifyWorkload(result, await options.target.endpoints(), {
    convergeTimeoutMs: options.convergeTimeoutMs ?? 30_000,
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  });
  const verdict = { event: 'verify', ok: report.ok, counts: report.counts, lost: report.lost.length, duplicates: report.duplicates.length };
  if (report.ok) log.info(verdict, formatReport(report));
  else log.error(verdict, formatReport(report));
  return { chaos, recovered, report };
}
