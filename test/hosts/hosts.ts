// Shared helpers of the host tests: one 5-host cluster in network namespaces, per-replica status,
// waiting for a leader on one side of a partition, and the workload/checker glue.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RaftchatClient, type GetStatusResponse } from '../../src/client/index.js';
import { HostCluster } from '../../src/cli/demo-hosts.js';
import { Workload, type WorkloadOptions } from '../../src/chaos/workload.js';
import { formatReport, verifyWorkload } from '../../src/chaos/checker.js';
import { waitFor } from '../support/cluster.js';

/** Our namespaces and links are named `rcht-*`; 10.231.77.0/24 is routed nowhere else here. */
export const HOST_TEST_PREFIX = 'rcht';
export const HOST_TEST_SUBNET = '10.231.77';
export const REPLICAS = 5;

/** Fails with what to do when this machine cannot run the host tests (they need root and iptables). */
export function assertHostTestsCanRun(): void {
  assert.equal(process.getuid?.(), 0, 'the host tests create network namespaces and need root');
  for (const tool of ['ip', 'iptables']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      assert.fail(`${tool} is missing: run scripts/install-host-deps.sh`);
    }
  }
}

export interface HostFixture {
  cluster: HostCluster;
  dataDir: string;
  /** One client per replica that talks to that replica only. */
  single: RaftchatClient[];
  close(): Promise<void>;
}

export async function startHostCluster(startupTimeoutMs: number): Promise<HostFixture> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'raftchat-hosts-'));
  const cluster = HostCluster.create({
    prefix: HOST_TEST_PREFIX,
    subnet24: HOST_TEST_SUBNET,
    hosts: REPLICAS,
    dataDir,
    graceMs: 2_000,
    extraServeArgs: ['--log-level', process.env['RAFTCHAT_TEST_LOG_LEVEL'] ?? 'info'],
  });
  // The lab removes its namespaces on exit and SIGINT; the data goes with them.
  const removeData = (): void => {
    if (process.env['RAFTCHAT_KEEP_TEST_DATA'] === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', removeData);
  const single = cluster.clientAddresses.map((address) => new RaftchatClient({ servers: [address], deadlineMs: 1_000, attemptTimeoutMs: 1_000 }));
  const fixture: HostFixture = {
    cluster,
    dataDir,
    single,
    close: async () => {
      for (const client of single) client.close();
      await cluster.stop();
      process.off('exit', removeData);
      removeData();
    },
  };
  try {
    await cluster.start();
    await waitForLeader(fixture, allReplicas(), startupTimeoutMs);
  } catch (err) {
    await fixture.close();
    throw err;
  }
  return fixture;
}

export function allReplicas(): number[] {
  return Array.from({ length: REPLICAS }, (_, i) => i);
}

export async function statusOf(fixture: HostFixture, index: number): Promise<GetStatusResponse | undefined> {
  return fixture.single[index]!.statusOf(fixture.cluster.clientAddresses[index]!, { deadlineMs: 800 }).catch(() => undefined);
}

/** Waits until one of `among` reports itself leader (and, if given, with a term above `aboveTerm`). */
export async function waitForLeader(fixture: HostFixture, among: readonly number[], timeoutMs: number, aboveTerm = 0): Promise<{ index: number; term: number }> {
  return waitFor(`a leader among n${among.join(',n')}`, timeoutMs, async () => {
    const statuses = await Promise.all(among.map((i) => statusOf(fixture, i)));
    const leader = statuses.findIndex((s) => s?.role === 'leader' && s.term > aboveTerm);
    return leader < 0 ? undefined : { index: among[leader]!, term: statuses[leader]!.term };
  }, 100);
}

/** Waits until every replica follows the same leader in the same term and has applied the same index. */
export async function waitForAgreement(fixture: HostFixture, timeoutMs: number): Promise<{ leader: string; term: number; appliedIndex: number }> {
  return waitFor('every replica to agree on the leader and the applied index', timeoutMs, async () => {
    const statuses = await Promise.all(allReplicas().map((i) => statusOf(fixture, i)));
    if (statuses.some((s) => s === undefined)) return undefined;
    const all = statuses as GetStatusResponse[];
    const one = <T>(pick: (s: GetStatusResponse) => T): boolean => new Set(all.map(pick)).size === 1;
    if (!one((s) => s.leaderId) || !one((s) => s.term) || !one((s) => s.appliedIndex) || all[0]!.leaderId === '') return undefined;
    return { leader: all[0]!.leaderId, term: all[0]!.term, appliedIndex: all[0]!.appliedIndex };
  }, 200);
}

/** A running workload over every replica, small enough for two shared cores. */
export async function startWorkload(fixture: HostFixture, options: Partial<WorkloadOptions> = {}): Promise<Workload> {
  const workload = new Workload({ servers: fixture.cluster.clientAddresses, users: 2, senders: 3, pauseBetweenSendsMs: 10, ...options });
  await workload.start();
  return workload;
}

/** Stops the workload and asserts that every replica holds every acknowledged send exactly once. */
export async function stopAndVerify(fixture: HostFixture, workload: Workload): Promise<{ acknowledged: number }> {
  const result = await workload.stop();
  const endpoints = fixture.cluster.specs.map((s) => ({ id: s.id, address: s.clientAddress }));
  const report = await verifyWorkload(result, endpoints, { convergeTimeoutMs: 30_000 });
  assert.ok(report.ok, formatReport(report));
  assert.ok(report.counts.acknowledged > 0, 'the workload got nothing acknowledged');
  return { acknowledged: report.counts.acknowledged };
}

export function others(index: number): number[] {
  return allReplicas().filter((i) => i !== index);
}
