// The whole monitoring path against real parts: a real Prometheus scrapes a real 5-replica cluster
// (LocalCluster: five `chatd serve` processes) under a chat workload, with the leader SIGKILLed
// halfway. Then every dashboard query and every alert rule must return data, and the leader
// metrics must tell the story of the kill.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RaftchatClient } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/cli/local.js';
import { waitFor } from '../support/wait.js';
import { dashboardQueries, resolveGrafanaVariables, underlyingExpressions } from '../support/promql.js';
import { freeLocalClusterBasePort } from './support/ports.js';
import { Prometheus, requirePrometheusBinaries } from './support/prometheus.js';
import { Workload } from './support/workload.js';

const repoRoot = resolve(import.meta.dirname, '../../..');
const dashboard = JSON.parse(readFileSync(join(repoRoot, 'monitoring/grafana/raftchat-dashboard.json'), 'utf8')) as Parameters<typeof dashboardQueries>[0];
const alertRules = join(repoRoot, 'monitoring/prometheus/raftchat-alerts.yaml');
const REPLICAS = 5;
const JOB = 'raftchat';
/** Workload time on each side of the kill: enough 1 s scrapes for rate() and the 5m-window rules. */
const PHASE_MS = 15_000;

const nowSeconds = () => Date.now() / 1000;

describe('metrics of a real cluster scraped by a real Prometheus', function () {
  this.timeout(240_000);

  let root: string;
  let cluster: LocalCluster | undefined;
  let prometheus: Prometheus | undefined;
  let workload: Workload | undefined;
  let startedAt: number;
  let beforeKillAt: number;
  let endedAt: number;
  let oldLeader: { id: string; instance: string };
  let newLeaderId: string;

  before(async function () {
    requirePrometheusBinaries();
    root = mkdtempSync(join(tmpdir(), 'raftchat-metrics-e2e-'));
    const basePort = await freeLocalClusterBasePort(REPLICAS);
    cluster = new LocalCluster({ replicas: REPLICAS, dataDir: join(root, 'cluster'), basePort, graceMs: 3_000, chatdEntry: process.env['SCRATCH_CHATD'] });
    await cluster.start();
    const client = new RaftchatClient({ servers: cluster.clientAddresses, deadlineMs: 30_000 });
    try {
      await client.waitForLeader({ deadlineMs: 30_000 });
    } finally {
      client.close();
    }

    const targets = cluster.specs.map((s) => s.metricsAddress);
    prometheus = await Prometheus.start({ dir: root, targets, jobName: JOB, ruleFiles: [alertRules] });
    const prom = prometheus;
    startedAt = nowSeconds();
    await waitFor('Prometheus to scrape every replica', async () => ((await prom.scalar('sum(up)').catch(() => 0)) === REPLICAS ? true : undefined), 30_000, 250);

    workload = new Workload({ servers: cluster.clientAddresses, users: 6, pauseMs: 60, maxDurationMs: 4 * PHASE_MS });
    await workload.start();
    await new Promise((r) => setTimeout(r, PHASE_MS));

    // The leader as Prometheus last saw it, with every replica agreeing there is one.
    const leaderSeries = await waitFor('Prometheus to see one leader known to all', async () => {
      const leaders = await prom.query('raftchat_raft_is_leader == 1');
      const knowing = await prom.scalar('sum(raftchat_raft_has_leader)').catch(() => 0);
      return leaders.length === 1 && knowing === REPLICAS ? leaders[0] : undefined;
    }, 30_000, 250);
    beforeKillAt = nowSeconds();
    const instance = leaderSeries.metric['instance'];
    const index = cluster.specs.findIndex((s) => s.metricsAddress === instance);
    oldLeader = { id: cluster.specs[index].id, instance };

    cluster.kill(index, 'SIGKILL');
    await cluster.waitForExit(index);

    newLeaderId = await waitFor('Prometheus to see a new leader known to every survivor', async () => {
      const leaders = await prom.query('raftchat_raft_is_leader == 1');
      const knowing = await prom.scalar(`sum(raftchat_raft_has_leader{instance!="${instance}"})`).catch(() => 0);
      const up = await prom.scalar(`up{instance="${instance}"}`).catch(() => 1);
      if (leaders.length !== 1 || leaders[0].metric['instance'] === instance || knowing !== REPLICAS - 1 || up !== 0) return undefined;
      return cluster?.specs.find((s) => s.metricsAddress === leaders[0].metric['instance'])?.id;
    }, 60_000, 250);
    await new Promise((r) => setTimeout(r, PHASE_MS));
    await workload.stop();
    // Two more scrapes and rule evaluations after the workload, so the newest samples are in.
    await new Promise((r) => setTimeout(r, 2_500));
    endedAt = nowSeconds();
  });

  after(async () => {
    await workload?.stop().catch(() => undefined);
    await prometheus?.stop();
    await cluster?.stop();
    if (root !== undefined && process.env['RAFTCHAT_KEEP_TEST_DATA'] === undefined) rmSync(root, { recursive: true, force: true });
  });

  it('ran a workload that wrote through the kill', () => {
    assert.ok(workload !== undefined && workload.sent > 50, `only ${workload?.sent} messages were sent`);
    assert.ok(workload.refused > 0, 'the refused requests ran');
  });

  it('scraped the replicas without namespace or release labels (a static config), and the job variable finds them', async () => {
    const prom = prometheus!;
    const series = await prom.query('raftchat_raft_term');
    assert.equal(series.length, REPLICAS - 1);
    for (const s of series) {
      assert.equal(s.metric['namespace'], undefined);
      assert.equal(s.metric['release'], undefined);
    }
    assert.deepEqual(await prom.labelValues('job', 'raftchat_raft_term'), [JOB]);
  });

  it('returns data for every query of the dashboard, with its variables at their defaults', async () => {
    const prom = prometheus!;
    const queries = dashboardQueries(dashboard);
    const broken: string[] = [];
    for (const { where, expr } of queries) {
      const promql = resolveGrafanaVariables(expr, '1m');
      try {
        const result = await prom.queryRange(promql, startedAt, endedAt, 2);
        // NaN everywhere (e.g. a quantile of a histogram nothing was observed into) draws nothing either.
        if (!result.some((s) => (s.values ?? []).some(([, v]) => v !== 'NaN'))) broken.push(`${where}: no data for ${promql}`);
      } catch (err) {
        broken.push(`${where}: ${(err as Error).message} in ${promql}`);
      }
    }
    assert.deepEqual(broken, [], `${broken.length} of ${queries.length} dashboard queries are broken panels`);
  });

  it('evaluates every alert rule without error, and the series under each threshold exist', async () => {
    const prom = prometheus!;
    const rules = (await prom.rules()).filter((r) => r.type === 'alerting');
    assert.equal(rules.length, 8);
    const broken: string[] = [];
    for (const rule of rules) {
      if (rule.health !== 'ok') broken.push(`${rule.name}: health ${rule.health} ${rule.lastError ?? ''}`);
      for (const expr of underlyingExpressions(rule.query)) {
        const result = await prom.query(expr, endedAt).catch((err: Error) => err);
        if (result instanceof Error) broken.push(`${rule.name}: ${result.message} in ${expr}`);
        else if (!result.some((s) => s.value !== undefined && s.value[1] !== 'NaN')) broken.push(`${rule.name}: no data for ${expr}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('observed what the replicas\' hooks feed: fsync, append-to-durable, commit and apply latency, applied entries', async () => {
    const prom = prometheus!;
    const missing: string[] = [];
    for (const name of [
      'raftchat_storage_fsync_duration_seconds_count',
      'raftchat_raft_append_durable_duration_seconds_count',
      'raftchat_raft_proposal_commit_duration_seconds_count',
      'raftchat_raft_apply_duration_seconds_count',
      'raftchat_raft_applied_entries_total',
      'raftchat_raft_proposals_committed_total',
      'raftchat_storage_log_written_bytes_total',
    ]) {
      if (!((await prom.scalar(`sum(${name})`, endedAt)) > 0)) missing.push(name);
    }
    assert.deepEqual(missing, [], 'nothing was observed into these: is the hook wired?');
  });

  it('shows the kill: has-leader summed over replicas drops from 5 to 4 and leadership moves', async () => {
    const prom = prometheus!;
    assert.equal(await prom.scalar('sum(raftchat_raft_has_leader)', beforeKillAt), REPLICAS);
    assert.equal(await prom.scalar('sum(raftchat_raft_has_leader)', endedAt), REPLICAS - 1);
    assert.equal(await prom.scalar(`up{instance="${oldLeader.instance}"}`, endedAt), 0);
    const leaders = await prom.query('raftchat_raft_is_leader == 1', endedAt);
    assert.equal(leaders.length, 1);
    assert.notEqual(leaders[0].metric['instance'], oldLeader.instance);
    assert.notEqual(newLeaderId, oldLeader.id);
    const info = await prom.query(`raftchat_replica_info and on (instance) (raftchat_raft_is_leader == 1)`, endedAt);
    assert.equal(info[0]?.metric['node_id'], newLeaderId, 'the dashboard\'s Leader panel names the new leader');
    assert.ok((await prom.scalar('max(raftchat_raft_term)', endedAt)) > (await prom.scalar('max(raftchat_raft_term)', beforeKillAt)), 'the term rose');
  });

  it('counts the new leader on every survivor: each one\'s leader changes increase', async () => {
    const prom = prometheus!;
    const before = await prom.query('raftchat_raft_leader_changes_seen_total', beforeKillAt);
    const after = await prom.query('raftchat_raft_leader_changes_seen_total', endedAt);
    assert.equal(before.length, REPLICAS);
    assert.equal(after.length, REPLICAS - 1);
    for (const s of after) {
      const instance = s.metric['instance'];
      const was = before.find((b) => b.metric['instance'] === instance);
      assert.ok(was !== undefined, `${instance} was scraped before the kill`);
      assert.ok(Number(s.value![1]) > Number(was.value![1]), `${instance}: leader changes ${was.value![1]} → ${s.value![1]}`);
    }
    // A range keeps the killed replica's last samples (flat: no change) for 5 minutes; only survivors count.
    const increase = await prom.query(`increase(raftchat_raft_leader_changes_seen_total{instance!="${oldLeader.instance}"}[5m])`, endedAt);
    assert.equal(increase.length, REPLICAS - 1);
    for (const s of increase) assert.ok(Number(s.value![1]) > 0, `${s.metric['instance']}: the leader-change panel shows no change`);
  });

  it('counts the workload: messages sent, SendMessage calls handled, and a commit index covering them', async () => {
    const prom = prometheus!;
    const messages = await prom.scalar('sum(raftchat_chat_messages_sent_total)', endedAt);
    // The killed replica's count left the sum with it, so only a lower bound of sorts holds.
    assert.ok(messages > 0, `messages_sent is ${messages} after ${workload!.sent} acknowledged sends`);
    const handled = await prom.scalar('sum(grpc_server_handled_total{grpc_method="SendMessage", grpc_code="OK"})', endedAt);
    assert.ok(handled > 0);
    const committed = await prom.scalar('max(raftchat_raft_commit_index)', endedAt);
    assert.ok(committed >= messages, `commit index ${committed} covers the ${messages} messages counted`);
  });
});
