// Shared steps of the fault scenarios: run the chaos workload against a TestCluster, bring every
// replica back, check the cluster with the chaos checker, and print the figures a scenario measures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TestCluster, waitFor } from '../../support/cluster.js';
import { Workload, type WorkloadOptions } from '../../../src/chaos/workload.js';
import { verifyWorkload, formatReport, type CheckReport, type ReplicaEndpoint } from '../../../src/chaos/checker.js';
import type { WorkloadResult } from '../../../src/chaos/workload-records.js';

/** The election timeout chatd runs with by default (10 ticks of 50 ms); randomized up to twice that. */
export const ELECTION_TIMEOUT_MS = 500;

/** Compacts often, so a replica that joins or falls behind is caught up through a snapshot. */
export const SNAPSHOT_ENTRIES = 100;

let shared: Promise<TestCluster> | undefined;

/**
 * The one five-replica cluster every fault scenario runs on, started on first use (process starts
 * dominate the suite's wall time). Each scenario leaves every member running again, or says why not.
 */
export function sharedCluster(): Promise<TestCluster> {
  shared ??= TestCluster.start({ replicas: 5, snapshotEntries: SNAPSHOT_ENTRIES, leaderTimeoutMs: 60_000 });
  return shared;
}

const runningWorkloads = new Set<Workload>();

// Runs once after every fault file, whichever of them started the cluster.
after(async () => {
  const cluster = await shared?.catch(() => undefined);
  await cluster?.stop();
});

const removedMembers = new WeakMap<TestCluster, Set<string>>();

/** Records that `id` was removed from the cluster: scenarios no longer restart or use it. */
export function markRemoved(cluster: TestCluster, id: string): void {
  const removed = removedMembers.get(cluster) ?? new Set<string>();
  removed.add(id);
  removedMembers.set(cluster, removed);
}

/** The ids of the current members, running or not: every node started, less those removed. */
export function memberIds(cluster: TestCluster): string[] {
  const removed = removedMembers.get(cluster) ?? new Set<string>();
  return cluster.nodes.map((n) => n.id).filter((id) => !removed.has(id));
}

/** Prints a measured figure under the running test's title (figures are printed, not asserted tightly). */
export function figure(text: string): void {
  console.log(`      » ${text}`);
}

export function endpointsOf(cluster: TestCluster, ids?: readonly string[]): ReplicaEndpoint[] {
  const nodes = ids === undefined ? cluster.running() : ids.map((id) => cluster.node(id));
  return nodes.map((n) => ({ id: n.id, address: n.clientAddress }));
}

/**
 * Starts a workload over every current member's client address (stopped ones too: the client fails
 * over). Removed members are left out: their ports are free for anyone to take.
 */
export async function startWorkload(cluster: TestCluster, options: Partial<WorkloadOptions> = {}): Promise<Workload> {
  const servers = memberIds(cluster).map((id) => cluster.node(id).clientAddress);
  const workload = new Workload({ servers, ...options });
  runningWorkloads.add(workload);
  await workload.start();
  return workload;
}

/**
 * After each scenario, pass or fail: stop a workload a failed scenario left sending (it would keep
 * the next one's cluster from settling), thaw frozen replicas, restart stopped members.
 */
export async function afterScenario(cluster: TestCluster): Promise<void> {
  const leftovers = [...runningWorkloads];
  runningWorkloads.clear();
  await Promise.all(leftovers.map((w) => w.stop()));
  for (const n of cluster.running()) n.process?.kill('SIGCONT');
  await restoreAll(cluster);
}

/** Restarts every current member that is not running and waits for them all to converge. */
export async function restoreAll(cluster: TestCluster): Promise<void> {
  const running = new Set(cluster.running().map((n) => n.id));
  for (const id of memberIds(cluster)) if (!running.has(id)) cluster.restart(id);
  await cluster.waitForLeader(60_000);
  await cluster.waitForConvergence(0, 60_000);
}

/**
 * Stops the workload, then checks it against the running replicas (all of them unless `ids`) and
 * fails the test with the printable report when anything is lost, duplicated or divergent.
 */
export async function stopAndCheck(cluster: TestCluster, workload: Workload, ids?: readonly string[]): Promise<{ result: WorkloadResult; report: CheckReport }> {
  runningWorkloads.delete(workload);
  const result = await workload.stop();
  const report = await verifyWorkload(result, endpointsOf(cluster, ids), { convergeTimeoutMs: 60_000 });
  figure(formatReport(report).split('\n').join('\n        '));
  assert.ok(report.ok, `the checker found violations (replica logs in ${cluster.root}; RAFTCHAT_KEEP_TEST_DATA=1 keeps them):\n${formatReport(report)}`);
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
