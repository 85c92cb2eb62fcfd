// The whole monitoring path against real parts: a real Prometheus scrapes a real 5-replica cluster
// (LocalCluster: five `chatd serve` processes) under a chat workload. Halfway the leader is
// SIGKILLed; later it restarts behind the compacted log and catches up through a snapshot. Then
// every dashboard query and every alert rule must return data, and the leader, has-leader and
// snapshot metrics must tell the story.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RaftchatClient } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/cli/local.js';
import { waitFor } from '../support/wait.js';
import { dashboardQueries, resolveGrafanaVariables, underlyingExpressions } from '../support/promql.js';
import { freeLocalClusterBasePort } from './support/ports.js';
import { Prometheus, requirePrometheusBinaries, type Series } from './support/prometheus.js';
import { Workload } from './support/workload.js';
import { chatdEntryOption } from '../../support/chatd-command.js';

const repoRoot = resolve(import.meta.dirname, '../../..');
const dashboard = JSON.parse(readFileSync(join(repoRoot, 'monitoring/grafana/raftchat-dashboard.json'), 'utf8')) as Parameters<typeof dashboardQueries>[0];
const alertRules = join(repoRoot, 'monitoring/prometheus/raftchat-alerts.yaml');
const REPLICAS = 5;
const JOB = 'raftchat';
/** Workload time on each side of the kill: enough 1 s scrapes for rate() and the 5m-window rules. */
const PHASE_MS = 15_000;
/** Compact often, so the restarted replica is behind the compacted log and needs a snapshot. */
const SNAPSHOT_EVERY_ENTRIES = 100;

/** The last lines of every replica's log, for a failure message. */
function replicaLogTails(cluster: LocalCluster, lines = 8): string {
  return cluster.specs
    .map((s) => {
      const text = existsSync(s.logFile) ? readFileSync(s.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
      return `--- ${s.id} (${s.logFile})\n${text}`;
    })
    .join('\n');
}

const valueOf = (s: Series | undefined) => Number(s?.value?.[1]);
const hasNumber = (s: Series) => (s.values ?? (s.value === undefined ? [] : [s.value])).some(([, v]) => v !== 'NaN');

describe('metrics of a real cluster scraped by a real Prometheus', function () {
  this.timeout(300_000);

  let root: string;
  let cluster: LocalCluster | undefined;
  let prometheus: Prometheus | undefined;
  let workload: Workload | undefined;
  // Prometheus evaluation times (seconds) of the moments the checks look back at.
  let startedAt: number;
  let beforeKillAt: number;
  let afterFailoverAt: number;
  let endedAt: number;
  let oldLeader: { id: string; instance: string };
  let newLeaderId: string;

  before(async function () {
    requirePrometheusBinaries();
    root = mkdtempSync(join(tmpdir(), 'raftchat-metrics-e2e-'));
    const basePort = await freeLocalClusterBasePort(REPLICAS);
    const local = new LocalCluster({
      replicas: REPLICAS,
      dataDir: join(root, 'cluster'),
      basePort,
      graceMs: 3_000,
      extraServeArgs: ['--snapshot-entries', String(SNAPSHOT_EVERY_ENTRIES)],
      ...chatdEntryOption(),
    });
    cluster = local;
    await local.start();
    const client = new RaftchatClient({ servers: local.clientAddresses, deadlineMs: 60_000 });
    try {
      await client.waitForLeader({ deadlineMs: 60_000 });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${replicaLogTails(local)}`);
    } finally {
      client.close();
    }

    const prom = await Prometheus.start({ dir: root, targets: local.specs.map((s) => s.metricsAddress), jobName: JOB, ruleFiles: [alertRules] });
    prometheus = prom;
    startedAt = Date.now() / 1000;
    await waitFor(
      'Prometheus to scrape every replica (does `chatd serve --metrics-addr` start startMetricsServer?)',
      async () => ((await prom.scalar('sum(up)').catch(() => 0)) === REPLICAS ? true : undefined),
      30_000,
      250,
    );

    workload = new Workload({ servers: local.clientAddresses, users: 6, pauseMs: 60, maxDurationMs: 5 * PHASE_MS });
    await workload.start();
    await delay(PHASE_MS);

    // The leader as Prometheus sees it, with every replica agreeing there is one.
    const leaderSeries = await waitFor('Prometheus to see one leader known to all', async () => {
      const leaders = await prom.query('raftchat_raft_is_leader == 1');
      const knowing = await prom.scalar('sum(raftchat_raft_has_leader)').catch(() => 0);
      return leaders.length === 1 && knowing === REPLICAS ? leaders[0] : undefined;
    }, 30_000, 250);
    beforeKillAt = leaderSeries.value![0];
    // A scrape is stamped with its start time: one still running at the kill would fail and, stamped
    // before it, take the leader's series away from beforeKillAt. Let those in flight finish first.
    await delay(1_500);
    const instance = leaderSeries.metric['instance'];
    const index = local.specs.findIndex((s) => s.metricsAddress === instance);
    oldLeader = { id: local.specs[index].id, instance };

    local.kill(index, 'SIGKILL');
    await local.waitForExit(index);

    const failover = await waitFor('Prometheus to see a new leader known to every survivor', async () => {
      const leaders = await prom.query('raftchat_raft_is_leader == 1');
      const knowing = await prom.query(`sum(raftchat_raft_has_leader{instance!="${instance}"})`);
      const up = await prom.scalar(`up{instance="${instance}"}`).catch(() => 1);
      if (leaders.length !== 1 || leaders[0].metric['instance'] === instance || valueOf(knowing[0]) !== REPLICAS - 1 || up !== 0) return undefined;
      return { leader: leaders[0], at: knowing[0].value![0] };
    }, 60_000, 250);
    newLeaderId = local.specs.find((s) => s.metricsAddress === failover.leader.metric['instance'])?.id ?? '?';
    await delay(PHASE_MS);
    afterFailoverAt = (await prom.query('vector(1)'))[0].value![0];
    await delay(1_500);

    // Back on its old data, far behind the compacted log: the leader must send it a snapshot.
    await local.startReplica(index);
    await waitFor('the restarted replica to catch up and know the leader', async () => {
      const knowing = await prom.scalar('sum(raftchat_raft_has_leader)').catch(() => 0);
      const behind = await prom.scalar(`max(raftchat_raft_commit_index) - on () raftchat_raft_applied_index{instance="${instance}"}`).catch(() => Infinity);
      return knowing === REPLICAS && behind < SNAPSHOT_EVERY_ENTRIES ? true : undefined;
    }, 60_000, 250);
    await workload.stop();
    // Two more scrapes and rule evaluations after the workload, so the newest samples are in.
    await delay(2_500);
    endedAt = (await prom.query('vector(1)'))[0].value![0];
  });

  after(async () => {
    await workload?.stop().catch(() => undefined);
    await prometheus?.stop();
    await cluster?.stop();
    if (root !== undefined && process.env['RAFTCHAT_KEEP_TEST_DATA'] === undefined) rmSync(root, { recursive: true, force: true });
  });

  it('ran a workload that wrote through the kill and the restart', () => {
    assert.ok(workload !== undefined && workload.sent > 50, `only ${workload?.sent} messages were sent`);
    assert.ok(workload.refused > 0, 'the refused requests ran');
  });

  it('scraped the replicas without namespace or release labels (a static config), and the job variable finds them', async () => {
    const prom = prometheus!;
    const series = await prom.query('raftchat_raft_term', endedAt);
    assert.equal(series.length, REPLICAS);
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
        // NaN everywhere (e.g. a quantile of a histogram nothing was observed into) draws nothing either.
        if (!(await prom.queryRange(promql, startedAt, endedAt, 2)).some(hasNumber)) broken.push(`${where}: no data for ${promql}`);
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
        else if (!result.some(hasNumber)) broken.push(`${rule.name}: no data for ${expr}`);
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

  it('shows the kill: has-leader summed over replicas goes 5, 4, then 5 again, and leadership moves', async () => {
    const prom = prometheus!;
    assert.equal(await prom.scalar('sum(raftchat_raft_has_leader)', beforeKillAt), REPLICAS);
    assert.equal(await prom.scalar('sum(raftchat_raft_has_leader)', afterFailoverAt), REPLICAS - 1);
    assert.equal(await prom.scalar('sum(raftchat_raft_has_leader)', endedAt), REPLICAS);
    assert.equal(await prom.scalar(`up{instance="${oldLeader.instance}"}`, afterFailoverAt), 0);
    const leaders = await prom.query('raftchat_raft_is_leader == 1', afterFailoverAt);
    assert.equal(leaders.length, 1);
    assert.notEqual(leaders[0].metric['instance'], oldLeader.instance);
    assert.notEqual(newLeaderId, oldLeader.id);
    const panel = await prom.query('raftchat_replica_info and on (instance, job) (raftchat_raft_is_leader == 1)', afterFailoverAt);
    assert.equal(panel[0]?.metric['node_id'], newLeaderId, 'the dashboard\'s Leader panel names the new leader');
    assert.ok((await prom.scalar('max(raftchat_raft_term)', afterFailoverAt)) > (await prom.scalar('max(raftchat_raft_term)', beforeKillAt)), 'the term rose');
  });

  it('counts the new leader on every survivor: each one\'s leader changes increase', async () => {
    const prom = prometheus!;
    const before = await prom.query('raftchat_raft_leader_changes_seen_total', beforeKillAt);
    const after = await prom.query('raftchat_raft_leader_changes_seen_total', afterFailoverAt);
    assert.equal(before.length, REPLICAS);
    assert.equal(after.length, REPLICAS - 1);
    for (const s of after) {
      const instance = s.metric['instance'];
      const was = before.find((b) => b.metric['instance'] === instance);
      assert.ok(was !== undefined, `${instance} was scraped before the kill`);
      assert.ok(valueOf(s) > valueOf(was), `${instance}: leader changes ${valueOf(was)} → ${valueOf(s)}`);
    }
    // A range keeps the killed replica's last samples (flat: no change) for a while; only survivors count.
    const increase = await prom.query(`increase(raftchat_raft_leader_changes_seen_total{instance!="${oldLeader.instance}"}[5m])`, afterFailoverAt);
    assert.equal(increase.length, REPLICAS - 1);
    for (const s of increase) assert.ok(valueOf(s) > 0, `${s.metric['instance']}: the leader-change panel shows no change`);
  });

  it('counts the snapshot that brought the restarted replica back: sent by the leader, received by it, with bytes', async () => {
    const prom = prometheus!;
    assert.ok((await prom.scalar('sum(raftchat_raft_snapshots_sent_total)', endedAt)) >= 1, 'snapshots sent');
    assert.ok((await prom.scalar('sum(raftchat_raft_snapshot_sent_bytes_total)', endedAt)) > 0, 'snapshot bytes sent');
    const received = await prom.query(`raftchat_raft_snapshots_received_total{instance="${oldLeader.instance}"}`, endedAt);
    assert.ok(valueOf(received[0]) >= 1, 'the restarted replica received a snapshot');
    assert.ok((await prom.scalar('sum(raftchat_raft_snapshot_received_bytes_total)', endedAt)) > 0, 'snapshot bytes received');
  });

  it('counts the workload: messages sent, SendMessage calls handled, accounts, subscribers, and a commit index covering them', async () => {
    const prom = prometheus!;
    const messages = await prom.scalar('sum(raftchat_chat_messages_sent_total)', afterFailoverAt);
    // The killed replica's count left the sum with it, so only a lower bound of sorts holds.
    assert.ok(messages > 0, `messages_sent is ${messages} after ${workload!.sent} acknowledged sends`);
    assert.ok((await prom.scalar('sum(grpc_server_handled_total{grpc_method="SendMessage", grpc_code="OK"})', endedAt)) > 0);
    assert.ok((await prom.scalar('max(raftchat_chat_accounts)', endedAt)) >= 6, 'the six users\' accounts are counted');
    const watching = await prom.queryRange('sum(raftchat_chat_subscribers)', beforeKillAt - 10, beforeKillAt, 1);
    assert.ok(watching[0]?.values?.some(([, v]) => Number(v) > 0), 'the inbox watches showed as live subscribers');
    const committed = await prom.scalar('max(raftchat_raft_commit_index)', afterFailoverAt);
    assert.ok(committed >= messages, `commit index ${committed} covers the ${messages} messages counted`);
  });
});
