// Shared steps of the fault scenarios: run the chaos workload against a TestCluster, bring every
// replica back, check the cluster with the chaos checker, and print the figures a scenario measures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestCluster, waitFor, type ClusterOptions } from '../../support/cluster.js';
import { Workload, type WorkloadOptions } from '../../../src/chaos/workload.js';
import { verifyWorkload, formatReport, type CheckReport, type ReplicaEndpoint } from '../../../src/chaos/checker.js';
import type { WorkloadResult } from '../../../src/chaos/workload-records.js';

/** The election timeout chatd runs with by default (10 ticks of 50 ms); randomized up to twice that. */
export const ELECTION_TIMEOUT_MS = 500;

/** A fresh cluster of five real replicas; patient about the first election on a loaded machine. */
export function startFaultCluster(options: Omit<ClusterOptions, 'replicas'> = {}): Promise<TestCluster> {
  return TestCluster.start({ replicas: 5, leaderTimeoutMs: 60_000, ...options });
}

/** Prints a measured figure under the running test's title (figures are printed, not asserted tightly). */
export function figure(text: string): void {
  console.log(`      » ${text}`);
}

export function endpointsOf(cluster: TestCluster, ids?: readonly string[]): ReplicaEndpoint[] {
  const nodes = ids === undefined ? cluster.running() : ids.map((id) => cluster.node(id));
  return nodes.map((n) => ({ id: n.id, address: n.clientAddress }));
}

/** Starts a workload over every member's client address (dead ones too: the client fails over). */
export async function startWorkload(cluster: TestCluster, options: Partial<WorkloadOptions> = {}): Promise<Workload> {
  const workload = new Workload({ servers: cluster.nodes.map((n) => n.clientAddress), ...options });
  await workload.start();
  return workload;
}

/** Restarts every member that is not running (except `skip`) and waits for them to converge. */
export async function restoreAll(cluster: TestCluster, skip: readonly string[] = []): Promise<void> {
  const running = new Set(cluster.running().map((n) => n.id));
  for (const n of cluster.nodes) if (!running.has(n.id) && !skip.includes(n.id)) cluster.restart(n.id);
  await cluster.waitForLeader(60_000);
  await cluster.waitForConvergence(0, 60_000);
}

/**
 * Stops the workload, then checks it against the running replicas (all of them unless `ids`) and
 * fails the test with the printable report when anything is lost, duplicated or divergent.
 */
export async function stopAndCheck(cluster: TestCluster, workload: Workload, ids?: readonly string[]): Promise<{ result: WorkloadResult; report: CheckReport }> {
  const result = await workload.stop();
  const report = await verifyWorkload(result, endpointsOf(cluster, ids), { convergeTimeoutMs: 60_000 });
  figure(formatReport(report).split('\n').join('\n        '));
  assert.ok(report.ok, `the checker found violations (replica logs in ${cluster.root}):\n${formatReport(report)}`);
  return { result, report };
}

/** Waits until `id` reports a leader and has applied at least what the leader had committed when asked. */
export async function waitCaughtUp(cluster: TestCluster, id: string, timeoutMs = 30_000): Promise<void> {
  const leader = await cluster.waitForLeader(timeoutMs);
  const target = (await cluster.status(leader)).commitIndex;
  await waitFor(`${id} to catch up to index ${target}`, timeoutMs, async () => {
    const s = await cluster.status(id, 500).catch(() => undefined);
    return s !== undefined && s.leaderId !== '' && s.appliedIndex >= target ? true : undefined;
  });
}

export function logText(cluster: TestCluster, id: string): string {
  return readFileSync(cluster.logOf(id), 'utf8');
}

/** A voter that is not the leader (the first in member order). */
export async function aFollower(cluster: TestCluster, exclude: readonly string[] = []): Promise<string> {
  const leader = await cluster.waitForLeader();
  const follower = cluster.running().find((n) => n.id !== leader && !exclude.includes(n.id));
  if (follower === undefined) throw new Error('no running follower');
  return follower.id;
}
